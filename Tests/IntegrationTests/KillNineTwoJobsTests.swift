import Foundation
import PulseJobs
import PulseTestSupport
import Testing

extension IntegrationTests {
    @Suite struct KillNineTwoJobs {
        /// kill -9 a worker running two jobs: another worker finishes the asset, and neither job
        /// in flight at the kill has used an attempt on it (the worker died, not the jobs): each
        /// was claimed twice, one loss excused.
        @Test(.enabled(if: TestServices.processTestsEnabled), .timeLimit(.minutes(3)))
        func aKillCostsTheJobsInFlightNoAttempt() async throws {
            try await withFixture { fixture in
                let sourceKey = "uploads/kill9-two/source.mp4"
                try await fixture.upload(try await Clips.hd6s(), key: sourceKey)
                let id = try await fixture.submit(sourceKey)
                // Ladder chunks of the whole clip: each job runs long enough to be in flight at the kill.
                let twoJobs = ["PULSE_WORKER_CONCURRENCY": "2", "PULSE_CHUNK_SECONDS": "6"]

                let workerA = try fixture.startPulse("worker-A", ["worker"], environment: twoJobs)
                // Stopped first: a job may finish between a read that sees two running and the kill.
                try await workerA.stopped(when: "worker A to run two jobs at once", timeout: .seconds(60), context: { fixture.logs() }, settled: { try await fixture.databaseIdle() }) {
                    try await fixture.queue.jobs(assetID: id).filter { $0.status == .running }.count == 2 ? true : nil
                }
                workerA.signal(SIGKILL)
                #expect(await workerA.waitForExit(timeout: .seconds(10)) == 128 + SIGKILL)
                let inFlight = try await fixture.queue.jobs(assetID: id).filter { $0.status == .running }
                #expect(inFlight.count == 2, "in flight at the kill: \(inFlight.map { "\($0.kind)\($0.chunkIndex.map(String.init) ?? "")" })")

                let workerB = try fixture.startPulse("worker-B", ["worker"], environment: twoJobs)
                let asset = try await fixture.waitForTerminal(id, timeout: .seconds(90))
                #expect(asset.status == .ready, "asset ended \(asset.status) \(asset.errorCode?.rawValue ?? "") \(asset.errorMessage ?? "")")
                try await fixture.waitForQueueToDrain(timeout: .seconds(30))
                workerB.signal(SIGTERM)
                #expect(await workerB.waitForExit(timeout: .seconds(15)) != nil, "worker B did not stop on SIGTERM")

                let jobs = try await fixture.queue.jobs(assetID: id)
                for lost in inFlight {
                    let job = try #require(jobs.first { $0.id == lost.id })
                    #expect(job.status == .done)
                    #expect(job.attempts == 2 && job.excusedLosses == 1, "\(job.kind) \(job.chunkIndex.map(String.init) ?? ""): \(job.attempts) attempts, \(job.excusedLosses) excused")
                }
                print("[kill -9, two jobs] in flight: \(inFlight.map { "\($0.kind)\($0.chunkIndex.map(String.init) ?? "")" })")
            }
        }
    }
}
