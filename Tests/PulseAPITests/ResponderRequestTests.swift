import Foundation
import Hummingbird
import NIOCore
@testable import PulseAPI
import PulseStorage
import PulseTestSupport
import Synchronization
import Testing

/// What `/media/` asks of the store per answer: one request for a whole object or a playlist
/// (the `get` states the size, entity tag and encoding), one `head` for a HEAD; a byte range of
/// a segment is the one answer that needs the size first.
@Suite("Media answers: requests to the store")
struct ResponderRequestTests {
    @Test func oneStoreRequestPerAnswer() async throws {
        try await withTestFolder("pulse-responder") { folder in
            let store = CountingStore(try LocalStore(root: folder))
            try await store.put(ByteBuffer(bytes: [UInt8](repeating: 7, count: 1000)), key: "a/seg_00000.ts")
            try await store.put(ByteBuffer(string: "#EXTM3U\n#EXTINF:1.0,\nseg_00000.ts\n#EXT-X-ENDLIST\n"), key: "a/index.m3u8")

            let segment = try await ObjectResponder.respond(to: request(.get, "/a/seg_00000.ts"), store: store, key: "a/seg_00000.ts", cacheControl: "public")
            #expect(segment.status == .ok && segment.headers[.contentLength] == "1000")
            #expect(store.calls == ["get"])

            store.reset()
            let head = try await ObjectResponder.respond(to: request(.head, "/a/seg_00000.ts"), store: store, key: "a/seg_00000.ts", cacheControl: "public")
            #expect(head.status == .ok && head.headers[.contentLength] == "1000")
            #expect(store.calls == ["head"])

            store.reset()
            let range = try await ObjectResponder.respond(
                to: request(.get, "/a/seg_00000.ts", [.range: "bytes=-10"]), store: store, key: "a/seg_00000.ts", cacheControl: "public")
            #expect(range.status == .partialContent && range.headers[.contentRange] == "bytes 990-999/1000")
            #expect(store.calls == ["head", "get"])

            for accept in ["gzip", "identity"] {
                store.reset()
                let playlist = try await PlaylistResponder.respond(
                    to: request(.get, "/a/index.m3u8", [.acceptEncoding: accept]), store: store, key: "a/index.m3u8", cacheControl: "no-cache")
                #expect(playlist.status == .ok)
                #expect(playlist.headers[.contentEncoding] == (accept == "gzip" ? "gzip" : nil))
                #expect(store.calls == ["get"], "\(accept)")
            }

            store.reset()
            await #expect(throws: APIError.self) {
                _ = try await ObjectResponder.respond(to: request(.get, "/a/none.ts"), store: store, key: "a/none.ts", cacheControl: "public")
            }
            #expect(store.calls == ["get"])
        }
    }

    private func request(_ method: HTTPRequest.Method, _ path: String, _ fields: HTTPFields = [:]) -> Request {
        Request(head: HTTPRequest(method: method, scheme: "http", authority: "test", path: path, headerFields: fields), body: RequestBody(buffer: ByteBuffer()))
    }
}

/// A local store that records which reads it was asked for.
final class CountingStore: ForwardingStore {
    let base: LocalStore
    private let log = Mutex<[String]>([])

    init(_ base: LocalStore) { self.base = base }

    var calls: [String] { log.withLock { $0 } }
    func reset() { log.withLock { $0 = [] } }

    func get(key: String, range: ClosedRange<Int64>?) async throws -> ObjectStream {
        log.withLock { $0.append("get") }
        return try await base.get(key: key, range: range)
    }

    func head(key: String) async throws -> ObjectInfo? {
        log.withLock { $0.append("head") }
        return try await base.head(key: key)
    }
}
