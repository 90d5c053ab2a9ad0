import Foundation
import PulseJobs
import PulseMedia
import PulseStorage
import PulseTestSupport
import Testing

extension IntegrationTests {
    @Suite struct FirstRenditionKill {
        /// kill -9 a worker while it publishes the first rendition, start another: the asset was
        /// already playable and ends ready; the new worker resumes after the segments the first
        /// one checkpointed: none of them is encoded or uploaded again (at most the one in flight
        /// at the kill), the audio's stored segments are not sent again either, and the ladder is
        /// valid.
        /// The limits catch a hang, not a slow machine: worker B encodes the whole ladder of a
        /// 20 s 1080p clip, which took about three minutes beside two other x264 encodes.
        @Test(.enabled(if: TestServices.processTestsEnabled), .timeLimit(.minutes(6)))
        func aKilledFirstRenditionResumesAfterItsStoredSegments() async throws {
            try await withFixture { fixture in
                let requestLog = fixture.logDirectory + "/requests.log"
                let proxy = try await fixture.startProxy(requestLog: requestLog)
                let overrides = ["AWS_ENDPOINT_URL_S3": proxy.endpoint]
                let sourceKey = "uploads/first-kill/source.mp4"
                try await fixture.upload(try await Clips.hd20s(), key: sourceKey)
                let id = try await fixture.submit(sourceKey)
                let first = WorkUnit.ID(kind: .first, index: 0)

                let workerA = try fixture.startPulse("worker-A", ["worker"], environment: overrides)
                // Mid-rendition: playable, some segments checkpointed, the rest still to come.
                let storedAtKill = try await waitFor("worker A to store part of the first rendition", timeout: .seconds(90), interval: .milliseconds(20), context: { fixture.logs() }) { () -> StoredSegments? in
                    guard let chunk = try await fixture.assets.chunks(id).first(where: { $0.unit == first }), chunk.status == .pending,
                          let json = chunk.resultJSON, let stored = try? JSONDecoder().decode(StoredSegments.self, from: Data(json.utf8))
                    else { return nil }
                    return (stored.segments["360p"]?.count ?? 0) >= 5 ? stored : nil
                }
                workerA.signal(SIGKILL)
                #expect(await workerA.waitForExit(timeout: .seconds(10)) == 128 + SIGKILL)
                // The checkpoint may have moved on between the read and the kill: the last one counts.
                let chunkAtKill = try #require(try await fixture.assets.chunks(id).first { $0.unit == first })
                #expect(chunkAtKill.status == .pending, "the kill came too late: the first rendition was done")
                let checkpoint = try JSONDecoder().decode(StoredSegments.self, from: Data(try #require(chunkAtKill.resultJSON).utf8))
                #expect((checkpoint.segments["360p"]?.count ?? 0) >= (storedAtKill.segments["360p"]?.count ?? 0))
                let atKill = try #require(try await fixture.assets.get(id))
                #expect(atKill.playableAt != nil, "not playable with \(checkpoint.segments["360p"]?.count ?? 0) segments stored")
                print("[first kill] checkpointed at the kill: video \(checkpoint.segments["360p"]?.count ?? 0), audio \(checkpoint.segments["audio"]?.count ?? 0)")

                let workerB = try fixture.startPulse("worker-B", ["worker"], environment: overrides)
                let asset = try await fixture.waitForTerminal(id, timeout: .seconds(300))
                #expect(asset.status == .ready, "asset ended \(asset.status) \(asset.errorCode?.rawValue ?? "") \(asset.errorMessage ?? "")")
                #expect(asset.playableAt == atKill.playableAt, "playable_at was set again")
                try await fixture.waitForQueueToDrain(timeout: .seconds(30))
                workerB.signal(SIGTERM)
                #expect(await workerB.waitForExit(timeout: .seconds(15)) != nil)

                // Worker B resumed from the checkpoint it found (the last one worker A wrote).
                #expect(workerB.stderr.contains("media.segments.stored=\(checkpoint.segments["360p"]?.count ?? -1)") && workerB.stderr.contains("first rendition resumed"), "worker B's log: \(workerB.stderrTail())")
                let prefix = "processed/\(id.uuidString.lowercased())/"
                let puts = proxiedRequests(requestLog).filter { $0.method == "PUT" }
                let putCounts = Dictionary(puts.map { ($0.path, 1) }, uniquingKeysWith: +)
                let retried = retriedKeys([workerA.stderr, workerB.stderr])
                for (rendition, segments) in checkpoint.segments {
                    for segment in segments {
                        let key = "\(prefix)\(rendition)/\(segment.fileName)"
                        let count = putCounts["/\(fixture.bucket)/\(key)"] ?? 0
                        #expect(count == 1 || (retried.contains(key) && count > 1), "\(key), stored before the kill, was uploaded \(count) times")
                    }
                }
                // Beyond the checkpoint, at most the segment in flight at the kill went up twice.
                let twice = putCounts.filter { request in
                    request.key.contains("/\(prefix)360p/") && request.key.hasSuffix(".ts") && request.value > 1
                        && !retried.contains(String(request.key.dropFirst(fixture.bucket.count + 2)))
                }
                #expect(twice.count <= 1, "360p segments uploaded more than once: \(twice)")
                let stored = try await checkStoredHLS(fixture.store, prefix: prefix)
                #expect(stored.segments.contains { $0.hasPrefix("360p/") })
                let decoded = try await decodeStoredHLS(fixture.store, prefix: prefix, into: fixture.root + "/decoded", logDirectory: fixture.logDirectory)
                #expect(decoded.status == 0 && decoded.stderr.isEmpty, "ffmpeg could not decode the master playlist: \(decoded.stderr)")
                #expect(try await fixture.store.head(key: sourceKey) == nil, "the original was not deleted")
            }
        }
    }
}
