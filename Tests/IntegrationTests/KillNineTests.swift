import Foundation
import PulseJobs
import PulseMedia
import PulseStorage
import PulseTestSupport
import Testing

extension IntegrationTests {
    @Suite struct KillNine {
        /// kill -9 a worker mid-transcode, start another: the asset ends ready, checkpointed chunks
        /// are not encoded again, rework is at most the chunk in flight, every segment is stored
        /// once, the original is deleted, and no ffmpeg of the dead worker is left.
        @Test(.enabled(if: TestServices.processTestsEnabled), .timeLimit(.minutes(3)))
        func killedWorkerIsResumedFromItsCheckpoints() async throws {
            try await withFixture { fixture in
                let requestLog = fixture.logDirectory + "/requests.log"
                let proxy = try await fixture.startProxy(requestLog: requestLog)
                let overrides = ["AWS_ENDPOINT_URL_S3": proxy.endpoint]
                let sourceKey = "uploads/kill9/source.mp4"
                try await fixture.upload(try await Clips.hd6s(), key: sourceKey)
                let id = try await fixture.submit(sourceKey)

                let workerA = try fixture.startPulse("worker-A", ["worker"], environment: overrides)
                let scratchA = "\(fixture.workDirectory)/worker-\(workerA.pid)-"
                // Mid-transcode: a chunk checkpointed, a chunk job running, its ffmpeg just started
                // (a 1080p chunk takes about a second, so the kill lands well inside it).
                // Stopped first: the chunk in flight may finish between the read and the kill.
                let encoder = try await workerA.stopped(when: "worker A to start encoding a chunk after one was checkpointed", timeout: .seconds(60), interval: .milliseconds(20), context: { fixture.logs() }, settled: { try await fixture.databaseIdle() }) { () -> Int32? in
                    guard let pid = youngEncoder(commandLineContaining: scratchA) else { return nil }
                    let done = try await fixture.assets.chunks(id).filter { $0.status == .done && $0.kind == .video }
                    let running = try await fixture.queue.jobs(assetID: id).filter { $0.status == .running && $0.kind == .chunk }
                    return !done.isEmpty && !running.isEmpty ? pid : nil
                }
                workerA.signal(SIGKILL)
                #expect(await workerA.waitForExit(timeout: .seconds(10)) == 128 + SIGKILL)
                // Its ffmpeg dies with it (PR_SET_PDEATHSIG), within a bounded wait.
                let ffmpegGone = (try? await waitUntil("worker A's ffmpeg to die", timeout: .seconds(10)) {
                    mediaTools(commandLineContaining: scratchA).isEmpty
                }) != nil
                #expect(ffmpegGone, "ffmpeg left running after its worker died: \(mediaTools(commandLineContaining: scratchA).map(\.pid)) (the encoder was \(encoder))")
                let staleFolders = try FileManager.default.contentsOfDirectory(atPath: fixture.workDirectory).filter { "\(fixture.workDirectory)/\($0)".hasPrefix(scratchA) }
                #expect(staleFolders.count == 1, "worker A's scratch folder: \(staleFolders)")

                // The state the dead worker left, frozen until worker B starts.
                let chunksAtKill = try await fixture.assets.chunks(id)
                let jobsAtKill = try await fixture.queue.jobs(assetID: id)
                let inFlight = Set(jobsAtKill.filter { $0.status == .running }.map(\.id))
                let doneAtKill = chunksAtKill.filter { $0.status == .done }
                #expect(inFlight.count == 1, "one job in flight on a worker of concurrency 1: \(jobsAtKill.filter { $0.status == .running })")
                #expect(chunksAtKill.contains { $0.status == .pending }, "the kill came too late: every chunk was done")

                print("[kill -9] chunks done at the kill: \(doneAtKill.map { "\($0.kind)\($0.index)" }), in flight: \(jobsAtKill.filter { $0.status == .running }.map { "\($0.kind)\($0.chunkIndex.map(String.init) ?? "")" }), pending: \(chunksAtKill.filter { $0.status == .pending }.count)")
                let workerB = try fixture.startPulse("worker-B", ["worker"], environment: overrides)
                // B removes A's stale scratch folder before it takes any work.
                try await waitUntil("worker B to start", timeout: .seconds(30), context: { workerB.stderrTail() }) {
                    workerB.stderr.contains("worker started")
                }
                let remaining = try FileManager.default.contentsOfDirectory(atPath: fixture.workDirectory).filter { "\(fixture.workDirectory)/\($0)".hasPrefix(scratchA) }
                #expect(remaining.isEmpty, "worker A's stale scratch folder survives worker B's start: \(remaining)")
                let asset = try await fixture.waitForTerminal(id, timeout: .seconds(90))
                #expect(asset.status == .ready, "asset ended \(asset.status) \(asset.errorCode?.rawValue ?? "") \(asset.errorMessage ?? "")")
                try await fixture.waitForQueueToDrain(timeout: .seconds(30))
                workerB.signal(SIGTERM)
                // Its exit status is the SIGTERM test's business; here it only has to stop.
                #expect(await workerB.waitForExit(timeout: .seconds(15)) != nil, "worker B did not stop on SIGTERM")

                let chunks = try await fixture.assets.chunks(id)
                let jobs = try await fixture.queue.jobs(assetID: id)
                #expect(chunks.allSatisfy { $0.status == .done })
                #expect(jobs.allSatisfy { $0.status == .done }, "jobs: \(jobs.map { "\($0.kind)\($0.chunkIndex.map(String.init) ?? "") \($0.status)" })")
                // Checkpointed before the kill: kept as they were, and their jobs ran once.
                let retried = retriedKeys([workerA.stderr, workerB.stderr])
                for before in doneAtKill {
                    let after = try #require(chunks.first { $0.kind == before.kind && $0.index == before.index })
                    #expect(after.doneAt == before.doneAt, "\(before.kind) chunk \(before.index) was checkpointed again")
                    let encoding = JobKind.encoding(before.unit)
                    let job = try #require(fixture.job(jobs, encoding.kind, encoding.chunkIndex))
                    if !inFlight.contains(job.id) {
                        #expect(job.attempts == 1, "\(before.kind) chunk \(before.index) (done before the kill) has \(job.attempts) attempts")
                    }
                }
                // Rework is at most what was in flight: every other job ran exactly once.
                for job in jobs where !inFlight.contains(job.id) {
                    #expect(job.attempts == 1, "\(job.kind) \(job.chunkIndex.map(String.init) ?? "") ran \(job.attempts) times but was not in flight at the kill")
                }
                for job in jobs where inFlight.contains(job.id) {
                    #expect(job.attempts == 2, "the job in flight at the kill should have run once more, ran \(job.attempts) times")
                }

                // Storage: every segment once, no strays, the original gone, and it plays.
                let prefix = "processed/\(id.uuidString.lowercased())/"
                let stored = try await checkStoredHLS(fixture.store, prefix: prefix)
                #expect(try await fixture.store.head(key: sourceKey) == nil, "the original was not deleted")
                // Not encoded again, as uploads: the segments of chunks checkpointed before the kill went up once.
                let puts = proxiedRequests(requestLog).filter { $0.method == "PUT" }
                let putCounts = Dictionary(puts.map { ($0.path, 1) }, uniquingKeysWith: +)
                for before in doneAtKill {
                    let result = try JSONDecoder().decode(UnitResult.self, from: Data(try #require(before.resultJSON).utf8))
                    for (rendition, segments) in result.renditions {
                        for segment in segments {
                            let path = "/\(fixture.bucket)/\(prefix)\(rendition)/\(segment.fileName)"
                            let retriedByClient = retried.contains("\(prefix)\(rendition)/\(segment.fileName)")
                            #expect(putCounts[path] == 1 || (retriedByClient && (putCounts[path] ?? 0) > 1),
                                    "\(path) of a chunk done before the kill was uploaded \(putCounts[path] ?? 0) times")
                        }
                    }
                }
                for segment in stored.segments {
                    #expect((putCounts["/\(fixture.bucket)/\(prefix)\(segment)"] ?? 0) >= 1, "\(segment) never went through the proxy")
                }
                let deletes = proxiedRequests(requestLog).filter { $0.method == "DELETE" && $0.path == "/\(fixture.bucket)/\(sourceKey)" }
                #expect(deletes.count == 1, "the original was deleted \(deletes.count) times")
                let decoded = try await decodeStoredHLS(fixture.store, prefix: prefix, into: fixture.root + "/decoded", logDirectory: fixture.logDirectory)
                #expect(decoded.status == 0 && decoded.stderr.isEmpty, "ffmpeg could not decode the master playlist: \(decoded.stderr)")
            }
        }
    }
}
