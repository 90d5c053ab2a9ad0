import Foundation
import PulseDatabase
import PulseJobs
import PulseSupport
import PulseTestSupport
import Testing

/// Which lost leases count against a job's attempts: only those that point at the job (no
/// progress under the lease, and its worker lost nothing else at that instant). Workers here run
/// two jobs each, and die by not renewing their leases on the injected clock.
@Suite struct LostLeaseCountingTests {
    static let lease = 30.0

    static func queue(_ database: any Database, _ clock: ManualClock, maxAttempts: Int, maxExcusedLosses: Int = 10) -> JobQueue {
        JobQueue(database: database, clock: clock.clock, defaultMaxAttempts: maxAttempts, maxExcusedLosses: maxExcusedLosses)
    }

    /// Claims the next job for `worker`; fails the test if none is ready.
    static func claim(_ queue: JobQueue, _ worker: String) async throws -> Job {
        let claim = try await queue.claim(workerID: worker, leaseSeconds: lease)
        #expect(claim.exhausted.isEmpty, "\(worker) was told to fail \(claim.exhausted.map(\.id))")
        return try #require(claim.job, "nothing for \(worker) to claim")
    }

    @Test("a worker killed with two jobs in flight costs neither an attempt, kill after kill", arguments: Engine.all)
    func killedWithTwoJobsInFlight(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let queue = Self.queue(database, clock, maxAttempts: 2)
            let asset = try await makeAsset(database, clock: clock)
            try await queue.enqueue(assetID: asset, kind: .chunk, chunkIndices: [0, 1])

            // Five kills, more than the attempts the jobs have. Each worker holds both jobs, renews
            // them in turn, and dies: a's lease runs out first, and the next worker takes a over
            // while b's lease still runs; b follows when its lease runs out too.
            var a = try await Self.claim(queue, "worker-1")
            clock.advance(by: 4)
            var b = try await Self.claim(queue, "worker-1")
            for kill in 1...5 {
                clock.advance(by: 6)
                #expect(try await queue.heartbeat(a, leaseSeconds: Self.lease))
                clock.advance(by: 4)
                #expect(try await queue.heartbeat(b, leaseSeconds: Self.lease))
                clock.advance(by: Self.lease - 4 + 1)
                let next = "worker-\(kill + 1)"
                let takenOver = try await Self.claim(queue, next)
                #expect(takenOver.id == a.id, "kill \(kill): \(takenOver.chunkIndex ?? -1) was claimed first")
                #expect(try await queue.job(id: b.id)?.leaseOwner == b.leaseOwner, "b's lease should still run")
                clock.advance(by: 4)
                a = takenOver
                b = try await Self.claim(queue, next)
                let jobs = try await queue.jobs(assetID: asset)
                #expect(jobs.allSatisfy { $0.status == .running }, "kill \(kill): \(jobs.map { "\($0.status) x\($0.attempts) \($0.lastError ?? "")" })")
            }
            // Each claimed 6 times, 5 of them lost with the worker: the attempts they have are intact.
            for job in [a, b] {
                #expect(job.attempts == 6 && job.excusedLosses == 5, "\(job.chunkIndex ?? -1): \(job.attempts) attempts, \(job.excusedLosses) excused")
                #expect(try await queue.complete(job))
            }
            #expect(try await queue.pendingCount() == 0)
        }
    }

    @Test("a job lost alone while its worker renews its other job counts; with no attempts left it fails", arguments: Engine.all)
    func lostAloneBesideALiveJobCounts(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let queue = Self.queue(database, clock, maxAttempts: 1)
            let asset = try await makeAsset(database, clock: clock)
            try await queue.enqueue(assetID: asset, kind: .chunk, chunkIndices: [0, 1])
            let hung = try await Self.claim(queue, "A")
            let healthy = try await Self.claim(queue, "A")
            // A keeps renewing one job and not the other, which stops before storing anything.
            for _ in 0..<3 {
                clock.advance(by: Self.lease / 3)
                #expect(try await queue.heartbeat(healthy, leaseSeconds: Self.lease))
            }
            clock.advance(by: 1)
            let claim = try await queue.claim(workerID: "B", leaseSeconds: Self.lease)
            #expect(claim.job == nil)
            #expect(claim.exhausted.map(\.id) == [hung.id])
            #expect(claim.exhausted.first?.lastError == JobQueue.workerLostError)
            #expect(try await queue.heartbeat(healthy, leaseSeconds: Self.lease), "the live job lost its lease")
        }
    }

    @Test("a lease lost after a segment or a checkpoint was stored does not count", arguments: Engine.all)
    func progressExcusesTheLoss(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let queue = Self.queue(database, clock, maxAttempts: 1)
            let assets = AssetRepository(database: database, clock: clock.clock)
            let asset = try await makeAsset(database, clock: clock)
            try await assets.createChunks(asset, [ChunkPlan(kind: .first, index: 0, startSeconds: 0, endSeconds: 10)])
            try await queue.enqueue(assetID: asset, kind: .first)

            // A segment stored: recorded once, and only by the lease holder.
            let first = try await Self.claim(queue, "A")
            #expect(!first.lossExcused)
            #expect(try await queue.recordProgress(first))
            #expect(try await queue.job(id: first.id)?.lossExcused == true)
            clock.advance(by: Self.lease + 1)
            let second = try await Self.claim(queue, "B")
            #expect(second.id == first.id && second.attempts == 2 && second.excusedLosses == 1)
            #expect(!second.lossExcused, "a new lease starts with no progress")
            #expect(try await queue.recordProgress(first) == false, "a lost lease recorded progress")

            // A checkpoint (the first rendition's stored segments) is progress too.
            #expect(try await assets.recordStoredSegments(asset, kind: .first, index: 0, json: "{}", lease: second))
            #expect(try await queue.job(id: first.id)?.lossExcused == true)
            clock.advance(by: Self.lease + 1)
            let third = try await Self.claim(queue, "C")
            #expect(third.attempts == 3 && third.excusedLosses == 2)

            // No progress this time: the one attempt it has is used, and the job fails.
            clock.advance(by: Self.lease + 1)
            let claim = try await queue.claim(workerID: "D", leaseSeconds: Self.lease)
            #expect(claim.exhausted.map(\.id) == [first.id])
        }
    }

    @Test("a job whose worker dies each time it runs it fails after its attempts", arguments: Engine.all)
    func poisonJobAloneFails(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let queue = Self.queue(database, clock, maxAttempts: 3)
            let asset = try await makeAsset(database, clock: clock)
            try await queue.enqueue(assetID: asset, kind: .chunk, chunkIndex: 7)
            for round in 1...3 {
                let job = try await Self.claim(queue, "worker-\(round)")
                #expect(job.attempts == round)
                clock.advance(by: Self.lease + 1)
            }
            let claim = try await queue.claim(workerID: "last", leaseSeconds: Self.lease)
            #expect(claim.job == nil)
            #expect(claim.exhausted.map(\.chunkIndex) == [7])
            #expect(claim.exhausted.first?.status == .failed && claim.exhausted.first?.lastError == JobQueue.workerLostError)
        }
    }

    @Test("a job that kills its worker beside other work still fails, after its excused losses too", arguments: Engine.all)
    func poisonJobBesideOtherWorkFails(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let queue = Self.queue(database, clock, maxAttempts: 2, maxExcusedLosses: 3)
            let asset = try await makeAsset(database, clock: clock)
            try await queue.enqueue(assetID: asset, kind: .chunk, chunkIndex: 0)
            var deaths = 0
            var claim = try await queue.claim(workerID: "worker-0", leaseSeconds: Self.lease)
            // Each worker takes the poison job and a fresh one beside it; both are lost together.
            while claim.exhausted.isEmpty, deaths < 20 {
                let poison = try #require(claim.job)
                #expect(poison.chunkIndex == 0)
                // The job lost beside it last time is finished by a healthy worker.
                while let innocent = try await queue.claim(workerID: "healthy", leaseSeconds: Self.lease).job {
                    #expect(innocent.excusedLosses == 1)
                    #expect(try await queue.complete(innocent))
                }
                try await queue.enqueue(assetID: asset, kind: .chunk, chunkIndex: 100 + deaths)
                let beside = try await Self.claim(queue, "worker-\(deaths)")
                #expect(beside.chunkIndex != 0)
                deaths += 1
                clock.advance(by: Self.lease + 1)
                claim = try await queue.claim(workerID: "worker-\(deaths)", leaseSeconds: Self.lease)
            }
            let exhausted = claim.exhausted
            // Three losses excused, then two counted: failed on the fifth death, not looping.
            #expect(deaths == 5)
            #expect(exhausted.map(\.chunkIndex) == [0])
            #expect(exhausted.first?.excusedLosses == 3 && exhausted.first?.attempts == 5)
        }
    }
}
