import Foundation
import PulseDatabase
import PulseJobs
import PulseTestSupport
import Synchronization
import Testing

@Suite struct ConcurrentClaimTests {
    /// N claimers, each with its own connection (SQLite) or pool (PostgreSQL), drain M jobs: every job
    /// is claimed exactly once. The lease is long and the clock stands still, so a second claim of
    /// the same job could only come from a race in `claim`.
    @Test(arguments: Engine.all)
    func everyJobIsClaimedExactlyOnce(engine: Engine) async throws {
        let claimers = 4
        let jobCount = 60
        try await withTestLocation(engine) { url in
            try await withEngines(url, count: claimers) { engines in
                let clock = ManualClock()
                try await migrate(engines[0], logger: TestServices.logger)
                let asset = try await makeAsset(engines[0], clock: clock)
                let setup = JobQueue(database: engines[0], clock: clock.clock)
                #expect(try await setup.enqueue(assetID: asset, kind: .chunk, chunkIndices: Array(0..<jobCount)) == jobCount)

                let claimed = try await withTimeout(.seconds(60)) {
                    try await withThrowingTaskGroup(of: [Int64].self) { group in
                        for (number, engine) in engines.enumerated() {
                            group.addTask {
                                let queue = JobQueue(database: engine, clock: clock.clock)
                                var mine: [Int64] = []
                                while let job = try await queue.claim(workerID: "w\(number)", leaseSeconds: 600).job {
                                    mine.append(job.id)
                                    #expect(try await queue.complete(job))
                                }
                                return mine
                            }
                        }
                        return try await group.reduce(into: [[Int64]]()) { $0.append($1) }
                    }
                }
                let all = claimed.flatMap { $0 }
                #expect(all.count == jobCount)
                #expect(Set(all).count == jobCount)
                #expect(try await setup.pendingCount() == 0)
            }
        }
    }
}
