import Foundation
import PulseJobs
import Testing

extension IntegrationTests {
    @Suite struct StorageOutage {
        /// The storage endpoint goes away mid-job (every connection dropped, new ones refused) and
        /// comes back on the same address: the job is retried and the asset completes. moto keeps
        /// running throughout (its state lives in memory); the outage is a proxy in front of it.
        @Test(.enabled(if: TestServices.processTestsEnabled), .timeLimit(.minutes(3)))
        func jobIsRetriedAcrossAStorageOutage() async throws {
            try await withFixture { fixture in
                let proxy = try await fixture.startProxy()
                let sourceKey = "uploads/outage/source.mp4"
                try await fixture.upload(try await Clips.hd6s(), key: sourceKey)
                let id = try await fixture.submit(sourceKey)
                let worker = try fixture.startPulse("worker", ["worker"], environment: ["AWS_ENDPOINT_URL_S3": proxy.endpoint])
                let scratch = "\(fixture.workDirectory)/worker-\(worker.pid)-"

                // While a chunk encodes (ffmpeg reading the source, segments going up)...
                try await eventually("a chunk to be encoding", timeout: .seconds(60), interval: .milliseconds(20), context: { fixture.logs() }) { () -> Bool? in
                    let running = try await fixture.queue.jobs(assetID: id).contains { $0.status == .running && $0.kind == .chunk }
                    return running && !mediaTools(commandLineContaining: scratch).isEmpty ? true : nil
                }
                // ...storage goes away, and stays away until the worker has noticed: a job failed.
                proxy.process.signal(SIGKILL)
                #expect(await proxy.process.waitForExit(timeout: .seconds(5)) != nil)
                let outageStart = ContinuousClock.now
                let noticed = try await eventually("a job to fail during the outage", timeout: .seconds(60), interval: .milliseconds(100), context: { fixture.logs() }) { () -> Job? in
                    try await fixture.queue.jobs(assetID: id).first { $0.lastError != nil }
                }
                let outage = ContinuousClock.now - outageStart
                #expect(try await fixture.assets.get(id)?.status == .processing, "a storage outage must not fail the asset")

                let restored = try await fixture.startProxy(port: proxy.port)
                #expect(restored.port == proxy.port)
                let asset = try await fixture.waitForTerminal(id, timeout: .seconds(120))
                #expect(asset.status == .ready, "asset ended \(asset.status) \(asset.errorCode ?? "") \(asset.errorMessage ?? "") after an outage of \(outage)")
                try await fixture.waitForQueueToDrain(timeout: .seconds(30))
                #expect(worker.isRunning, "the worker died during the outage:\n\(worker.stderrTail())")

                let jobs = try await fixture.queue.jobs(assetID: id)
                let retried = jobs.filter { $0.attempts > 1 || $0.lastError != nil }
                #expect(!retried.isEmpty, "the jobs table shows no retry")
                #expect(jobs.allSatisfy { $0.status == .done }, "jobs: \(jobs.map { "\($0.kind) \($0.status)" })")
                let failed = try #require(jobs.first { $0.id == noticed.id })
                #expect(failed.attempts >= 2, "the failed job was not tried again: \(failed.attempts) attempts")
                #expect(failed.lastError?.contains("ERR_") == true, "last_error has no error code: \(failed.lastError ?? "nil")")
                print("[outage] storage down for \(outage); retried: \(retried.map { "\($0.kind)\($0.chunkIndex.map(String.init) ?? "") x\($0.attempts): \($0.lastError?.prefix(60) ?? "")" })")
                _ = try await checkStoredHLS(fixture.store, prefix: "processed/\(id.uuidString.lowercased())/")
                #expect(try await fixture.store.head(key: sourceKey) == nil, "the original was not deleted")
            }
        }
    }
}
