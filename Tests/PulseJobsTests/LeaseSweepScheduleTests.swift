import Foundation
import PulseDatabase
import PulseJobs
import PulseSupport
import PulseTestSupport
import Testing

/// When a claim settles expired leases: at once when there is no ready job, and beside ready work
/// at most once per sweep interval, so a busy queue's claim is one statement.
@Suite struct LeaseSweepScheduleTests {
    /// A queue on a fresh database of `engine` with the chunk jobs `chunks` of one asset queued.
    static func withQueue(
        _ engine: Engine, sweepInterval: Double, chunks: [Int],
        _ body: (JobQueue, ManualClock) async throws -> Void
    ) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let queue = JobQueue(database: database, clock: clock.clock, sweepIntervalSeconds: sweepInterval)
            try await queue.enqueue(assetID: try await makeAsset(database, clock: clock), kind: .chunk, chunkIndices: chunks)
            try await body(queue, clock)
        }
    }

    @Test("a busy queue settles an expired lease within the sweep interval, not on every claim", arguments: Engine.all)
    func busyQueueSettlesOncePerInterval(engine: Engine) async throws {
        try await Self.withQueue(engine, sweepInterval: 1, chunks: [0, 1, 2, 3]) { queue, clock in

            let first = try #require(try await queue.claim(workerID: "A", leaseSeconds: 30).job)
            clock.advance(by: 0.2)
            let short = try #require(try await queue.claim(workerID: "B", leaseSeconds: 0.3).job)
            #expect(short.chunkIndex == 1 && first.chunkIndex == 0)

            // B's lease has expired, but the last sweep was 0.8 s ago: ready work comes first.
            clock.advance(by: 0.6)
            let next = try #require(try await queue.claim(workerID: "C", leaseSeconds: 30).job)
            #expect(next.chunkIndex == 2)
            #expect(try await queue.job(id: short.id)?.leaseOwner == "B", "settled before the interval was up")

            // A second after the last sweep, the claim settles it and hands it over first.
            clock.advance(by: 0.3)
            let takenOver = try #require(try await queue.claim(workerID: "D", leaseSeconds: 30).job)
            #expect(takenOver.id == short.id && takenOver.attempts == 2)
            #expect(try await queue.heartbeat(short, leaseSeconds: 30) == false, "B's lost lease still renews")
        }
    }

    @Test("a claim that finds no ready job settles expired leases at once, whatever the interval", arguments: Engine.all)
    func idleQueueSettlesAtOnce(engine: Engine) async throws {
        try await Self.withQueue(engine, sweepInterval: 3600, chunks: [0]) { queue, clock in
            let lost = try #require(try await queue.claim(workerID: "A", leaseSeconds: 5).job)
            #expect(try await queue.claim(workerID: "B", leaseSeconds: 5).job == nil)
            clock.advance(by: 6)
            let takenOver = try #require(try await queue.claim(workerID: "B", leaseSeconds: 5).job)
            #expect(takenOver.id == lost.id && takenOver.leaseOwner == "B")
        }
    }
}
