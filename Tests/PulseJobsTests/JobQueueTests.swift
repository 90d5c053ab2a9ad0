import Foundation
import PulseDatabase
import PulseJobs
import PulseSupport
import PulseTestSupport
import Testing

@Suite struct JobQueueTests {
    /// A queue whose backoff always takes half its ceiling: 1 s after attempt 1, 2 s after attempt 2...
    static func queue(_ database: any Database, _ clock: ManualClock, maxAttempts: Int = 3) -> JobQueue {
        JobQueue(
            database: database,
            clock: clock.clock,
            backoff: RetryPolicy(base: 2, cap: 300, random: { 0.5 }),
            defaultMaxAttempts: maxAttempts
        )
    }

    @Test(arguments: Engine.all)
    func enqueueIsIdempotent(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let queue = Self.queue(database, clock)
            let asset = try await makeAsset(database, clock: clock)
            #expect(try await queue.enqueue(assetID: asset, kind: .prepare))
            #expect(try await queue.enqueue(assetID: asset, kind: .prepare) == false)
            #expect(try await queue.enqueue(assetID: asset, kind: .chunk, chunkIndex: 0))
            #expect(try await queue.enqueue(assetID: asset, kind: .chunk, chunkIndex: 0) == false)
            #expect(try await queue.enqueue(assetID: asset, kind: .chunk, chunkIndices: [0, 1, 2]) == 2)
            let jobs = try await queue.jobs(assetID: asset)
            #expect(jobs.map(\.kind) == [.prepare, .chunk, .chunk, .chunk])
            #expect(jobs.map(\.chunkIndex) == [nil, 0, 1, 2])
            #expect(jobs.allSatisfy { $0.status == .queued && $0.attempts == 0 && $0.maxAttempts == 3 })
            #expect(try await queue.pendingCount() == 4)
            #expect(try await queue.deleteJobs(assetID: asset) == 4)
            #expect(try await queue.pendingCount() == 0)
        }
    }

    @Test(arguments: Engine.all)
    func claimLeasesExpiryAndReclaim(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let queue = Self.queue(database, clock)
            let asset = try await makeAsset(database, clock: clock)
            try await queue.enqueue(assetID: asset, kind: .prepare)

            let first = try #require(try await queue.claim(workerID: "A", leaseSeconds: 60).job)
            #expect(first.status == .running)
            #expect(first.attempts == 1)
            #expect(first.leaseOwner == "A")
            #expect(first.leaseExpiresAt == clock.now + 60)
            #expect(try await queue.claim(workerID: "B", leaseSeconds: 60).job == nil)

            // A heartbeat moves the expiry.
            clock.advance(by: 50)
            #expect(try await queue.heartbeat(first, leaseSeconds: 60))
            clock.advance(by: 50)
            #expect(try await queue.claim(workerID: "B", leaseSeconds: 60).job == nil)

            // A stops heartbeating: once the lease is past, B takes the job over.
            clock.advance(by: 11)
            let second = try #require(try await queue.claim(workerID: "B", leaseSeconds: 60).job)
            #expect(second.id == first.id)
            #expect(second.attempts == 2)
            #expect(second.leaseOwner == "B")

            // A lost the lease: every call it makes is refused.
            #expect(try await queue.heartbeat(first, leaseSeconds: 60) == false)
            #expect(try await queue.complete(first) == false)
            #expect(try await queue.fail(first, error: "late") == false)
            #expect(try await queue.release(first) == false)
            #expect(try await queue.retry(first, error: "late") == .leaseLost)

            #expect(try await queue.complete(second))
            #expect(try await queue.complete(second) == false)
            let stored = try #require(try await queue.job(id: first.id))
            #expect(stored.status == .done)
            #expect(stored.leaseOwner == "B")
            #expect(try await queue.claim(workerID: "C", leaseSeconds: 60).job == nil)
            #expect(try await queue.pendingCount() == 0)
        }
    }

    @Test(arguments: Engine.all)
    func claimsInRunAtOrder(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let queue = Self.queue(database, clock)
            let asset = try await makeAsset(database, clock: clock)
            try await queue.enqueue(assetID: asset, kind: .chunk, chunkIndex: 1, runAt: clock.now + 10)
            try await queue.enqueue(assetID: asset, kind: .chunk, chunkIndex: 2)
            try await queue.enqueue(assetID: asset, kind: .chunk, chunkIndex: 3)
            let a = try #require(try await queue.claim(workerID: "w", leaseSeconds: 60).job)
            let b = try #require(try await queue.claim(workerID: "w", leaseSeconds: 60).job)
            #expect([a.chunkIndex, b.chunkIndex] == [2, 3])
            #expect(try await queue.claim(workerID: "w", leaseSeconds: 60).job == nil)
            clock.advance(by: 10)
            #expect(try await queue.claim(workerID: "w", leaseSeconds: 60).job?.chunkIndex == 1)
        }
    }

    @Test(arguments: Engine.all)
    func retryWaitsForItsBackoff(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let queue = Self.queue(database, clock)
            let asset = try await makeAsset(database, clock: clock)
            try await queue.enqueue(assetID: asset, kind: .audio)

            let first = try #require(try await queue.claim(workerID: "A", leaseSeconds: 60).job)
            #expect(try await queue.retry(first, error: "storage unreachable") == .scheduled(runAt: clock.now + 1))
            clock.advance(by: 0.9)
            #expect(try await queue.claim(workerID: "A", leaseSeconds: 60).job == nil)
            clock.advance(by: 0.1)
            let second = try #require(try await queue.claim(workerID: "A", leaseSeconds: 60).job)
            #expect(second.attempts == 2)
            #expect(second.lastError == "storage unreachable")
            // Attempt 2: ceiling 4 s, half of it.
            #expect(try await queue.retry(second, error: "again") == .scheduled(runAt: clock.now + 2))
            clock.advance(by: 2)
            let third = try #require(try await queue.claim(workerID: "A", leaseSeconds: 60).job)
            #expect(third.attempts == 3)
            // The last attempt failing fails the job.
            #expect(try await queue.retry(third, error: "for good") == .exhausted)
            clock.advance(by: 1000)
            #expect(try await queue.claim(workerID: "A", leaseSeconds: 60).job == nil)
            let stored = try #require(try await queue.job(id: first.id))
            #expect(stored.status == .failed)
            #expect(stored.lastError == "for good")
        }
    }

    @Test(arguments: Engine.all)
    func exhaustedLeasesAreFailedAndReportedOnce(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let queue = Self.queue(database, clock, maxAttempts: 2)
            let asset = try await makeAsset(database, clock: clock)
            try await queue.enqueue(assetID: asset, kind: .chunk, chunkIndex: 0)
            try await queue.enqueue(assetID: asset, kind: .chunk, chunkIndex: 1, runAt: clock.now + 1000)

            // A job that kills its worker every time: claimed, lease runs out, twice.
            let first = try #require(try await queue.claim(workerID: "A", leaseSeconds: 10).job)
            clock.advance(by: 11)
            let second = try #require(try await queue.claim(workerID: "B", leaseSeconds: 10).job)
            #expect(second.id == first.id)
            #expect(second.attempts == 2)
            clock.advance(by: 11)

            let claim = try await queue.claim(workerID: "C", leaseSeconds: 10)
            #expect(claim.job == nil)
            #expect(claim.exhausted.map(\.id) == [first.id])
            #expect(claim.exhausted.first?.assetID == asset)
            #expect(claim.exhausted.first?.status == .failed)
            #expect(claim.exhausted.first?.lastError == JobQueue.workerLostError)
            // Reported once only.
            #expect(try await queue.claim(workerID: "C", leaseSeconds: 10).exhausted.isEmpty)
            #expect(try await queue.heartbeat(second, leaseSeconds: 10) == false)
            #expect(try await queue.pendingCount() == 1)
        }
    }

    @Test(arguments: Engine.all)
    func failStopsTheJob(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let queue = Self.queue(database, clock)
            let asset = try await makeAsset(database, clock: clock)
            try await queue.enqueue(assetID: asset, kind: .prepare)
            let job = try #require(try await queue.claim(workerID: "A", leaseSeconds: 60).job)
            #expect(try await queue.fail(job, error: "ERR_NON_VIDEO"))
            clock.advance(by: 120)
            let claim = try await queue.claim(workerID: "B", leaseSeconds: 60)
            #expect(claim.job == nil)
            #expect(claim.exhausted.isEmpty)
            #expect(try await queue.job(id: job.id)?.status == .failed)
            #expect(try await queue.job(id: job.id)?.lastError == "ERR_NON_VIDEO")
        }
    }

    @Test(arguments: Engine.all)
    func releaseHandsTheJobOverAtOnceWithoutCountingTheAttempt(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let queue = Self.queue(database, clock, maxAttempts: 1)
            let asset = try await makeAsset(database, clock: clock)
            try await queue.enqueue(assetID: asset, kind: .chunk, chunkIndex: 4)
            let job = try #require(try await queue.claim(workerID: "A", leaseSeconds: 60).job)
            #expect(try await queue.release(job))
            #expect(try await queue.heartbeat(job, leaseSeconds: 60) == false)
            // No waiting for the lease, and with max_attempts 1 the job still gets its one attempt.
            let again = try #require(try await queue.claim(workerID: "B", leaseSeconds: 60).job)
            #expect(again.id == job.id)
            #expect(again.attempts == 1)
            #expect(try await queue.complete(again))
        }
    }
}
