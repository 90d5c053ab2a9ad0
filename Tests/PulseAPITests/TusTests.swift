import AsyncHTTPClient
import Foundation
import NIOCore
@testable import PulseAPI
import PulseJobs
import PulseStorage
import PulseTestSupport
import Testing

/// tus 1.0.0 uploads (`"upload_type": "tus"`), on local storage and on S3 (moto), on both engines: the protocol's
/// edges (version, content type, offset, length, termination, one PATCH at a time), bytes sent in
/// PATCHes that do not line up with the parts, the offset as storage holds it, and the last byte
/// completing the upload by itself.
@Suite("tus uploads")
struct TusTests {
    typealias Storage = MultipartAPITests.Storage
    static let partSize = MultipartAPITests.partSize

    /// A server without workers (the bytes are not a video; nothing is processed), with 5 MiB parts.
    func withServer(
        _ storage: Storage, _ engine: Engine = .sqlite, _ body: @escaping (TestServer, MotoBucket?) async throws -> Void
    ) async throws {
        try await MultipartAPITests().withServer(storage, engine, worker: false, body)
    }

    /// Bytes that differ at every offset, so a part stored in the wrong place shows.
    static func bytes(_ count: Int) -> Data {
        Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 251) })
    }

    static let tus = [("Tus-Resumable", "1.0.0")]

    func patch(_ url: String, offset: Int, _ data: Data, headers: [(String, String)] = tus + [("Content-Type", "application/offset+octet-stream")])
        async throws -> HTTPResult
    {
        try await send(.PATCH, url, headers: headers + [("Upload-Offset", String(offset))], body: data)
    }

    func offset(_ url: String) async throws -> Int? {
        let head = try await send(.HEAD, url, headers: Self.tus)
        #expect(head.status == 200)
        return head.headers.first(name: "Upload-Offset").flatMap { Int($0) }
    }

    @Test("PATCHes across part boundaries, a pending tail read back, the last byte completes; complete then changes nothing",
          .timeLimit(.minutes(3)), arguments: MultipartAPITests.storages, Engine.all)
    func upload(storage: Storage, engine: Engine) async throws {
        let file = Self.bytes(3 * Self.partSize + 123_457)
        try await withServer(storage, engine) { server, bucket in
            let created = try await server.createAsset(tus: file.count)
            let id = try #require(created["id"] as? String)
            let token = try #require(created["token"] as? String)
            let upload = try #require(created["upload"] as? [String: Any])
            #expect(upload["method"] as? String == "tus" && upload["expires_at"] is String)
            let url = try #require(upload["url"] as? String)
            #expect(url == "\(server.baseURL)/tus/\(id)?token=\(token)")

            let options = try await send(.OPTIONS, url)
            #expect(options.status == 204)
            #expect(options.headers.first(name: "Tus-Version") == "1.0.0" && options.headers.first(name: "Tus-Extension") == "termination")
            #expect(options.headers.first(name: "Tus-Max-Size") == String(server.server.configuration.maxUploadBytes))
            let head = try await send(.HEAD, url, headers: Self.tus)
            #expect(head.status == 200 && head.headers.first(name: "Upload-Length") == String(file.count))
            #expect(head.headers.first(name: "Upload-Offset") == "0" && head.headers.first(name: "Cache-Control") == "no-store")
            #expect(head.headers.first(name: "Tus-Resumable") == "1.0.0")

            // Cuts that fall inside parts and across them: 3 MiB, then to 1 byte past part 1, then
            // 6 MiB (across part 2's end), then the rest.
            let cuts = [0, 3 << 20, Self.partSize + 1, Self.partSize + 1 + (6 << 20), file.count]
            for (start, end) in zip(cuts, cuts.dropFirst()) {
                let answer = try await patch(url, offset: start, file.subdata(in: start..<end))
                #expect(answer.status == 204, "\(start)..<\(end): \(answer.text)")
                #expect(answer.headers.first(name: "Upload-Offset") == String(end))
                #expect(answer.headers.first(name: "Tus-Resumable") == "1.0.0")
                if end < file.count {
                    #expect(try await offset(url) == end)
                    let asset = try await send(.GET, "\(server.baseURL)/v1/assets/\(id)", bearer: token).json
                    #expect(asset["status"] as? String == "awaiting_upload")
                }
            }
            // Queued by the last byte, with the size measured; the object is the file, nothing pending is left.
            let asset = try await send(.GET, "\(server.baseURL)/v1/assets/\(id)", bearer: token).json
            #expect(asset["status"] as? String == "queued" && asset["size"] as? Int == file.count, "\(asset)")
            let key = "uploads/\(id)/clip.mp4"
            let stored = try await server.runtime.store.getBytes(key: key, upTo: 64 << 20)
            #expect(Data(stored.readableBytesView) == file)
            #expect(try await server.runtime.store.list(prefix: "uploads/\(id)/").map(\.key) == [key])
            if let bucket { #expect(try await bucket.unfinishedUploads().isEmpty) }
            // Complete is accepted and changes nothing; HEAD says it is all there; no more bytes.
            let complete = try await send(.POST, "\(server.baseURL)/v1/assets/\(id)/complete", bearer: token)
            #expect(complete.status == 202 && complete.json["status"] as? String == "queued")
            #expect(try await offset(url) == file.count)
            let late = try await patch(url, offset: file.count, Data([1]))
            #expect(late.status == 413 || late.status == 409, "\(late.text)")
        }
    }

    @Test("the protocol's refusals: version, content type, offset, length, credentials, complete too early")
    func refusals() async throws {
        try await withServer(.local) { server, _ in
            let size = 100
            let created = try await server.createAsset(tus: size)
            let id = try #require(created["id"] as? String)
            let url = try #require((created["upload"] as? [String: Any])?["url"] as? String)
            let bare = "\(server.baseURL)/tus/\(id)"
            let type = ("Content-Type", "application/offset+octet-stream")

            let noVersion = try await patch(url, offset: 0, Data([1]), headers: [type])
            #expect(noVersion.status == 412 && noVersion.errorCode == "ERR_TUS_VERSION", "\(noVersion.text)")
            #expect(noVersion.headers.first(name: "Tus-Resumable") == "1.0.0" && noVersion.headers.first(name: "Tus-Version") == "1.0.0")
            let oldVersion = try await patch(url, offset: 0, Data([1]), headers: [("Tus-Resumable", "0.2.2"), type])
            #expect(oldVersion.status == 412)
            let wrongType = try await patch(url, offset: 0, Data([1]), headers: Self.tus + [("Content-Type", "application/octet-stream")])
            #expect(wrongType.status == 415 && wrongType.errorCode == "ERR_UNSUPPORTED_MEDIA_TYPE", "\(wrongType.text)")
            #expect(wrongType.headers.first(name: "Tus-Resumable") == "1.0.0")
            let ahead = try await patch(url, offset: 5, Data([1]))
            #expect(ahead.status == 409 && ahead.errorCode == "ERR_CONFLICT" && ahead.headers.first(name: "Upload-Offset") == "0", "\(ahead.text)")
            let past = try await patch(url, offset: 0, Self.bytes(size + 1))
            #expect(past.status == 413 && past.errorCode == "ERR_UPLOAD_TOO_LARGE", "\(past.text)")
            #expect(try await offset(url) == 0)
            // Credentials: none, another asset's token, the API key on the bare URL.
            #expect(try await send(.HEAD, bare, headers: Self.tus).status == 401)
            let other = try await server.createAsset(tus: size)
            #expect(try await send(.HEAD, bare, bearer: try #require(other["token"] as? String), headers: Self.tus).status == 403)
            #expect(try await send(.HEAD, bare, bearer: server.apiKey, headers: Self.tus).status == 200)
            // A tus upload is not a multipart upload, nor completed by hand.
            let parts = try await send(.GET, "\(server.baseURL)/v1/assets/\(id)/upload/parts", bearer: server.apiKey)
            #expect(parts.errorCode == "ERR_CONFLICT")
            let early = try await send(.POST, "\(server.baseURL)/v1/assets/\(id)/complete", bearer: server.apiKey)
            #expect(early.status == 409 && early.errorCode == "ERR_CONFLICT", "\(early.text)")
            // A single-PUT asset has no tus upload.
            let single = try await server.createAsset()
            let singleID = try #require(single["id"] as? String)
            #expect(try await send(.HEAD, "\(server.baseURL)/tus/\(singleID)", bearer: server.apiKey, headers: Self.tus).status == 404)
            // tus needs a size, as multipart does.
            let sizeless = try await send(.POST, "\(server.baseURL)/v1/assets", bearer: server.apiKey,
                                          body: json(["filename": "a.mp4", "upload_type": "tus"]))
            #expect(sizeless.errorCode == "ERR_INVALID_REQUEST")
        }
    }

    @Test("CORS: a browser's tus client may send PATCH and the tus headers, and read the tus answers")
    func cors() async throws {
        try await withServer(.local) { server, _ in
            let created = try await server.createAsset(tus: 100)
            let url = try #require((created["upload"] as? [String: Any])?["url"] as? String)
            let preflight = try await send(.OPTIONS, url, headers: [
                ("Origin", "https://chat.example"), ("Access-Control-Request-Method", "PATCH"),
                ("Access-Control-Request-Headers", "tus-resumable, upload-offset, content-type"),
            ])
            let methods = preflight.headers.first(name: "Access-Control-Allow-Methods") ?? ""
            let allowed = (preflight.headers.first(name: "Access-Control-Allow-Headers") ?? "").lowercased()
            #expect(methods.contains("PATCH"), "\(methods)")
            for header in ["tus-resumable", "upload-offset", "upload-length", "upload-metadata", "content-type"] {
                #expect(allowed.contains(header), "\(allowed)")
            }
            let head = try await send(.HEAD, url, headers: Self.tus + [("Origin", "https://chat.example")])
            let exposed = (head.headers.first(name: "Access-Control-Expose-Headers") ?? "").lowercased()
            for header in ["tus-resumable", "tus-version", "tus-extension", "tus-max-size", "upload-offset", "upload-length"] {
                #expect(exposed.contains(header), "\(exposed)")
            }
        }
    }

    @Test("one PATCH at a time: a second while the first's body is arriving is 409", .timeLimit(.minutes(2)))
    func onePatchAtATime() async throws {
        try await withServer(.local) { server, _ in
            let created = try await server.createAsset(tus: 1000)
            let url = try #require((created["upload"] as? [String: Any])?["url"] as? String)
            // The first PATCH announces 1000 bytes and sends 10, then waits.
            let (chunks, more) = AsyncStream.makeStream(of: ByteBuffer.self)
            more.yield(ByteBuffer(bytes: Self.bytes(10)))
            var request = HTTPClientRequest(url: url)
            request.method = .PATCH
            for (name, value) in Self.tus + [("Content-Type", "application/offset+octet-stream"), ("Upload-Offset", "0")] {
                request.headers.add(name: name, value: value)
            }
            request.body = .stream(chunks, length: .known(Int64(1000)))
            async let first = HTTPClient.shared.execute(request, timeout: .seconds(60))
            // Its first bytes are in the part file it fills.
            let incoming = server.dataDirectory + "/incoming"
            try await waitUntil("the first PATCH to be receiving", timeout: .seconds(20)) {
                ((try? FileManager.default.contentsOfDirectory(atPath: incoming)) ?? []).contains { $0.hasSuffix(".tus") }
            }
            let second = try await patch(url, offset: 0, Data([1]))
            #expect(second.status == 409 && second.errorCode == "ERR_CONFLICT", "\(second.text)")
            more.yield(ByteBuffer(bytes: Self.bytes(1000).subdata(in: 10..<1000)))
            more.finish()
            let answer = try await first
            let text = String(buffer: try await answer.body.collect(upTo: 1 << 16))
            #expect(answer.status.code == 204 && answer.headers.first(name: "Upload-Offset") == "1000", "\(answer.status): \(text)")
        }
    }

    @Test("DELETE terminates: the asset is deleted, nothing pending or partial is left", arguments: MultipartAPITests.storages)
    func terminate(storage: Storage) async throws {
        try await withServer(storage) { server, bucket in
            let created = try await server.createAsset(tus: 2 * Self.partSize)
            let id = try #require(created["id"] as? String)
            let url = try #require((created["upload"] as? [String: Any])?["url"] as? String)
            // A whole part and a pending tail.
            #expect(try await patch(url, offset: 0, Self.bytes(Self.partSize + 100)).status == 204)
            #expect(try await server.runtime.store.list(prefix: "uploads/\(id)/").count == 1)
            let deleted = try await send(.DELETE, url, headers: Self.tus)
            #expect(deleted.status == 204 && deleted.headers.first(name: "Tus-Resumable") == "1.0.0", "\(deleted.text)")
            #expect(try await send(.GET, "\(server.baseURL)/v1/assets/\(id)", bearer: server.apiKey).status == 404)
            #expect(try await send(.HEAD, url, headers: Self.tus).status == 404)
            #expect(try await server.runtime.store.list(prefix: "uploads/\(id)/").isEmpty)
            if let bucket { #expect(try await bucket.unfinishedUploads().isEmpty) }
        }
    }
}

extension TestServer {
    /// Creates an asset with a tus upload of `size` bytes; returns the create response.
    func createAsset(tus size: Int) async throws -> [String: Any] {
        try await createAsset(size: size, uploadType: "tus")
    }
}
