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

    // The timings leave room for a loaded machine (the whole suite runs in parallel on two
    // cores): rates far from the minimum either way (a trickle brings 5 % of it, a steady upload
    // 60 times it), so a stall of the test's tasks or of the server decides nothing.

    @Test("four trickling uploads lose their reservation; another upload is taken", .timeLimit(.minutes(1)))
    func tricklesAreCutOff() async throws {
        let window = Duration.seconds(5)
        try await TestServer.with(worker: false, configure: {
            $0.maxUploadBytes = 1000
            $0.uploadMinimumBytesPerSecond = 100
            $0.uploadRateWindow = window
            // Longer than a window: the pace cuts the trickles off, not the idle timeout (which
            // a byte every 200 ms keeps at bay anyway).
            $0.idleTimeout = window * 2
        }) { server in
            // Every asset first: the trickles' first window starts with their bodies.
            var urls: [String] = []
            for _ in 0..<5 { urls.append(try HostileUploadTests.uploadURL(try await server.createAsset())) }
            let other = urls.removeLast()
            let started = ContinuousClock.now
            // 5 bytes a second: fast enough for the idle timeout, 5 % of the pace (each would need 200 s).
            let drips = urls.map { DripUpload(url: $0, length: 1000, every: .milliseconds(200)) }
            try await waitUntil("the four trickling uploads to be received", timeout: window) { HostileUploadTests.partialFiles(server).count == 4 }
            let refused = try await send(.PUT, other, body: Data(repeating: 1, count: 1000))
            let elapsed = ContinuousClock.now - started
            #expect(refused.status == 503 && refused.errorCode == "ERR_UNAVAILABLE",
                    "the allowance was not full \(elapsed) after the trickles started (window \(window)): \(refused.status) \(refused.text)")

            // Within a few windows the trickles are cut off and the allowance is free again,
            // while they are still sending.
            let taken = try await waitFor("the trickling uploads to give the allowance back",
                                          timeout: started + window * 4 - ContinuousClock.now, interval: .milliseconds(100)) {
                let answer = try await send(.PUT, other, body: Data(repeating: 1, count: 1000))
                return answer.status == 503 ? nil : answer
            }
            #expect(taken.status == 200, "\(taken.status) \(taken.text)")
            try await waitUntil("the trickles' partial files to go") { HostileUploadTests.partialFiles(server).isEmpty }
            for drip in drips { await drip.stop() }
        }
    }

    @Test("a body ahead of the pace is taken whole, across a stall of two windows", .timeLimit(.minutes(1)))
    func steadyUploadIsTaken() async throws {
        let window = Duration.seconds(2)
        let chunk = 600
        let burst = 10 * Int(window.components.seconds)  // one chunk every 100 ms for a window
        try await TestServer.with(worker: false, configure: {
            $0.uploadMinimumBytesPerSecond = 100
            $0.uploadRateWindow = window
        }) { server in
            let created = try await server.createAsset()
            let url = try HostileUploadTests.uploadURL(created)
            let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
            let feeder = Task {
                // A window of 600 bytes every 100 ms (60 times the pace), nothing for two windows
                // (a phone in a tunnel), then another such window: each stalled window falls
                // short on its own, the average never does.
                for round in 0..<2 {
                    for _ in 0..<burst {
                        continuation.yield(ByteBuffer(bytes: [UInt8](repeating: 3, count: chunk)))
                        try? await Task.sleep(for: .milliseconds(100))
                    }
                    if round == 0 { try? await Task.sleep(for: window * 2) }
                }
                continuation.finish()
            }
            var request = HTTPClientRequest(url: url)
            request.method = .PUT
            request.body = .stream(stream, length: .known(Int64(chunk * burst * 2)))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(50))
            let answer = try await response.body.collect(upTo: 1 << 20)
            #expect(response.status == .ok, "\(response.status) \(String(buffer: answer))")
            await feeder.value
            let id = try #require(created["id"] as? String)
            #expect(try await server.runtime.store.head(key: "uploads/\(id)/clip.mp4")?.size == Int64(chunk * burst * 2))
        }
    }

    @Test("the bytes due: none within the first window, then the pace for the time past it")
    func bytesDue() {
        let pace = UploadPace(bytesPerSecond: 100, window: .seconds(60))
        #expect(pace.bytesDue(after: .seconds(59)) == 0)
        #expect(pace.bytesDue(after: .seconds(60)) == 0)
        #expect(pace.bytesDue(after: .milliseconds(60_500)) == 50)
        #expect(pace.bytesDue(after: .seconds(180)) == 12_000)
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
