import Foundation
import Logging
import NIOCore
import PulseDatabase
@testable import PulseJobs
import PulseStorage
import PulseSupport
import PulseTestSupport
import ServiceLifecycle
import Testing

/// The reaper on the real databases and a real local store: exactly the old failed and the
/// abandoned assets go, with their rows, chunks, jobs and objects; everything else stays.
@Suite struct ReaperTests {
    static let day = 24.0 * 3600

    /// The shared place, on a clock moved by hand, and what these tests arrange and check on it.
    @dynamicMemberLookup
    struct Fixture {
        let place: TestPlace
        let clock: ManualClock

        subscript<T>(dynamicMember path: KeyPath<TestPlace, T>) -> T { place[keyPath: path] }

        func reaper(_ configuration: ReaperConfiguration = ReaperConfiguration()) -> Reaper { place.reaper(configuration) }

        /// An asset in `status`, with a job, a chunk and the objects it would have at that stage.
        func asset(_ status: AssetStatus, objects: [String] = []) async throws -> UUID {
            let id = UUID()
            let idText = id.uuidString.lowercased()
            try await self.assets.create(NewAsset(id: id, status: status == .awaitingUpload ? .awaitingUpload : .queued, filename: "clip.mp4", sourceKey: "uploads/\(idText)/clip.mp4"))
            switch status {
            case .awaitingUpload, .queued: break
            case .processing: try await self.assets.beginAttempt(id)
            case .ready: try await self.assets.markReady(id)
            case .failed: try await self.assets.fail(id, code: .malformedVideo, message: "truncated")
            }
            if status != .awaitingUpload {
                try await self.queue.enqueue(assetID: id, kind: .prepare)
                try await self.assets.createChunks(id, [ChunkPlan(kind: .video, index: 0, startSeconds: 0, endSeconds: 10)])
            }
            for object in objects {
                try await self.store.put(ByteBuffer(string: "bytes of \(object)"), key: object.replacingOccurrences(of: "{id}", with: idText))
            }
            return id
        }

        func keys(_ id: UUID) async throws -> [String] {
            let idText = id.uuidString.lowercased()
            let objects = try await self.store.list(prefix: "uploads/\(idText)/") + self.store.list(prefix: "processed/\(idText)/")
            return objects.map(\.key).sorted()
        }

        func expectGone(_ id: UUID, sourceLocation: SourceLocation = #_sourceLocation) async throws {
            #expect(try await self.assets.get(id) == nil, "row of \(id)", sourceLocation: sourceLocation)
            #expect(try await self.queue.jobs(assetID: id).isEmpty, "jobs of \(id)", sourceLocation: sourceLocation)
            #expect(try await self.assets.chunks(id).isEmpty, "chunks of \(id)", sourceLocation: sourceLocation)
            #expect(try await keys(id).isEmpty, "objects of \(id)", sourceLocation: sourceLocation)
        }

        func expectKept(_ id: UUID, _ status: AssetStatus, objects: Int, jobs: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
            #expect(try await self.assets.get(id)?.status == status, "row of \(id)", sourceLocation: sourceLocation)
            #expect(try await self.queue.jobs(assetID: id).count == jobs, "jobs of \(id)", sourceLocation: sourceLocation)
            #expect(try await keys(id).count == objects, "objects of \(id)", sourceLocation: sourceLocation)
        }
    }

    func withFixture(_ engine: Engine, _ body: (Fixture) async throws -> Void) async throws {
        let clock = ManualClock()
        try await withTestPlace(engine, clock: clock.clock) { place in
            try await body(Fixture(place: place, clock: clock))
        }
    }

    /// The assets of the main scenario, made at controlled times; the pass runs 8 days after the start.
    struct Scenario {
        var failedOld, abandonedOld, failedRecent, abandonedRecent, ready, processing, queued: UUID
    }

