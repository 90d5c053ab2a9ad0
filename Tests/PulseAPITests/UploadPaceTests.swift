import AsyncHTTPClient
import Foundation
import NIOCore
@testable import PulseAPI
import PulseService
import PulseTestSupport
import Testing

/// An upload to `/storage/` that arrives slower than `PULSE_UPLOAD_MIN_BYTES_PER_SECOND` is cut
/// off and gives its share of the upload allowance back.
@Suite("Upload pace")
struct UploadPaceTests {
    /// A PUT declaring `length` bytes that sends one byte every `every`, fast enough for the idle
    /// timeout and far too slow to finish.
    final class DripUpload: Sendable {
        let task: Task<Void, Never>
        private let feeder: Task<Void, Never>

        init(url: String, length: Int, every: Duration) {
            let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
            feeder = Task {
                for _ in 0..<length {
                    continuation.yield(ByteBuffer(bytes: [7]))
                    do { try await Task.sleep(for: every) } catch { break }
                }
                continuation.finish()
            }
            task = Task {
                var request = HTTPClientRequest(url: url)
                request.method = .PUT
                request.body = .stream(stream, length: .known(Int64(length)))
                // Cut off by the server: an answer, or a closed connection, either is fine here.
                _ = try? await HTTPClient.shared.execute(request, timeout: .seconds(60)).body.collect(upTo: 1 << 20)
            }
        }

        func stop() async {
            feeder.cancel()
            await task.value
        }
    }

    @Test("four trickling uploads lose their reservation; another upload is taken", .timeLimit(.minutes(1)))
    func tricklesAreCutOff() async throws {
        try await TestServer.with(worker: false, configure: {
            $0.maxUploadBytes = 1000
            $0.uploadMinimumBytesPerSecond = 100
            $0.uploadRateWindow = .seconds(1)
            $0.idleTimeout = .seconds(2)
        }) { server in
            var drips: [DripUpload] = []
            for _ in 0..<4 {
                let url = try HostileUploadTests.uploadURL(try await server.createAsset())
                drips.append(DripUpload(url: url, length: 1000, every: .milliseconds(300)))
            }
            try await waitUntil("the four trickling uploads to be received") { HostileUploadTests.partialFiles(server).count == 4 }
            let other = try HostileUploadTests.uploadURL(try await server.createAsset())
            let refused = try await send(.PUT, other, body: Data(repeating: 1, count: 1000))
            #expect(refused.status == 503 && refused.errorCode == "ERR_UNAVAILABLE", "the allowance was not full: \(refused.status)")

            // Within a few windows the trickles are cut off and the allowance is free again,
            // while they are still sending (each would need 300 s).
            let deadline = ContinuousClock.now + .seconds(10)
            var taken = try await send(.PUT, other, body: Data(repeating: 1, count: 1000))
            while taken.status == 503 {
                try #require(ContinuousClock.now < deadline, "the trickling uploads still hold the allowance")
                try await Task.sleep(for: .milliseconds(100))
                taken = try await send(.PUT, other, body: Data(repeating: 1, count: 1000))
            }
            #expect(taken.status == 200, "\(taken.status) \(taken.text)")
            try await waitUntil("the trickles' partial files to go") { HostileUploadTests.partialFiles(server).isEmpty }
            for drip in drips { await drip.stop() }
        }
    }

    @Test("a body that keeps the pace is taken whole")
    func steadyUploadIsTaken() async throws {
        try await TestServer.with(worker: false, configure: {
            $0.uploadMinimumBytesPerSecond = 100
            $0.uploadRateWindow = .milliseconds(200)
        }) { server in
            let created = try await server.createAsset()
            let url = try HostileUploadTests.uploadURL(created)
            let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
            let feeder = Task {
                // 600 bytes every 100 ms: 30 times the pace, over several windows.
                for _ in 0..<10 {
                    continuation.yield(ByteBuffer(bytes: [UInt8](repeating: 3, count: 600)))
                    try? await Task.sleep(for: .milliseconds(100))
                }
                continuation.finish()
            }
            var request = HTTPClientRequest(url: url)
            request.method = .PUT
            request.body = .stream(stream, length: .known(Int64(6000)))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            #expect(response.status == .ok)
            await feeder.value
            let id = try #require(created["id"] as? String)
            #expect(try await server.runtime.store.head(key: "uploads/\(id)/clip.mp4")?.size == 6000)
        }
    }

    @Test("PULSE_UPLOAD_MIN_BYTES_PER_SECOND: a positive whole number, 2048 by default")
    func setting() throws {
        #expect(try PulseConfiguration(environment: [:]).api.uploadMinimumBytesPerSecond == 2048)
        #expect(try PulseConfiguration(environment: ["PULSE_UPLOAD_MIN_BYTES_PER_SECOND": "512"]).api.uploadMinimumBytesPerSecond == 512)
        for bad in ["0", "-1", "fast", "1.5"] {
            do {
                _ = try PulseConfiguration(environment: ["PULSE_UPLOAD_MIN_BYTES_PER_SECOND": bad])
                Issue.record("\(bad) was accepted")
            } catch {
                #expect(error.problems.first?.hasPrefix("PULSE_UPLOAD_MIN_BYTES_PER_SECOND") == true, "\(bad)")
            }
        }
    }
}
