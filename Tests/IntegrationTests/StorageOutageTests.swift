import Foundation
import PulseJobs
import PulseTestSupport
import Testing

extension IntegrationTests {
    @Suite struct StorageOutage {
        /// The storage endpoint goes away mid-chunk (every connection dropped, new ones refused)
        /// for 30 s and comes back on the same address: an outage, not bad input. The asset stays
        /// `processing`, the jobs wait it out without using up their attempts, and the asset ends
        /// `ready`. moto keeps running throughout (its state lives in memory); the outage is a
        /// proxy in front of it. The worker has exactly the environment `transcode` needs: an
        /// `http://` endpoint and no PULSE_ALLOW_HTTP.
        @Test(.enabled(if: TestServices.processTestsEnabled), .timeLimit(.minutes(4)))
        func anOutageOfThirtySecondsMidChunkStillEndsReady() async throws {
            try await withFixture { fixture in
                let proxy = try await fixture.startProxy()
                let sourceKey = "uploads/outage/source.mp4"
                try await fixture.upload(try await Clips.hd6s(), key: sourceKey)
                let id = try await fixture.submit(sourceKey)
                let worker = try fixture.startPulse("worker", ["worker"], environment: ["AWS_ENDPOINT_URL_S3": proxy.endpoint])
                let scratch = "\(fixture.workDirectory)/worker-\(worker.pid)-"

                // While a chunk encodes (ffmpeg reading the source, segments going up)...
                try await waitUntil("a chunk to be encoding", timeout: .seconds(60), interval: .milliseconds(20), context: { fixture.logs() }) {
                    let running = try await fixture.queue.jobs(assetID: id).contains { $0.status == .running && $0.kind == .chunk }
                    return running && !mediaTools(commandLineContaining: scratch).isEmpty
                }
                // ...storage goes away for 30 s.
                proxy.process.signal(SIGKILL)
                #expect(await proxy.process.waitForExit(timeout: .seconds(5)) != nil)
                let outageStart = ContinuousClock.now
                let noticed = try await waitFor("a job to fail during the outage", timeout: .seconds(30), interval: .milliseconds(100), context: { fixture.logs() }) { () -> Job? in
                    try await fixture.queue.jobs(assetID: id).first { $0.lastError != nil }
                }
                while ContinuousClock.now - outageStart < .seconds(30) {
                    let asset = try #require(try await fixture.assets.get(id))
                    #expect(asset.status == .processing, "the outage failed the asset: \(asset.errorCode?.rawValue ?? "") \(asset.errorMessage ?? "")")
                    if asset.status != .processing { break }
                    // The outage is the scenario: 30 s of it, checked once a second.
                    try await Task.sleep(for: .seconds(1))
                }
                let outage = ContinuousClock.now - outageStart

                let restored = try await fixture.startProxy(port: proxy.port)
                #expect(restored.port == proxy.port)
                let asset = try await fixture.waitForTerminal(id, timeout: .seconds(120))
                #expect(asset.status == .ready, "asset ended \(asset.status) \(asset.errorCode?.rawValue ?? "") \(asset.errorMessage ?? "") after an outage of \(outage)")
                try await fixture.waitForQueueToDrain(timeout: .seconds(30))
                #expect(worker.isRunning, "the worker died during the outage:\n\(worker.stderrTail())")

                let jobs = try await fixture.queue.jobs(assetID: id)
                #expect(jobs.allSatisfy { $0.status == .done }, "jobs: \(jobs.map { "\($0.kind) \($0.status)" })")
                let hit = jobs.filter { $0.lastError?.contains("ERR_STORAGE_UNAVAILABLE") == true }
                #expect(!hit.isEmpty, "no job recorded the outage: \(jobs.map { $0.lastError ?? "-" })")
                // Outage retries give their attempt back: each job ends on its first counted attempt.
                #expect(jobs.allSatisfy { $0.attempts == 1 }, "attempts used: \(jobs.map { "\($0.kind)\($0.chunkIndex.map(String.init) ?? ""): \($0.attempts) \($0.lastError?.prefix(60) ?? "")" })")
                #expect(jobs.contains { $0.id == noticed.id })
                print("[outage] storage down for \(outage); jobs that waited it out: \(hit.map { "\($0.kind)\($0.chunkIndex.map(String.init) ?? "")" })")
                _ = try await checkStoredHLS(fixture.store, prefix: "processed/\(id.uuidString.lowercased())/")
                #expect(try await fixture.store.head(key: sourceKey) == nil, "the original was not deleted")
            }
        }
    }
}