    func makeScenario(_ f: Fixture) async throws -> Scenario {
        // Day 0: everything old is created; one asset fails at once.
        let failedOld = try await f.asset(.failed, objects: ["uploads/{id}/clip.mp4", "processed/{id}/thumbnail.jpg", "processed/{id}/720p/seg_00000.ts"])
        let abandonedOld = try await f.asset(.awaitingUpload, objects: ["uploads/{id}/clip.mp4"])
        let ready = try await f.asset(.ready, objects: ["processed/{id}/master.m3u8", "processed/{id}/720p/seg_00000.ts"])
        let processing = try await f.asset(.processing, objects: ["uploads/{id}/clip.mp4", "processed/{id}/thumbnail.jpg"])
        let queued = try await f.asset(.queued, objects: ["uploads/{id}/clip.mp4"])
        // Created on day 0 too, but failed only on day 7.5: retention counts from the failure.
        let failedRecent = try await f.asset(.queued, objects: ["uploads/{id}/clip.mp4", "processed/{id}/thumbnail.jpg"])
        f.clock.advance(by: 7.5 * Self.day)
        try await f.assets.fail(failedRecent, code: .nonVideo, message: "not a video")
        // Day 7.9: a new asset waiting for its upload, within its 24 h.
        f.clock.advance(by: 0.4 * Self.day)
        let abandonedRecent = try await f.asset(.awaitingUpload, objects: ["uploads/{id}/clip.mp4"])
        f.clock.advance(by: 0.1 * Self.day)
        return Scenario(
            failedOld: failedOld, abandonedOld: abandonedOld, failedRecent: failedRecent, abandonedRecent: abandonedRecent,
            ready: ready, processing: processing, queued: queued
        )
    }

    @Test("one pass deletes exactly the old failed and the abandoned assets", arguments: Engine.all)
    func reapsExactlyTheDueAssets(engine: Engine) async throws {
        try await withFixture(engine) { f in
            let s = try await makeScenario(f)
            #expect(try await f.keys(s.failedOld).count == 3)
            var deletedEvents = f.bus.subscribe(assetID: s.failedOld).makeAsyncIterator()

            // The query alone: failed by updated_at, abandoned by created_at.
            let due = try await f.assets.reapable(failedBefore: f.clock.now - 7 * Self.day, abandonedBefore: f.clock.now - Self.day)
            #expect(Set(due.map(\.id)) == [s.failedOld, s.abandonedOld])
            #expect(try await f.assets.reapable(failedBefore: nil, abandonedBefore: f.clock.now - Self.day).map(\.id) == [s.abandonedOld])
            #expect(try await f.assets.reapable(failedBefore: f.clock.now - 7 * Self.day, abandonedBefore: nil).map(\.id) == [s.failedOld])
            #expect(try await f.assets.reapable(failedBefore: nil, abandonedBefore: nil).isEmpty)

            let reaper = f.reaper()
            #expect(try await reaper.reapOnce(now: f.clock.now) == 2)

            try await f.expectGone(s.failedOld)
            try await f.expectGone(s.abandonedOld)
            try await f.expectKept(s.failedRecent, .failed, objects: 2, jobs: 1)
            try await f.expectKept(s.abandonedRecent, .awaitingUpload, objects: 1, jobs: 0)
            try await f.expectKept(s.ready, .ready, objects: 2, jobs: 1)
            try await f.expectKept(s.processing, .processing, objects: 2, jobs: 1)
            try await f.expectKept(s.queued, .queued, objects: 1, jobs: 1)

            // Subscribers of a reaped asset hear the same terminal event as after DELETE.
            let event = await deletedEvents.next()
            #expect(event?.type == .failed)
            #expect(event?.errorCode == .assetDeleted)
            #expect(event?.status == .failed)

            // Nothing more is due: a second pass (or another process's) deletes nothing.
            #expect(try await reaper.reapOnce(now: f.clock.now) == 0)
            // A day later the recent failure is still within its 7 days, the new upload is abandoned.
            f.clock.advance(by: Self.day)
            #expect(try await reaper.reapOnce(now: f.clock.now) == 1)
            try await f.expectGone(s.abandonedRecent)
            try await f.expectKept(s.failedRecent, .failed, objects: 2, jobs: 1)
            // A week after its failure it goes too.
            f.clock.advance(by: 7 * Self.day)
            #expect(try await reaper.reapOnce(now: f.clock.now) == 1)
            try await f.expectGone(s.failedRecent)
            try await f.expectKept(s.ready, .ready, objects: 2, jobs: 1)
            try await f.expectKept(s.processing, .processing, objects: 2, jobs: 1)
            try await f.expectKept(s.queued, .queued, objects: 1, jobs: 1)
        }
    }

