import Foundation
import PulseJobs
import PulseTestSupport
import Testing

extension IntegrationTests {
    @Suite struct Sigterm {
        /// SIGTERM mid-chunk: the worker stops within seconds with status 0, its ffmpeg is gone,
        /// its job is queued again at once (not when the 60 s lease runs out) without the attempt
        /// counting, and a second worker finishes the asset long before that lease would have expired.
        @Test(.enabled(if: TestServices.processTestsEnabled), .timeLimit(.minutes(2)))
        func sigtermReleasesTheJobAtOnce() async throws {
            try await withFixture { fixture in
                let sourceKey = "uploads/sigterm/source.mp4"
                try await fixture.upload(try await Clips.hd6s(), key: sourceKey)
                let id = try await fixture.submit(sourceKey)
                let longLease = ["PULSE_JOB_LEASE_SECONDS": "60"]

                let workerA = try fixture.startPulse("worker-A", ["worker"], environment: longLease)
                let scratchA = "\(fixture.workDirectory)/worker-\(workerA.pid)-"
                let running = try await waitFor("worker A to be encoding a chunk", timeout: .seconds(60), interval: .milliseconds(20), context: { fixture.logs() }) { () -> Job? in
                    guard youngEncoder(commandLineContaining: scratchA) != nil else { return nil }
                    return try await fixture.queue.jobs(assetID: id).first { $0.status == .running && $0.kind == .chunk }
                }

                let signalled = ContinuousClock.now
                workerA.signal(SIGTERM)
                let status = await workerA.waitForExit(timeout: .seconds(10))
                let stopTime = ContinuousClock.now - signalled
                #expect(status != nil, "worker A still runs 10 s after SIGTERM")
                #expect(status == 0, "worker A exited \(status.map(String.init) ?? "-") on SIGTERM, not 0:\n\(workerA.stderrTail(8))")
                let ffmpegGone = (try? await waitUntil("worker A's ffmpeg to exit", timeout: .seconds(5)) {
                    mediaTools(commandLineContaining: scratchA).isEmpty
                }) != nil
                #expect(ffmpegGone, "ffmpeg still runs after its worker stopped: \(mediaTools(commandLineContaining: scratchA).map(\.commandLine))")

                // Released, not abandoned: queued now, the attempt given back, no error recorded.
                let released = try #require(try await fixture.queue.job(id: running.id))
                #expect(released.status == .queued, "the job is \(released.status) after SIGTERM (stopped in \(stopTime))")
                #expect(released.leaseOwner == nil)
                #expect(released.attempts == running.attempts - 1, "attempts \(running.attempts) -> \(released.attempts)")
                #expect(released.lastError == nil, "a shutdown is not a failure: \(released.lastError ?? "")")
                let leftovers = try FileManager.default.contentsOfDirectory(atPath: fixture.workDirectory).filter { "\(fixture.workDirectory)/\($0)".hasPrefix(scratchA) }
                #expect(leftovers.isEmpty, "worker A left its scratch folder: \(leftovers)")

                // Worker B finishes well before A's 60 s lease would have run out: the job was free at once.
                let workerB = try fixture.startPulse("worker-B", ["worker", "--drain"], environment: longLease)
                let exit = await workerB.waitForExit(timeout: .seconds(40))
                #expect(exit == 0, "worker B --drain exited \(exit.map(String.init) ?? "-"):\n\(workerB.stderrTail(8))")
                let asset = try #require(try await fixture.assets.get(id))
                #expect(asset.status == .ready, "asset is \(asset.status) after worker B drained the queue")
                let jobs = try await fixture.queue.jobs(assetID: id)
                #expect(jobs.allSatisfy { $0.status == .done && $0.attempts == 1 }, "jobs: \(jobs.map { "\($0.kind)\($0.chunkIndex.map(String.init) ?? "") \($0.status) x\($0.attempts)" })")
                print("[sigterm] \(running.kind) \(running.chunkIndex ?? -1) released; worker A stopped in \(stopTime)")
            }
        }

        /// SIGTERM to a worker with nothing to do (the usual way to stop one): a graceful exit, status 0.
        @Test(.enabled(if: TestServices.processTestsEnabled), .timeLimit(.minutes(1)))
        func idleWorkerExitsZeroOnSigterm() async throws {
            try await withFixture { fixture in
                let worker = try fixture.startPulse("worker", ["worker"])
                try await waitUntil("the worker to start", timeout: .seconds(30), context: { worker.stderrTail() }) {
                    worker.stderr.contains("worker started")
                }
                // Idle, polling the queue every 250 ms: the state under test is a worker that has
                // been idle for a few polls, which nothing outside it shows, so it is given the time.
                try await Task.sleep(for: .milliseconds(600))
                worker.signal(SIGTERM)
                let status = await worker.waitForExit(timeout: .seconds(10))
                #expect(status == 0, "an idle worker exited \(status.map(String.init) ?? "-") on SIGTERM:\n\(worker.stderrTail(5))")
                #expect(!worker.stderr.contains("Error:"), "stderr: \(worker.stderrTail(5))")
            }
        }
    }
}
