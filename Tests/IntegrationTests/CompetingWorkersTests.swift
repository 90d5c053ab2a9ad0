import Foundation
import PulseJobs
import PulseStorage
import PulseTestSupport
import Testing

extension IntegrationTests {
    @Suite struct CompetingWorkers {
        /// N worker processes on 10 assets: every asset ready, every job claimed once and done
        /// (nothing processed twice after it was acknowledged), every chunk encoded by one worker
        /// and every segment uploaded once, and every worker took part.
        @Test(.enabled(if: TestServices.processTestsEnabled), .timeLimit(.minutes(3)), arguments: [2, 4])
        func workersShareTheQueueWithoutDoingAnythingTwice(workers: Int) async throws {
            try await withFixture { fixture in
                let requestLog = fixture.logDirectory + "/requests.log"
                let proxy = try await fixture.startProxy(requestLog: requestLog)
                // 480p: the first rendition (360p and the audio) and the rest of the ladder.
                let clip = try TestMedia.path("sd_480p.mp4")
                var ids: [UUID] = []
                for index in 0..<10 {
                    let key = "uploads/clip-\(index)/sd.mp4"
                    try await fixture.upload(clip, key: key)
                    ids.append(try await fixture.submit(key))
                }

                let started = try (0..<workers).map { index in
                    try fixture.startPulse("worker-\(index)", ["worker"], environment: ["AWS_ENDPOINT_URL_S3": proxy.endpoint])
                }
                for id in ids {
                    let asset = try await fixture.waitForTerminal(id, timeout: .seconds(120))
                    #expect(asset.status == .ready, "asset \(id) ended \(asset.status) \(asset.errorCode?.rawValue ?? "") \(asset.errorMessage ?? "")")
                }
                try await fixture.waitForQueueToDrain(timeout: .seconds(30))
                for worker in started {
                    #expect(worker.isRunning, "\(worker.name) died:\n\(worker.stderrTail())")
                    worker.signal(SIGTERM)
                }
                for worker in started {
                    #expect(await worker.waitForExit(timeout: .seconds(15)) != nil, "\(worker.name) did not stop on SIGTERM")
                }

                // Every job claimed once and acknowledged: at-least-once delivery delivered exactly once.
                var owners: [String: Int] = [:]
                for id in ids {
                    let jobs = try await fixture.queue.jobs(assetID: id)
                    #expect(jobs.count == 4, "prepare, the first rendition, the ladder's chunk, finalize: \(jobs.map(\.kind))")
                    for job in jobs {
                        #expect(job.status == .done && job.attempts == 1, "\(id) \(job.kind) \(job.chunkIndex.map(String.init) ?? ""): \(job.status), \(job.attempts) attempts, \(job.lastError ?? "")")
                        if let owner = job.leaseOwner { owners[owner, default: 0] += 1 }
                    }
                    #expect(try await fixture.assets.chunks(id).allSatisfy { $0.status == .done })
                }
                #expect(owners.count == workers, "jobs per worker: \(owners)")
                print("[\(workers) workers] jobs per worker: \(owners.values.sorted())")

                // Each chunk was encoded by one worker, once: one "chunk done" in all the logs.
                var encodes: [String: Int] = [:]
                for worker in started {
                    for line in worker.stderr.split(separator: "\n") where line.hasSuffix("chunk done") {
                        let fields = Dictionary(line.split(separator: " ").compactMap { field -> (String, String)? in
                            let parts = field.split(separator: "=", maxSplits: 1)
                            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
                        }, uniquingKeysWith: { first, _ in first })
                        let unit = "\(fields["asset.id"]?.lowercased() ?? "?") \(fields["chunk.kind"] ?? "?") \(fields["chunk.index"] ?? "?")"
                        encodes[unit, default: 0] += 1
                    }
                }
                #expect(encodes.count == ids.count * 2, "chunks encoded: \(encodes.count), expected \(ids.count * 2)")
                #expect(encodes.values.allSatisfy { $0 == 1 }, "chunks encoded more than once: \(encodes.filter { $0.value > 1 })")

                // Every segment went up once and is where the playlists say.
                let puts = Dictionary(proxiedRequests(requestLog).filter { $0.method == "PUT" }.map { ($0.path, 1) }, uniquingKeysWith: +)
                let retried = retriedKeys(started.map(\.stderr))
                for id in ids {
                    let prefix = "processed/\(id.uuidString.lowercased())/"
                    let stored = try await checkStoredHLS(fixture.store, prefix: prefix)
                    for segment in stored.segments {
                        let path = "/\(fixture.bucket)/\(prefix)\(segment)"
                        let retriedByClient = retried.contains("\(prefix)\(segment)")
                        #expect(puts[path] == 1 || (retriedByClient && (puts[path] ?? 0) > 1), "\(path) uploaded \(puts[path] ?? 0) times")
                    }
                    #expect(try await fixture.store.head(key: "uploads/clip-\(ids.firstIndex(of: id)!)/sd.mp4") == nil, "the original of \(id) was not deleted")
                }
            }
        }
    }
}