    @Test("an age of 0 turns that kind of reaping off", arguments: Engine.all)
    func zeroDisables(engine: Engine) async throws {
        try await withFixture(engine) { f in
            let s = try await makeScenario(f)
            var keepFailed = ReaperConfiguration()
            keepFailed.failedAfterSeconds = 0
            #expect(try await f.reaper(keepFailed).reapOnce(now: f.clock.now) == 1)
            try await f.expectGone(s.abandonedOld)
            try await f.expectKept(s.failedOld, .failed, objects: 3, jobs: 1)

            var keepAbandoned = ReaperConfiguration()
            keepAbandoned.abandonedAfterSeconds = 0
            f.clock.advance(by: 30 * Self.day)
            #expect(try await f.reaper(keepAbandoned).reapOnce(now: f.clock.now) == 2)
            try await f.expectGone(s.failedOld)
            try await f.expectGone(s.failedRecent)
            try await f.expectKept(s.abandonedRecent, .awaitingUpload, objects: 1, jobs: 0)

            var neither = ReaperConfiguration()
            neither.failedAfterSeconds = 0
            neither.abandonedAfterSeconds = 0
            #expect(!neither.isEnabled)
            #expect(try await f.reaper(neither).reapOnce(now: f.clock.now) == 0)
            try await f.expectKept(s.abandonedRecent, .awaitingUpload, objects: 1, jobs: 0)
        }
    }

    @Test("a pass deletes at most its batch, oldest first", arguments: Engine.all)
    func boundedBatch(engine: Engine) async throws {
        try await withFixture(engine) { f in
            var ids: [UUID] = []
            for _ in 0..<5 {
                ids.append(try await f.asset(.failed, objects: ["processed/{id}/thumbnail.jpg"]))
                f.clock.advance(by: 1)
            }
            f.clock.advance(by: 8 * Self.day)
            var configuration = ReaperConfiguration()
            configuration.batchSize = 2
            let reaper = f.reaper(configuration)
            #expect(try await reaper.reapOnce(now: f.clock.now) == 2)
            try await f.expectGone(ids[0])
            try await f.expectGone(ids[1])
            for id in ids[2...] { try await f.expectKept(id, .failed, objects: 1, jobs: 1) }
            #expect(try await reaper.reapOnce(now: f.clock.now) == 2)
            #expect(try await reaper.reapOnce(now: f.clock.now) == 1)
            for id in ids { try await f.expectGone(id) }
        }
    }

