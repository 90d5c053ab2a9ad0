import AsyncHTTPClient
import Foundation
import NIOCore
@testable import PulseAPI
import PulseJobs
import PulseSupport
import PulseTestSupport
import Testing

/// The upload door against a live server (the embedded default, no worker): the upload URL is a one-time
/// door, one upload per asset is received at a time and the bytes received at once are capped,
/// `/media/` serves nothing of an asset that is not there to be read, and no failure message names
/// a path, a URL or a host.
@Suite("Hostile uploads")
struct HostileUploadTests {
    /// A PUT whose body is sent when the test says: the head and `first` at once, the rest on `finish()`.
    final class HeldUpload: Sendable {
        let task: Task<HTTPResult, any Error>
        private let continuation: AsyncStream<ByteBuffer>.Continuation
        private let rest: [UInt8]

        init(url: String, length: Int, first: Int = 10) {
            let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
            self.continuation = continuation
            self.rest = [UInt8](repeating: 2, count: length - first)
            continuation.yield(ByteBuffer(bytes: [UInt8](repeating: 1, count: first)))
            self.task = Task {
                var request = HTTPClientRequest(url: url)
                request.method = .PUT
                request.body = .stream(stream, length: .known(Int64(length)))
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                let bytes = try await response.body.collect(upTo: 1 << 20)
                return HTTPResult(status: Int(response.status.code), headers: response.headers, body: Data(bytes.readableBytesView))
            }
        }

        func finish() async throws -> HTTPResult {
            continuation.yield(ByteBuffer(bytes: rest))
            continuation.finish()
            return try await task.value
        }

        /// The client goes away mid-body.
        func abandon() {
            task.cancel()
            continuation.finish()
        }
    }

    static func uploadURL(_ created: [String: Any]) throws -> String {
        try #require((created["upload"] as? [String: Any])?["url"] as? String)
    }

