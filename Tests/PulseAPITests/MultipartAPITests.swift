import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
@testable import PulseAPI
import PulseService
import PulseDatabase
import PulseMedia
import PulseStorage
import PulseSupport
import PulseTestSupport
import SigV4
import Synchronization
import Testing

/// Resumable uploads through the API, on local storage and on S3 (moto), on both
/// engines: a multipart upload interrupted after half its parts, resumed from `GET
/// .../upload/parts` with nothing but the asset id and token, completed, and processed to ready;
/// the checks of `complete`; the part door; and aborts that leave no parts behind.
@Suite("Multipart uploads through the API")
struct MultipartAPITests {
    enum Storage: String, Sendable, CustomTestStringConvertible {
        case local, s3
        var testDescription: String { rawValue }
    }

    static let storages: [Storage] = TestServices.shouldRun("PULSE_TEST_S3_ENDPOINT") ? [.local, .s3] : [.local]
    static let partSize = 5 << 20

    /// A real video of about 26 MB (2 s of noise, lossless), made once with ffmpeg: big enough for
    /// six parts of S3's smallest size.
    static let bigClip: Task<String, any Error> = Task { try await onOwnThread { makeBigClip() } }
    private static func makeBigClip() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-multipart-\(ProcessInfo.processInfo.processIdentifier).mp4").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30,noise=alls=60:allf=t",
                             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "2", "-c:v", "libx264",
                             "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path]
        try? process.run()
        process.waitUntilExit()
        return path
    }

    /// A server on `storage` and `engine`, with 5 MiB parts (and an embedded worker unless `worker` is false).
    func withServer(
        _ storage: Storage, _ engine: Engine, worker: Bool = true, _ body: @escaping (TestServer, MotoBucket?) async throws -> Void
    ) async throws {
        try await withTestLocation(engine) { url in
            var bucket: MotoBucket?
            if storage == .s3 { bucket = try await MotoBucket.make() }
            try await TestServer.with(worker: worker, configure: { $0.uploadPartBytes = Int64(Self.partSize) }, configureAll: { configuration in
                configuration.runtime.databaseURL = url
                if let bucket {
                    configuration.runtime.storageURL = .s3(bucket: bucket.name, prefix: "media")
                    configuration.runtime.s3 = S3Configuration(
                        credentials: SigV4Credentials(accessKeyID: "test", secretAccessKey: "test"), endpoint: bucket.endpoint)
                    configuration.pipeline.media.plainHTTP = PlainHTTPPolicy(endpoints: [bucket.endpoint])
                }
            }) { server in try await body(server, bucket) }
        }
    }

    @Test("interrupted after half its parts, resumed from GET upload/parts, completed, processed to ready",
          .timeLimit(.minutes(4)), arguments: storages, Engine.all)
    func resume(storage: Storage, engine: Engine) async throws {
        let clip = try await Self.bigClip.value
        let file = try Data(contentsOf: URL(fileURLWithPath: clip))
        let partCount = (file.count + Self.partSize - 1) / Self.partSize
        try #require(partCount >= 4, "the clip is \(file.count) bytes")
        try await withServer(storage, engine) { server, bucket in
            let created = try await server.createAsset(multipart: file.count)
            let id = try #require(created["id"] as? String)
            let token = try #require(created["token"] as? String)
            let upload = try #require(created["upload"] as? [String: Any])
            #expect(upload["method"] as? String == "multipart")
            #expect(upload["part_size"] as? Int == Self.partSize)
            #expect(upload["part_count"] as? Int == partCount)
            #expect(upload["expires_at"] is String && upload["url"] == nil)
            let base = "\(server.baseURL)/v1/assets/\(id)"

            // The first half, with the token only (as a browser).
            let half = partCount / 2
            let urls = try await partURLs(base, token: token, Array(1...half))
            for (number, url) in urls {
                if storage == .s3 { #expect(url.hasPrefix("\(bucket!.endpoint)/\(bucket!.name)/media/uploads/\(id)/clip.mp4?partNumber=\(number)&uploadId=")) }
                else { #expect(url.hasPrefix("\(server.baseURL)/storage/uploads/\(id)/clip.mp4?part=\(number)&upload=")) }
            }
            var etags: [Int: String] = [:]
            for (number, url) in urls { etags[number] = try await putPart(url, file, number) }

            // The client is lost; all it kept is id and token. The service lists exactly what it holds.
            let listed = try await send(.GET, "\(base)/upload/parts", bearer: token)
            #expect(listed.status == 200, "\(listed.text)")
            let parts = try #require(listed.json["parts"] as? [[String: Any]])
            #expect(parts.map { $0["part_number"] as? Int } == Array(1...half))
            #expect(parts.map { $0["etag"] as? String } == (1...half).map { MultipartLimits.unquote(etags[$0]!) })
            #expect(parts.map { $0["size"] as? Int } == Array(repeating: Self.partSize, count: half))
            #expect(listed.json["part_count"] as? Int == partCount && listed.json["size"] as? Int == file.count)

            // The rest, then every kind of wrong completion before the right one.
            let stored = Set(parts.compactMap { $0["part_number"] as? Int })
            let missing = (1...partCount).filter { !stored.contains($0) }
            for (number, url) in try await partURLs(base, token: token, missing) { etags[number] = try await putPart(url, file, number) }
            func completion(_ numbers: [Int], etag: (Int) -> String = { etags[$0]! }) -> Data {
                json(["parts": numbers.map { ["part_number": $0, "etag": etag($0)] }])
            }
            let gap = try await send(.POST, "\(base)/complete", bearer: token, body: completion(Array(1..<partCount)))
            #expect(gap.status == 409 && gap.errorCode == "ERR_PART_MISSING", "\(gap.text)")
            let wrongETag = try await send(.POST, "\(base)/complete", bearer: token,
                                           body: completion(Array(1...partCount)) { $0 == 2 ? etags[1]! : etags[$0]! })
            #expect(wrongETag.status == 400 && wrongETag.errorCode == "ERR_PART_ETAG_MISMATCH", "\(wrongETag.text)")
            let unknown = try await send(.POST, "\(base)/complete", bearer: token, body: completion(Array(1...partCount + 1)) { etags[$0] ?? "x" })
            #expect(unknown.status == 400 && unknown.errorCode == "ERR_PART_INVALID", "\(unknown.text)")
            let disordered = try await send(.POST, "\(base)/complete", bearer: token, body: completion(Array((1...partCount).reversed())))
            #expect(disordered.status == 400 && disordered.errorCode == "ERR_PART_INVALID", "\(disordered.text)")
            #expect(try await send(.GET, base, bearer: token).json["status"] as? String == "awaiting_upload")

            let complete = try await send(.POST, "\(base)/complete", bearer: token, body: completion(Array(1...partCount)))
            #expect(complete.status == 202, "\(complete.text)")
            // The asset as it is when answered: the embedded worker, woken by the queued job, may
            // already have taken it.
            #expect(["queued", "processing"].contains(complete.json["status"] as? String), "\(complete.text)")
            #expect(complete.json["size"] as? Int == file.count)
            // Finished: no more parts, no more listing, and complete stays idempotent.
            #expect(try await send(.GET, "\(base)/upload/parts", bearer: token).errorCode == "ERR_CONFLICT")
            #expect(try await send(.POST, "\(base)/upload/parts", bearer: token, body: json(["part_numbers": [1]])).errorCode == "ERR_CONFLICT")
            #expect(try await send(.POST, "\(base)/complete", bearer: token).status == 202)
            if storage == .local {
                // The old part URL is a closed door now.
                let late = try await send(.PUT, urls[0].1, body: file.subdata(in: 0..<Self.partSize))
                #expect(late.status == 409 && late.errorCode == "ERR_CONFLICT", "\(late.text)")
            }

            let ready = try await waitForStatus(base, bearer: token, "ready", timeout: .seconds(180))
            #expect(ready["error"] is NSNull, "\(ready)")
            let playlist = try await send(.GET, try #require(ready["playlist_url"] as? String))
            #expect(playlist.status == 200 && playlist.text.hasPrefix("#EXTM3U"))
            if let bucket { #expect(try await bucket.unfinishedUploads().isEmpty) }
        }
    }

    @Test("the doors: part_numbers checked, single-PUT assets refused, local part PUTs signed and exact", arguments: storages)
    func doors(storage: Storage) async throws {
        try await withServer(storage, .sqlite) { server, _ in
            let size = 2 * Self.partSize + 1000
            let created = try await server.createAsset(multipart: size)
            let id = try #require(created["id"] as? String)
            let token = try #require(created["token"] as? String)
            let base = "\(server.baseURL)/v1/assets/\(id)"
            for (numbers, code) in [([0], "ERR_PART_INVALID"), ([4], "ERR_PART_INVALID"), ([], "ERR_INVALID_REQUEST"),
                                    ([1, 1], "ERR_INVALID_REQUEST"), (Array(1...101), "ERR_INVALID_REQUEST")] {
                let answer = try await send(.POST, "\(base)/upload/parts", bearer: token, body: json(["part_numbers": numbers]))
                #expect(answer.errorCode == code, "\(numbers.prefix(3)): \(answer.text)")
            }
            // Another asset's token, no credentials.
            let other = try await server.createAsset(multipart: size)
            let otherToken = try #require(other["token"] as? String)
            #expect(try await send(.GET, "\(base)/upload/parts", bearer: otherToken).errorCode == "ERR_FORBIDDEN")
            #expect(try await send(.GET, "\(base)/upload/parts").errorCode == "ERR_UNAUTHORIZED")
            // Multipart needs a size; an unknown upload_type is refused.
            let sizeless = try await send(.POST, "\(server.baseURL)/v1/assets", bearer: server.apiKey,
                                          body: json(["filename": "a.mp4", "upload_type": "multipart"]))
            #expect(sizeless.errorCode == "ERR_INVALID_REQUEST")
            let odd = try await send(.POST, "\(server.baseURL)/v1/assets", bearer: server.apiKey,
                                     body: json(["filename": "a.mp4", "size": 10, "upload_type": "resumable"]))
            #expect(odd.errorCode == "ERR_INVALID_REQUEST")
            // A single-PUT asset has no parts.
            let single = try await server.createAsset()
            let singleID = try #require(single["id"] as? String)
            #expect(try await send(.GET, "\(server.baseURL)/v1/assets/\(singleID)/upload/parts", bearer: server.apiKey).errorCode == "ERR_CONFLICT")

            guard storage == .local else { return }
            let urls = try await partURLs(base, token: token, [1, 3])
            let part1 = urls[0].1, part3 = urls[1].1
            // Wrong length (a part is exactly its planned size), a tampered part number, a whole-object PUT on a part's signature.
            let short = try await send(.PUT, part1, body: Data(count: 1000))
            #expect(short.status == 400 && short.errorCode == "ERR_PART_INVALID", "\(short.text)")
            let tampered = try await send(.PUT, part1.replacingOccurrences(of: "part=1&", with: "part=2&"), body: Data(count: Self.partSize))
            #expect(tampered.errorCode == "ERR_INVALID_SIGNATURE")
            let whole = try await send(.PUT, part1.replacingOccurrences(of: #"part=1&upload=[0-9a-f]+&"#, with: "", options: .regularExpression), body: Data(count: 10))
            #expect(whole.errorCode == "ERR_INVALID_SIGNATURE")
            // The last part is the remainder, and answers its MD5 as a quoted ETag.
            let last = try await send(.PUT, part3, body: Data(repeating: 1, count: 1000))
            #expect(last.status == 200)
            #expect(last.headers.first(name: "etag") == "\"\(Hex.encode(Insecure.MD5.hash(data: Data(repeating: 1, count: 1000))))\"")
        }
    }

    @Test("DELETE .../upload (token) and DELETE of the asset (API key) abort the upload: no parts left", arguments: storages)
    func aborts(storage: Storage) async throws {
        try await withServer(storage, .sqlite) { server, bucket in
            for viaUpload in [true, false] {
                let created = try await server.createAsset(multipart: 2 * Self.partSize)
                let id = try #require(created["id"] as? String)
                let token = try #require(created["token"] as? String)
                let base = "\(server.baseURL)/v1/assets/\(id)"
                let file = Data(repeating: 7, count: 2 * Self.partSize)
                for (number, url) in try await partURLs(base, token: token, [1]) { _ = try await putPart(url, file, number) }
                #expect(try await partsLeft(server, bucket) == 1)
                let deleted = viaUpload ? try await send(.DELETE, "\(base)/upload", bearer: token) : try await send(.DELETE, base, bearer: server.apiKey)
                #expect(deleted.status == 204, "\(deleted.text)")
                #expect(try await send(.GET, base, bearer: server.apiKey).status == 404)
                #expect(try await partsLeft(server, bucket) == 0)
            }
        }
    }

    @Test("after expires_at (creation + token lifetime) no part URLs are given: 410 ERR_UPLOAD_EXPIRED")
    func expiry() async throws {
        try await TestServer.with(configure: { $0.tokenLifetime = .seconds(1) }) { server in
            let created = try await server.createAsset(multipart: Self.partSize)
            let id = try #require(created["id"] as? String)
            let base = "\(server.baseURL)/v1/assets/\(id)"
            // The window is the token's (part URLs while they are in time are asked for in every other test).
            let upload = try #require(created["upload"] as? [String: Any])
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let window = try #require((upload["expires_at"] as? String).flatMap(formatter.date(from:)))
            let token = try #require((created["token_expires_at"] as? String).flatMap(formatter.date(from:)))
            #expect(abs(window.timeIntervalSince(token)) <= 1, "\(window) \(token)")
            // Part URLs are given until the window closes (the server's clock is the wall clock):
            // the first answer that is not 200 comes after expires_at and says why.
            let late = try await waitFor("the upload window to close", timeout: .seconds(10), interval: .milliseconds(100)) {
                let answer = try await send(.POST, "\(base)/upload/parts", bearer: server.apiKey, body: json(["part_numbers": [1]]))
                return answer.status == 200 ? nil : answer
            }
            #expect(Date() >= window, "part URLs were refused before expires_at \(window)")
            #expect(late.status == 410 && late.errorCode == "ERR_UPLOAD_EXPIRED", "\(late.text)")
        }
    }

    @Test("PULSE_UPLOAD_PART_BYTES: 16 MiB by default, 5 MiB to 5 GiB, anything else named")
    func partSizeSetting() throws {
        #expect(try PulseConfiguration(environment: [:]).api.uploadPartBytes == 16 << 20)
        #expect(try PulseConfiguration(environment: ["PULSE_UPLOAD_PART_BYTES": "5242880"]).api.uploadPartBytes == 5 << 20)
        for bad in ["5242879", "5368709121", "16MiB", "-1"] {
            do {
                _ = try PulseConfiguration(environment: ["PULSE_UPLOAD_PART_BYTES": bad])
                Issue.record("\(bad) was accepted")
            } catch {
                #expect(error.problems.count == 1 && error.problems[0].hasPrefix("PULSE_UPLOAD_PART_BYTES "), "\(error.problems)")
            }
        }
    }

    // MARK: - helpers

    /// How many unfinished multipart uploads (S3) or upload folders (local) are left.
    func partsLeft(_ server: TestServer, _ bucket: MotoBucket?) async throws -> Int {
        if let bucket { return try await bucket.unfinishedUploads().count }
        let folder = "\(server.dataDirectory)/storage/.staging/multipart"
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).count
    }

    func partURLs(_ base: String, token: String, _ numbers: [Int]) async throws -> [(Int, String)] {
        let answer = try await send(.POST, "\(base)/upload/parts", bearer: token, body: json(["part_numbers": numbers]))
        #expect(answer.status == 200, "\(answer.text)")
        let parts = try #require(answer.json["parts"] as? [[String: Any]])
        return try parts.map { part in
            #expect(part["method"] as? String == "PUT")
            return (try #require(part["part_number"] as? Int), try #require(part["url"] as? String))
        }
    }

    /// PUTs part `number` of `file`; returns its ETag header.
    func putPart(_ url: String, _ file: Data, _ number: Int) async throws -> String {
        let start = (number - 1) * Self.partSize
        let answer = try await send(.PUT, url, body: file.subdata(in: start..<min(start + Self.partSize, file.count)))
        #expect(answer.status == 200, "part \(number): \(answer.text)")
        return try #require(answer.headers.first(name: "etag"))
    }
}

/// A bucket of its own on moto (`PULSE_TEST_S3_ENDPOINT`).
struct MotoBucket: Sendable {
    let endpoint: String
    let name: String

    static func make() async throws -> MotoBucket {
        let endpoint = try TestServices.plainEndpoint
        let name = "pulse-mpu-" + UUID().uuidString.lowercased().prefix(8)
        // Buckets are provisioned outside Pulse; moto takes an unsigned PUT.
        let made = try await send(.PUT, "\(endpoint)/\(name)")
        try #require(made.status == 200, "create bucket: \(made.text)")
        return MotoBucket(endpoint: endpoint, name: String(name))
    }

    /// The upload ids of ListMultipartUploads (moto answers an unsigned GET).
    func unfinishedUploads() async throws -> [String] {
        let answer = try await send(.GET, "\(endpoint)/\(name)?uploads")
        try #require(answer.status == 200, "\(answer.text)")
        return answer.text.components(separatedBy: "<UploadId>").dropFirst().map { String($0.prefix { $0 != "<" }) }
    }
}

extension TestServer {
    /// Creates an asset whose file of `size` bytes goes up in parts.
    func createAsset(multipart size: Int) async throws -> [String: Any] {
        try await createAsset(size: size, uploadType: "multipart")
    }

    /// Creates an asset of `size` bytes uploaded as `uploadType`; returns the create response.
    func createAsset(size: Int, uploadType: String) async throws -> [String: Any] {
        let body: [String: Any] = ["filename": "clip.mp4", "content_type": "video/mp4", "size": size, "upload_type": uploadType]
        let result = try await send(.POST, "\(baseURL)/v1/assets", bearer: apiKey, body: json(body))
        #expect(result.status == 201, "create: \(result.text)")
        return result.json
    }
}
