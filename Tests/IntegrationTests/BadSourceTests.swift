import Foundation
import PulseJobs
import PulseTestSupport
import Testing

extension IntegrationTests {
    @Suite struct BadSource {
        /// A source that is not a video fails at once with its code, after one attempt and no
        /// retry; the same worker process goes on with the next asset, which ends ready.
        @Test(.enabled(if: TestServices.processTestsEnabled), .timeLimit(.minutes(2)))
        func badSourceFailsOnceAndTheWorkerGoesOn() async throws {
            try await withFixture { fixture in
                let badKey = "uploads/bad/not_video.mp4"
                let goodKey = "uploads/good/tiny.mp4"
                try await fixture.upload(try TestMedia.path("not_video.mp4"), key: badKey)
                try await fixture.upload(try TestMedia.path("tiny_160x120.mp4"), key: goodKey)
                let bad = try await fixture.submit(badKey)
                let good = try await fixture.submit(goodKey)

                let worker = try fixture.startPulse("worker", ["worker"])
                let failed = try await fixture.waitForTerminal(bad, timeout: .seconds(60))
                #expect(failed.status == .failed)
                #expect(failed.errorCode == .nonVideo, "error \(failed.errorCode?.rawValue ?? "nil"): \(failed.errorMessage ?? "")")
                #expect(failed.attempts == 1)
                let ready = try await fixture.waitForTerminal(good, timeout: .seconds(60))
                #expect(ready.status == .ready, "the next asset ended \(ready.status) \(ready.errorCode?.rawValue ?? "")")
                try await fixture.waitForQueueToDrain(timeout: .seconds(30))
                #expect(worker.isRunning, "the worker did not survive the bad source:\n\(worker.stderrTail())")

                // One attempt, no retry: the prepare job failed for good and nothing else was queued.
                let jobs = try await fixture.queue.jobs(assetID: bad)
                #expect(jobs.map(\.kind) == [.prepare], "jobs of the bad source: \(jobs.map(\.kind))")
                let prepare = try #require(jobs.first)
                #expect(prepare.attempts == 1)
                #expect(prepare.status == .failed)
                #expect(prepare.lastError?.hasPrefix("ERR_NON_VIDEO") == true, "last_error: \(prepare.lastError ?? "nil")")
                #expect(try await fixture.store.list(prefix: "processed/\(bad.uuidString.lowercased())/").isEmpty)
                // The worker went on at once: the good asset was prepared after the bad one failed, not after a backoff.
                let goodJobs = try await fixture.queue.jobs(assetID: good)
                #expect(goodJobs.allSatisfy { $0.status == .done && $0.attempts == 1 })

                worker.signal(SIGTERM)
                #expect(await worker.waitForExit(timeout: .seconds(15)) != nil, "the worker did not stop on SIGTERM")
            }
        }

        /// Through the worker, as an upload would go: a header that says 5 s over 60 s of video is
        /// refused by a 30 s limit, and a live recording with no declared duration ends `ready`
        /// with the duration its packets give.
        @Test(.enabled(if: TestServices.processTestsEnabled), .timeLimit(.minutes(2)))
        func declaredDurationsAreNotBelieved() async throws {
            try await withFixture { fixture in
                try await fixture.upload(try TestMedia.path("lying_duration.mkv"), key: "uploads/lying/source.mkv")
                try await fixture.upload(try TestMedia.path("no_duration.mkv"), key: "uploads/live/source.mkv")
                let lying = try await fixture.submit("uploads/lying/source.mkv")
                let live = try await fixture.submit("uploads/live/source.mkv")
                _ = try fixture.startPulse("worker", ["worker"], environment: ["PULSE_MAX_DURATION": "30", "PULSE_SEGMENT_SECONDS": "4", "PULSE_CHUNK_SECONDS": "4"])

                let refused = try await fixture.waitForTerminal(lying, timeout: .seconds(60))
                #expect(refused.status == .failed)
                #expect(refused.errorCode == .durationExceedConstraint, "\(refused.errorCode?.rawValue ?? "nil"): \(refused.errorMessage ?? "")")
                #expect(try await fixture.store.list(prefix: "processed/\(lying.uuidString.lowercased())/").isEmpty)

                let ready = try await fixture.waitForTerminal(live, timeout: .seconds(90))
                #expect(ready.status == .ready, "\(ready.errorCode?.rawValue ?? "nil"): \(ready.errorMessage ?? "")")
                #expect(abs((ready.duration ?? 0) - 12) < 0.5, "duration \(ready.duration ?? -1)")
                let hls = try await checkStoredHLS(fixture.store, prefix: "processed/\(live.uuidString.lowercased())/")
                #expect(!hls.segments.isEmpty)
            }
        }
    }
}