    /// The temporary files uploads are being received into: open files of this process (the server
    /// runs in it) in the incoming folder. (They are created unnamed, so a listing would not show them.)
    static func partialFiles(_ server: TestServer) -> [String] {
        let folder = server.dataDirectory + "/incoming/"
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        let open = fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }.filter { $0.hasPrefix(folder) }
        let named = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".part") }
        return open + named.filter { name in !open.contains { $0.hasSuffix(name) } }
    }

    @Test("the upload URL takes an upload only while the asset waits for it")
    func oneTimeDoor() async throws {
        try await TestServer.with(worker: false) { server in
            let base = server.baseURL
            let store = server.runtime.store
            let created = try await server.createAsset()
            let id = try #require(created["id"] as? String)
            let token = try #require(created["token"] as? String)
            let url = try Self.uploadURL(created)
            let key = "uploads/\(id)/clip.mp4"
            // Before complete, an upload may be sent again (a retry after a network error).
            #expect(try await send(.PUT, url, body: Data(repeating: 9, count: 800)).status == 200)
            #expect(try await send(.PUT, url, body: Data(repeating: 1, count: 900)).status == 200)
            #expect(try await send(.POST, "\(base)/v1/assets/\(id)/complete", bearer: token).status == 202)

            // After complete: refused, and the accepted object stays as it was.
            let late = try await send(.PUT, url, body: Data(repeating: 7, count: 500))
            #expect(late.status == 409 && late.errorCode == "ERR_CONFLICT", "\(late.status) \(late.text)")
            #expect(Array(try await store.getBytes(key: key).readableBytesView) == [UInt8](repeating: 1, count: 900))
            let assetID = try #require(UUID(uuidString: id))
            let asset = try #require(try await AssetRepository(database: server.runtime.database).get(assetID))
            #expect(asset.sourceIdentity?.hasPrefix("size=900;") == true, "complete records what it accepted")

            // After ready (the original deleted, as finalize does): refused, nothing recreated.
            try await AssetRepository(database: server.runtime.database).markReady(asset.id)
            try await store.delete(key: key)
            let afterReady = try await send(.PUT, url, body: Data(repeating: 7, count: 500))
            #expect(afterReady.status == 409 && afterReady.errorCode == "ERR_CONFLICT")
            #expect(try await store.head(key: key) == nil, "the original came back")

            // After delete: the URL leads nowhere.
            #expect(try await send(.DELETE, "\(base)/v1/assets/\(id)", bearer: server.apiKey).status == 204)
            let afterDelete = try await send(.PUT, url, body: Data(repeating: 7, count: 500))
            #expect(afterDelete.status == 404 && afterDelete.errorCode == "ERR_NOT_FOUND")
            #expect(try await store.list(prefix: "uploads/\(id)/").isEmpty)
            #expect(Self.partialFiles(server).isEmpty)
        }
    }

    @Test("one upload per asset at a time, and a cap on the bytes received at once", .timeLimit(.minutes(2)))
    func parallelUploads() async throws {
        try await TestServer.with(worker: false, configure: { $0.maxUploadBytes = 1000 }) { server in
            let created = try await server.createAsset()
            let url = try Self.uploadURL(created)
            let first = HeldUpload(url: url, length: 1000)
            try await waitUntil("the first upload to be received") { Self.partialFiles(server).count == 1 }
            // Parallel PUTs to the same URL are refused, not queued behind the upload in progress:
            // the first is held until after all of them are answered, so a PUT that waited for it
            // would never be answered (the test's time limit). No wall-clock bound: how long ten
            // refusals take is the machine's load, not the behaviour.
            try await withThrowingTaskGroup(of: HTTPResult.self) { group in
                for _ in 0..<10 {
                    group.addTask { try await send(.PUT, url, body: Data(repeating: 3, count: 1000)) }
                }
                for try await result in group {
                    #expect(result.status == 409 && result.errorCode == "ERR_CONFLICT", "\(result.status) \(result.text)")
                }
            }
            #expect(Self.partialFiles(server).count == 1)
            #expect(try await first.finish().status == 200)
            // One at a time, not once: the next one is taken.
            #expect(try await send(.PUT, url, body: Data(repeating: 4, count: 1000)).status == 200)

            // Four uploads of the largest size are received at once; a fifth is told to come back.
            var held: [HeldUpload] = []
            var assets: [[String: Any]] = []
            for index in 0..<5 { assets.append(try await server.createAsset(filename: "cap\(index).mp4")) }
            for created in assets.prefix(4) { held.append(HeldUpload(url: try Self.uploadURL(created), length: 1000)) }
            try await waitUntil("four uploads to be received") { Self.partialFiles(server).count == 4 }
            let fifth = try await send(.PUT, try Self.uploadURL(assets[4]), body: Data(repeating: 5, count: 1000))
            #expect(fifth.status == 503 && fifth.errorCode == "ERR_UNAVAILABLE", "\(fifth.status) \(fifth.text)")
            #expect(fifth.headers.first(name: "retry-after") != nil)
            // A client that goes away gives its share back, and leaves no file.
            held[0].abandon()
            try await waitUntil("the abandoned upload to be released", timeout: .seconds(30)) { Self.partialFiles(server).count == 3 }
            #expect(try await send(.PUT, try Self.uploadURL(assets[4]), body: Data(repeating: 5, count: 1000)).status == 200)
            for upload in held.dropFirst() { #expect(try await upload.finish().status == 200) }
            #expect(try await server.runtime.store.list(prefix: "uploads/\(try #require(assets[0]["id"] as? String))/").isEmpty)
            #expect(Self.partialFiles(server).isEmpty)
        }
    }

    @Test("/media serves nothing of an asset that is gone, being deleted or unfinished, except its thumbnail")
    func mediaOnlyForReadableAssets() async throws {
        try await TestServer.with(worker: false) { server in
            let store = server.runtime.store
            let assets = AssetRepository(database: server.runtime.database)
            func get(_ id: UUID, _ path: String) async throws -> Int {
                try await send(.GET, "\(server.baseURL)/media/\(id.uuidString.lowercased())/\(path)").status
            }
            func stock(_ id: UUID) async throws {
                for path in ["thumbnail.jpg", "master.m3u8", "720p/index.m3u8", "720p/seg_00000.ts"] {
                    try await store.put(ByteBuffer(string: "x"), key: StorageKeys.processedPrefix(id) + path)
                }
            }
            // Objects with no asset (a delete that raced an encode, before this fix): not served.
            let ghost = UUID()
            try await stock(ghost)
            #expect(try await get(ghost, "720p/seg_00000.ts") == 404)
            #expect(try await get(ghost, "thumbnail.jpg") == 404)

            // An asset still processing: its thumbnail (the API hands it out), nothing else.
            let asset = try await assets.create(NewAsset(status: .queued, filename: "clip.mp4", sourceKey: "uploads/x/clip.mp4"))
            try await stock(asset.id)
            try await assets.setThumbnail(asset.id, key: StorageKeys.thumbnail(asset.id))
            #expect(try await get(asset.id, "thumbnail.jpg") == 200)
            #expect(try await get(asset.id, "720p/seg_00000.ts") == 404)
            #expect(try await get(asset.id, "master.m3u8") == 404)
            try await assets.markReady(asset.id)
            #expect(try await get(asset.id, "master.m3u8") == 200)
            #expect(try await get(asset.id, "720p/seg_00000.ts") == 200)
            // Being deleted: nothing, though the objects are still there.
            try await assets.markDeleting(asset.id)
            #expect(try await get(asset.id, "720p/seg_00000.ts") == 404)
            #expect(try await get(asset.id, "thumbnail.jpg") == 404)
            #expect(try await send(.GET, "\(server.baseURL)/v1/assets/\(asset.id.uuidString.lowercased())", bearer: server.apiKey).status == 404)
            // A delete that did not finish can be sent again.
            #expect(try await send(.DELETE, "\(server.baseURL)/v1/assets/\(asset.id.uuidString.lowercased())", bearer: server.apiKey).status == 204)
            #expect(try await store.list(prefix: StorageKeys.processedPrefix(asset.id)).isEmpty)
            #expect(try await assets.row(asset.id) == nil)
        }
    }

    @Test("a recorded failure message that names a path, a URL or a host is never shown")
    func messagesNameNoPlace() {
        let leaks = [
            "the source file:/srv/pulse/data/storage/uploads/0b7f/clip.mp4 could not be opened",
            "cannot open /var/lib/pulse/storage/uploads/0b7f/clip.mp4",
            "GET https://bucket.s3.amazonaws.com/uploads/x?X-Amz-Signature=abc failed",
            "the source's server minio.internal:9000 refused the connection",
            "no answer from 10.0.3.7",
            "could not reach storage.example.com",
            "C:\\pulse\\uploads\\clip.mp4 is missing",
        ]
        for code in ["ERR_SOURCE_NOT_FOUND", "ERR_MALFORMED_VIDEO", "ERR_NON_VIDEO", "ERR_WORKER_LOST", "ERR_UPLOAD_TOO_LARGE"] {
            for leak in leaks {
                let detail = AssetResource.ErrorDetail(recordedCode: FailureCode(code), message: leak)
                #expect(detail.message == FailureCode.genericPublicMessage, "\(code): \(detail.message)")
            }
        }
        // What the pipeline writes for people is shown as it is.
        let forPeople = [
            "the video lasts 0.40 s; the minimum is 0.50 s",
            "the video is 9000x100; the maximum side is 8192 px",
            "the video's data ends at 3.00 s of its 10.00 s (truncated file?)",
            "the source ends early: 720p covers 3.00 s of the expected 10.00 s (truncated file?)",
            "the file holds audio but no video",
            "the upload is larger than 1000 bytes",
            "the source does not exist (404)",
            "processing was interrupted on every attempt",
        ]
        for message in forPeople {
            #expect(!FailureCode.namesAPlace(message), "\(message)")
            #expect(AssetResource.ErrorDetail(recordedCode: .malformedVideo, message: message).message == message)
        }
    }

    @Test("ERR_SOURCE_CHANGED: never retried, a fixed sentence, no HTTP status")
    func sourceChangedCode() {
        let meaning = FailureCode("ERR_SOURCE_CHANGED").meaning
        #expect(meaning?.retry == .never)
        #expect(meaning?.publicMessage?.isEmpty == false)
        #expect(meaning?.httpStatus == nil)
        #expect(AssetResource.ErrorDetail(recordedCode: .sourceChanged, message: "recorded detail").message == meaning?.publicMessage)
    }
}
