import AsyncHTTPClient
import Foundation
import NIOHTTP1
import PulseJobs
import PulseMedia
import PulseService
import PulseStorage
import PulseTestSupport
import SigV4
import Testing

/// Playlists on S3 are kept gzip-compressed with `Content-Encoding: gzip`, so a player that
/// fetches them from the bucket (`PULSE_PUBLIC_MEDIA_URL`) gets them compressed (Apple's HLS
/// rule 10.1); `/media/` still answers both kinds of client from them, and ffmpeg plays the
/// bucket's playlists.
@Suite("Playlists kept gzip-compressed on S3", .serialized)
struct StoredGzipTests {
    @Test(.enabled(if: TestServices.shouldRun("PULSE_TEST_S3_ENDPOINT")), .timeLimit(.minutes(3)))
    func bucketServesGzipAndMediaServesBoth() async throws {
        // A bucket anyone may read, as one behind PULSE_PUBLIC_MEDIA_URL is (moto takes an unsigned PUT).
        let bucket = MotoBucket(endpoint: try TestServices.plainEndpoint, name: "pulse-gzip-" + UUID().uuidString.lowercased().prefix(8))
        let made = try await send(.PUT, "\(bucket.endpoint)/\(bucket.name)", headers: [("x-amz-acl", "public-read")])
        try #require(made.status == 200, "create bucket: \(made.text)")
        let bucketMedia = "\(bucket.endpoint)/\(bucket.name)/media"
        try await TestServer.with(configure: { $0.publicMediaURL = bucketMedia }, configureAll: { configuration in
            configuration.runtime.storageURL = .s3(bucket: bucket.name, prefix: "media")
            configuration.runtime.s3 = S3Configuration(
                credentials: SigV4Credentials(accessKeyID: "test", secretAccessKey: "test"), endpoint: bucket.endpoint)
            configuration.pipeline.media.plainHTTP = PlainHTTPPolicy(endpoints: [bucket.endpoint])
        }) { server in
            let created = try await server.createAsset()
            let id = try #require(created["id"] as? String)
            #expect(try await server.upload(created, file: TestMedia.path("long_7s_320p.mp4")).status == 200)
            #expect(try await send(.POST, "\(server.baseURL)/v1/assets/\(id)/complete", bearer: server.apiKey).status == 202)
            let asset = try await waitForStatus("\(server.baseURL)/v1/assets/\(id)", bearer: server.apiKey, "ready", timeout: .seconds(120))
            let playlistURL = try #require(asset["playlist_url"] as? String)
            #expect(playlistURL == "\(bucketMedia)/processed/\(id)/master.m3u8")

            // From the bucket, as a player reaches it: each playlist gzip-compressed, as an
            // independent gzip reads it, and a playlist once inflated.
            let master = try await fromBucket(playlistURL)
            #expect(master.hasPrefix("#EXTM3U\n") && master.contains("#EXT-X-STREAM-INF:") && master.contains("#EXT-X-I-FRAME-STREAM-INF:"))
            let named = master.split(separator: "\n").flatMap { line -> [String] in
                if line.hasPrefix("#"), let uri = line.range(of: "URI=\"") {
                    return [String(line[uri.upperBound...].prefix { $0 != "\"" })]
                }
                return line.hasPrefix("#") || line.isEmpty ? [] : [String(line)]
            }
            #expect(named.contains { $0.hasSuffix("/iframes.m3u8") } && named.contains("audio/index.m3u8"), "\(named)")
            for uri in Set(named) {
                let text = try await fromBucket("\(bucketMedia)/processed/\(id)/\(uri)")
                #expect(text.hasPrefix("#EXTM3U\n") && text.contains("#EXTINF:") && text.hasSuffix("#EXT-X-ENDLIST\n"), "\(uri):\n\(text)")
            }
            // A player reading the bucket: ffmpeg takes the compressed playlists and decodes every stream.
            let decode = try ChildProcess.run("ffmpeg", ["-v", "error", "-nostdin", "-i", playlistURL, "-map", "0", "-f", "null", "-"])
            #expect(decode.status == 0, "ffmpeg: \(decode.output)")

            // Through /media/: gzip to a client that takes it (the stored bytes as they are), the
            // text to one that does not, and a range in the text's bytes.
            let media = "\(server.baseURL)/media/\(id)/master.m3u8"
            let compressed = try await raw(.GET, media, headers: [("Accept-Encoding", "gzip")])
            #expect(compressed.status == 200 && compressed.headers.first(name: "content-encoding") == "gzip")
            #expect(try gunzip(compressed.body) == master)
            let plain = try await raw(.GET, media)
            #expect(plain.status == 200 && plain.headers.first(name: "content-encoding") == nil)
            #expect(String(decoding: plain.body, as: UTF8.self) == master)
            #expect(plain.headers.first(name: "vary") == "Accept-Encoding" && compressed.headers.first(name: "vary") == "Accept-Encoding")
            #expect(plain.headers.first(name: "etag") != compressed.headers.first(name: "etag"))
            let range = try await raw(.GET, media, headers: [("Accept-Encoding", "gzip"), ("Range", "bytes=0-6")])
            #expect(range.status == 206 && String(decoding: range.body, as: UTF8.self) == "#EXTM3U" && range.headers.first(name: "content-encoding") == nil)
            #expect(range.headers.first(name: "content-range") == "bytes 0-6/\(master.utf8.count)")
            let head = try await raw(.HEAD, media, headers: [("Accept-Encoding", "gzip")])
            #expect(head.status == 200 && head.headers.first(name: "content-length") == String(compressed.body.count))
        }
    }

    /// GETs `url` straight from the bucket; checks the answer is a gzip-compressed playlist and
    /// returns its text.
    private func fromBucket(_ url: String) async throws -> String {
        let answer = try await raw(.GET, url, headers: [("Accept-Encoding", "gzip")])
        #expect(answer.status == 200, "\(url): \(answer.status)")
        #expect(answer.headers.first(name: "content-encoding") == "gzip", "\(url)")
        #expect(answer.headers.first(name: "content-type") == "application/vnd.apple.mpegurl", "\(url)")
        return try gunzip(answer.body)
    }

    /// An answer as it came over the wire: a client that inflates nothing (the one S3 stores use),
    /// so a compressed body stays compressed.
    private func raw(_ method: HTTPMethod, _ url: String, headers: [(String, String)] = []) async throws -> (status: Int, headers: HTTPHeaders, body: Data) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.storage.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), response.headers, Data(body.readableBytesView))
    }

    /// `bytes` inflated by the system's gzip, a reader of our own making nothing.
    private func gunzip(_ bytes: Data) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-stored-\(UUID().uuidString).gz").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try bytes.write(to: URL(fileURLWithPath: path))
        let result = try ChildProcess.run("gzip", ["-dc", path])
        try #require(result.status == 0, "gzip: \(result.output); \(bytes.count) bytes: \(Array(bytes.prefix(16)))")
        return result.output
    }
}