    @Test("reapers in several processes at once delete each asset once, without errors", arguments: Engine.all)
    func concurrentReapers(engine: Engine) async throws {
        try await withFixture(engine) { f in
            var ids: [UUID] = []
            for _ in 0..<8 {
                ids.append(try await f.asset(.failed, objects: ["uploads/{id}/clip.mp4", "processed/{id}/thumbnail.jpg"]))
            }
            f.clock.advance(by: 8 * Self.day)
            let now = f.clock.now
            let reapers = (0..<3).map { _ in f.reaper() }
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for reaper in reapers { group.addTask { try await reaper.reapOnce(now: now) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(counts.reduce(0, +) == ids.count, "each asset counted by exactly one reaper: \(counts)")
            for id in ids { try await f.expectGone(id) }
        }
    }

    @Test("an upload completed after the listing no longer passes the rule the reaper checks again before deleting", arguments: Engine.all)
    func recheckBeforeDeleting(engine: Engine) async throws {
        try await withFixture(engine) { f in
            let id = try await f.asset(.awaitingUpload, objects: ["uploads/{id}/clip.mp4"])
            f.clock.advance(by: 2 * Self.day)
            let asset = try #require(try await f.assets.get(id))
            #expect(Reaper.isReapable(asset, failedBefore: nil, abandonedBefore: f.clock.now - Self.day))
            // The client completes the upload after the reaper listed it.
            #expect(try await f.assets.markUploaded(id, size: 10))
            let moved = try #require(try await f.assets.get(id))
            #expect(!Reaper.isReapable(moved, failedBefore: f.clock.now, abandonedBefore: f.clock.now))
            #expect(try await f.reaper().reapOnce(now: f.clock.now) == 0)
            try await f.expectKept(id, .queued, objects: 1, jobs: 0)
        }
    }

    @Test("AssetLifecycle is idempotent", arguments: Engine.all)
    func deletionIsIdempotent(engine: Engine) async throws {
        try await withFixture(engine) { f in
            let id = try await f.asset(.ready, objects: ["processed/{id}/master.m3u8", "uploads/{id}/clip.mp4"])
            let other = try await f.asset(.ready, objects: ["processed/{id}/master.m3u8"])
            let deletion = f.lifecycle
            #expect(try await deletion.delete(id))
            try await f.expectGone(id)
            #expect(try await deletion.delete(id) == false)
            #expect(try await deletion.delete(UUID()) == false)
            try await f.expectKept(other, .ready, objects: 1, jobs: 1)
        }
    }

    @Test("the service reaps on its schedule and stops on graceful shutdown")
    func serviceLoop() async throws {
        try await withFixture(.sqlite) { f in
            let s = try await makeScenario(f)
            var configuration = ReaperConfiguration()
            configuration.initialDelay = .milliseconds(10)
            configuration.intervalSeconds = 3600
            let group = ServiceGroup(configuration: .init(services: [f.reaper(configuration)], logger: TestServices.logger))
            try await withTimeout(.seconds(30)) {
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await group.run() }
                    try await waitUntil("the first pass to delete the old failed and abandoned assets") {
                        let failedOld = try await f.assets.get(s.failedOld), abandonedOld = try await f.assets.get(s.abandonedOld)
                        return failedOld == nil && abandonedOld == nil
                    }
                    // Mid-sleep (an hour to the next pass): shutdown must not wait for it.
                    await group.triggerGracefulShutdown()
                    try await tasks.waitForAll()
                }
            }
            try await f.expectGone(s.failedOld)
            try await f.expectGone(s.abandonedOld)
            try await f.expectKept(s.failedRecent, .failed, objects: 2, jobs: 1)
        }
    }

    /// The reaper's settings as `serve` reads them: through the shared reader, with the default
    /// upload URL lifetime (1 h). Returns the settings, or every problem named.
    func read(_ environment: [String: String]) -> Result<ReaperConfiguration, ConfigurationError> {
        var settings = SettingsReader(environment: environment)
        let configuration = ReaperConfiguration(reading: &settings, uploadURLLifetime: .seconds(3600))
        do { try settings.finish() } catch { return .failure(error) }
        return .success(configuration)
    }

    @Test("configuration from the environment")
    func configurationFromEnvironment() throws {
        let defaults = try read([:]).get()
        #expect(defaults == ReaperConfiguration())
        #expect(defaults.failedAfterSeconds == 604_800)
        #expect(defaults.abandonedAfterSeconds == 86_400)
        #expect(defaults.intervalSeconds == 600)
        #expect(defaults.batchSize == 100)

        let set = try read([
            "PULSE_REAP_FAILED_AFTER_SECONDS": "0", "PULSE_REAP_ABANDONED_AFTER_SECONDS": "7200", "PULSE_REAP_INTERVAL_SECONDS": "30",
        ]).get()
        #expect(set.failedAfterSeconds == 0)
        #expect(set.abandonedAfterSeconds == 7200)
        #expect(set.intervalSeconds == 30)
        #expect(set.isEnabled)
        #expect(try read(["PULSE_REAP_FAILED_AFTER_SECONDS": ""]).get() == defaults)

        for (name, value) in [
            ("PULSE_REAP_FAILED_AFTER_SECONDS", "-1"), ("PULSE_REAP_FAILED_AFTER_SECONDS", "a week"),
            ("PULSE_REAP_ABANDONED_AFTER_SECONDS", "1.5"), ("PULSE_REAP_ABANDONED_AFTER_SECONDS", "-86400"),
            ("PULSE_REAP_ABANDONED_AFTER_SECONDS", "600"),
            ("PULSE_REAP_INTERVAL_SECONDS", "0"), ("PULSE_REAP_INTERVAL_SECONDS", "ten"),
        ] {
            guard case .failure(let error) = read([name: value]) else {
                Issue.record("\(name)=\(value) was accepted")
                continue
            }
            #expect(error.problems.count == 1 && error.problems[0].hasPrefix(name + " "), "\(error.problems)")
        }
    }
}
