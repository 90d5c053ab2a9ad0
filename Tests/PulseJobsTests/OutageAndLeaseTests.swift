import Foundation
import PulseDatabase
import PulseJobs
import PulseSupport
import PulseTestSupport
import Testing

/// Storage outages are waited out without using up attempts; a worker that lost its lease cannot
/// write a checkpoint.
@Suite struct OutageAndLeaseTests {
    static func queue(_ database: any Database, _ clock: ManualClock, maxAttempts: Int = 2) -> JobQueue {
        JobQueue(
            database: database, clock: clock.clock,
            backoff: RetryPolicy(base: 2, cap: 300, random: { 0.5 }),
            outageBackoff: RetryPolicy(base: 1, cap: 15, growth: .linear(perSecond: 0.25), jitter: .equal, random: { 1 }),
            defaultMaxAttempts: maxAttempts
        )
    }

    @Test(arguments: Engine.all)
    func outageRetriesGiveTheAttemptBackUntilTheBudgetRunsOut(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let queue = Self.queue(database, clock)
            let asset = try await makeAsset(database, clock: clock)
            try await queue.enqueue(assetID: asset, kind: .chunk, chunkIndex: 0)
            let outageStart = clock.now

            // Ten outage retries on a job with 2 attempts: none of them counts.
            for round in 0..<10 {
                let job = try #require(try await queue.claim(workerID: "A", leaseSeconds: 60).job, "round \(round)")
                #expect(job.attempts == 1, "round \(round): the outage used up attempts")
                let outcome = try await queue.retryAfterOutage(job, error: "ERR_STORAGE_UNAVAILABLE: refused", budget: 120)
                guard case .scheduled(let runAt) = outcome else {
                    Issue.record("round \(round): \(outcome)")
                    return
                }
                // The wait grows with the outage and stays under the cap.
                let wait = runAt - clock.now
                #expect(wait >= 1 && wait <= 15, "round \(round): waits \(wait) s")
                let stored = try #require(try await queue.job(id: job.id))
                #expect(stored.status == .queued && stored.attempts == 0)
                #expect(stored.outageSince == outageStart, "the outage's start is kept across retries")
                clock.advance(by: wait)
            }
            #expect(clock.now - outageStart < 120)

            // Past the budget, an outage counts like any transient failure, so a store that never
            // comes back still ends the job.
            clock.advance(by: 120)
            let late = try #require(try await queue.claim(workerID: "A", leaseSeconds: 60).job)
            #expect(try await queue.retryAfterOutage(late, error: "ERR_STORAGE_UNAVAILABLE", budget: 120) != .exhausted)
            #expect(try await queue.job(id: late.id)?.attempts == 1)
            clock.advance(by: 600)
            let last = try #require(try await queue.claim(workerID: "A", leaseSeconds: 60).job)
            #expect(last.attempts == 2)
            #expect(try await queue.retryAfterOutage(last, error: "ERR_STORAGE_UNAVAILABLE", budget: 120) == .exhausted)
        }
    }

    @Test(arguments: Engine.all)
    func anOrdinaryRetryEndsTheOutageAndALostLeaseChangesNothing(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let queue = Self.queue(database, clock, maxAttempts: 5)
            let asset = try await makeAsset(database, clock: clock)
            try await queue.enqueue(assetID: asset, kind: .audio)
            let first = try #require(try await queue.claim(workerID: "A", leaseSeconds: 10).job)
            _ = try await queue.retryAfterOutage(first, error: "ERR_STORAGE_UNAVAILABLE", budget: 600)
            clock.advance(by: 20)
            let second = try #require(try await queue.claim(workerID: "A", leaseSeconds: 10).job)
            #expect(second.outageSince != nil)
            _ = try await queue.retry(second, error: "ERR_ENCODER_FAILED")
            #expect(try await queue.job(id: second.id)?.outageSince == nil)

            // A's lease runs out and B takes the job: A's outage retry is refused.
            clock.advance(by: 600)
            let stale = try #require(try await queue.claim(workerID: "A", leaseSeconds: 10).job)
            clock.advance(by: 11)
            let taken = try #require(try await queue.claim(workerID: "B", leaseSeconds: 10).job)
            #expect(try await queue.retryAfterOutage(stale, error: "x", budget: 600) == .leaseLost)
            #expect(try await queue.job(id: taken.id)?.leaseOwner == "B")
        }
    }

    @Test(arguments: Engine.all)
    func aCheckpointNeedsTheLease(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let queue = Self.queue(database, clock)
            let assets = AssetRepository(database: database, clock: clock.clock)
            let asset = try await makeAsset(database, clock: clock)
            _ = try await assets.createChunks(asset, [
                ChunkPlan(kind: .video, index: 0, startSeconds: 0, endSeconds: 10),
                ChunkPlan(kind: .video, index: 1, startSeconds: 10, endSeconds: 20),
            ])
            try await queue.enqueue(assetID: asset, kind: .chunk, chunkIndices: [0, 1])
            let stale = try #require(try await queue.claim(workerID: "A", leaseSeconds: 10).job)
            clock.advance(by: 11)
            let current = try #require(try await queue.claim(workerID: "B", leaseSeconds: 10).job)
            #expect(current.id == stale.id, "B took A's expired job over")

            // A progress checkpoint is fenced the same way.
            #expect(try await assets.recordStoredSegments(asset, kind: .video, index: 0, json: "stale", lease: stale) == false)
            #expect(try await assets.chunks(asset).first { $0.index == 0 }?.resultJSON == nil)
            #expect(try await assets.recordStoredSegments(asset, kind: .video, index: 0, json: "partial", lease: current))
            #expect(try await assets.chunks(asset).first { $0.index == 0 }?.resultJSON == "partial")

            #expect(try await assets.markChunkDone(asset, kind: .video, index: 0, resultJSON: "stale", lease: stale) == false)
            #expect(try await assets.chunks(asset).first { $0.index == 0 }?.status == .pending)
            #expect(try await assets.markChunkDone(asset, kind: .video, index: 0, resultJSON: "current", lease: current))
            #expect(try await assets.chunks(asset).first { $0.index == 0 }?.resultJSON == "current")
        }
    }
}
