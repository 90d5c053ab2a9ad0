import AsyncHTTPClient
import Foundation
import NIOCore
import PulseTestSupport
import Testing

/// How a tus PATCH is received: one open handle on the part's file while the part fills (not a
/// file opened and closed per buffer of the body), and `Tus-Resumable` on every tus answer,
/// the shared error middleware's included.
@Suite("tus part files and answers")
struct TusPartFileTests {
    @Test(.timeLimit(.minutes(2)))
    func aPartFileStaysOpenWhileItsBodyArrives() async throws {
        let file = TusTests.bytes(200_000)
        try await TusTests().withServer(.local) { server, _ in
            let created = try await server.createAsset(tus: file.count)
            let url = try #require((created["upload"] as? [String: Any])?["url"] as? String)
            // This server's own: other tests' servers may run in this process at the same time.
            let mine = { Self.openPartFiles(under: server.dataDirectory) }
            let (body, feed) = AsyncStream.makeStream(of: ByteBuffer.self)
            var request = HTTPClientRequest(url: url)
            request.method = .PATCH
            for (name, value) in TusTests.tus + [("Content-Type", "application/offset+octet-stream"), ("Upload-Offset", "0")] {
                request.headers.add(name: name, value: value)
            }
            request.body = .stream(body, length: .known(Int64(file.count)))
            async let answer = HTTPClient.shared.execute(request, timeout: .seconds(60))

            // The first bytes arrive, the rest is held back: the part's file is open meanwhile.
            feed.yield(ByteBuffer(bytes: file.prefix(50_000)))
            try await waitUntil("the part file to be open between two buffers", timeout: .seconds(20)) {
                !mine().isEmpty
            }
            feed.yield(ByteBuffer(bytes: file.dropFirst(50_000).prefix(50_000)))
            feed.yield(ByteBuffer(bytes: file.dropFirst(100_000)))
            feed.finish()
            let response = try await answer
            _ = try await response.body.collect(upTo: 1 << 20)
            #expect(response.status.code == 204)
            #expect(response.headers.first(name: "Upload-Offset") == String(file.count))
            #expect(mine().isEmpty, "a part file left open")
        }
    }

    /// A method the tus routes do not answer is refused by the shared error middleware (405 with
    /// `Allow`), and the answer still says `Tus-Resumable`, as tus asks of every answer.
    @Test(.timeLimit(.minutes(2)))
    func tusHeaderOnTheSharedErrorAnswers() async throws {
        try await TusTests().withServer(.local) { server, _ in
            let created = try await server.createAsset(tus: 1000)
            let url = try #require((created["upload"] as? [String: Any])?["url"] as? String)
            let refused = try await send(.GET, url, headers: TusTests.tus)
            #expect(refused.status == 405 && refused.errorCode == "ERR_METHOD_NOT_ALLOWED", "\(refused.text)")
            #expect(refused.headers.first(name: "Allow")?.contains("PATCH") == true)
            #expect(refused.headers.first(name: "Tus-Resumable") == "1.0.0")
            let conflict = try await send(.PATCH, url, headers: TusTests.tus + [("Content-Type", "application/offset+octet-stream"), ("Upload-Offset", "7")], body: Data([1]))
            #expect(conflict.status == 409 && conflict.headers.first(name: "Tus-Resumable") == "1.0.0", "\(conflict.text)")
            // Other routes are no tus resource: no tus header there.
            let other = try await send(.GET, "\(server.baseURL)/v1/assets/\(UUID().uuidString.lowercased())", bearer: server.apiKey)
            #expect(other.status == 404 && other.headers.first(name: "Tus-Resumable") == nil)
        }
    }

    /// The `.tus` part files under `folder` this process holds open (its descriptors' targets).
    static func openPartFiles(under folder: String) -> Set<String> {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return Set(descriptors.compactMap { fd in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")).flatMap { $0.hasSuffix(".tus") && $0.hasPrefix(folder + "/") ? $0 : nil }
        })
    }
}
