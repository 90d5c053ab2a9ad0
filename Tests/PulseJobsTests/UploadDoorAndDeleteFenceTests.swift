import Foundation
import NIOCore
import PulseDatabase
@testable import PulseJobs
import PulseMedia
import PulseStorage
import PulseSupport
import PulseTestSupport
import Synchronization
import Testing

/// The upload door and the delete fence in the jobs, on both engines with a real local store and real ffmpeg:
/// - the source a worker reads must be the object `complete` accepted (`ERR_SOURCE_CHANGED`);
/// - a delete fences the asset's jobs: nothing they store outlives it, they stop at the next
///   object, and stopping is not a failure;
/// - the reaper sweeps what an unrevocable upload URL stored after `ready`, and finishes deletes
///   that never finished.
@Suite struct UploadDoorAndDeleteFenceTests {
    /// A store that runs `beforePut` before each put of a key it matches (a hook where a delete can
    /// land between a worker's check and its write) and counts the puts that reached the store.
    final class HookedStore: ForwardingStore {
        let base: LocalStore
        let matches: @Sendable (String) -> Bool
        private let hook = Mutex<(@Sendable (String) async throws -> Void)?>(nil)
        private let stored = Mutex<[String]>([])

        init(_ base: LocalStore, matching matches: @escaping @Sendable (String) -> Bool) {
            self.base = base
            self.matches = matches
        }

        func onPut(_ body: (@Sendable (String) async throws -> Void)?) { hook.withLock { $0 = body } }
        var storedKeys: [String] { stored.withLock { $0 } }

        private func before(_ key: String) async throws {
            guard matches(key), let body = hook.withLock({ $0 }) else { return }
            try await body(key)
        }

        private func after(_ key: String) { if matches(key) { stored.withLock { $0.append(key) } } }

        func put(fileAt path: String, key: String, contentType: String?, mode: PutFileMode) async throws {
            try await before(key)
            try await base.put(fileAt: path, key: key, contentType: contentType, mode: mode)
            after(key)
        }

        func put(_ bytes: ByteBuffer, key: String, contentType: String?, contentEncoding: String?) async throws {
            try await before(key)
            try await base.put(bytes, key: key, contentType: contentType, contentEncoding: contentEncoding)
            after(key)
        }
    }

    /// The shared place, its store behind a `HookedStore`, and a media pipeline for real encodes.
    @dynamicMemberLookup
    struct Fixture {
        let place: TestPlace
        let folder: String
        /// The local store under the hook: what is really stored.
        let local: LocalStore
        /// The place's store, the one the code under test writes to.
        let store: HookedStore
        let pipeline: PipelineConfiguration

        subscript<T>(dynamicMember path: KeyPath<TestPlace, T>) -> T { place[keyPath: path] }

        var processor: AssetProcessor {
            AssetProcessor(assets: self.assets, queue: self.queue, store: store, bus: self.bus, configuration: pipeline, logger: TestServices.logger)
        }

        /// An asset whose upload of `clip` was completed, as `POST .../complete` does it.
        func completedAsset(_ clip: String) async throws -> Asset {
            let asset = try await self.lifecycle.create(filename: "clip.mp4")
            let key = try #require(asset.sourceKey)
            try await local.put(fileAt: try TestMedia.path(clip), key: key, contentType: "video/mp4", mode: .copy)
            let object = try #require(try await local.head(key: key))
            #expect(try await self.lifecycle.uploaded(asset.id, object: object))
            return try #require(try await self.assets.get(asset.id))
        }

        /// Replaces the source object behind the asset's back (an S3 presigned PUT sent again) with
        /// `write`, again until the stored object's identity is not the one `complete` recorded
        /// (within the file system's time resolution the new file can carry the old one's
        /// modification time, and then the worker could not tell them apart).
        func replaceSource(_ asset: Asset, _ write: (String) async throws -> Void) async throws {
            let key = try #require(asset.sourceKey)
            try await waitUntil("the replaced source to have an identity of its own") {
                try await write(key)
                let stored = try #require(try await local.head(key: key))
                return SourceIdentity.of(stored) != asset.sourceIdentity
            }
        }

        /// Replaces the source with the test medium `clip`.
        func replaceSource(_ asset: Asset, with clip: String) async throws {
            let path = try TestMedia.path(clip)
            try await replaceSource(asset) { key in try await local.put(fileAt: path, key: key, contentType: "video/mp4", mode: .copy) }
        }

        func claim() async throws -> Job {
            try #require(try await self.queue.claim(workerID: "test", leaseSeconds: 60).job)
        }

        func keys(_ id: UUID) async throws -> [String] {
            try await (local.list(prefix: StorageKeys.processedPrefix(id)) + local.list(prefix: StorageKeys.uploadsPrefix(id))).map(\.key)
        }
    }

    func withFixture(_ engine: Engine, segmentSeconds: Int = 2, preset: String = "ultrafast", _ body: (Fixture) async throws -> Void) async throws {
        try await withTestDatabase(engine) { database in
            try await withTestFolder("pulse-fence") { folder in
                let local = try LocalStore(root: folder + "/storage", logger: TestServices.logger)
                let store = HookedStore(local) { $0.hasPrefix("processed/") }
                var media = MediaConfiguration()
                media.encoding.segmentSeconds = Double(segmentSeconds)
                media.encoding.preset = preset
                try await body(Fixture(
                    place: TestPlace(database: database, store: store), folder: folder, local: local, store: store,
                    pipeline: PipelineConfiguration(media: media, workDirectory: folder + "/work")
                ))
            }
        }
    }

    // MARK: - Complete refuses an upload over the limit

    @Test("complete refuses an upload over the limit for good: removed, failed, announced by webhook and event", arguments: Engine.all)
    func oversizeUploadIsFailed(engine: Engine) async throws {
        try await withFixture(engine) { f in
            let asset = try await f.lifecycle.create(filename: "clip.mp4")
            let key = try #require(asset.sourceKey)
            try await f.local.put(ByteBuffer(repeating: 1, count: 11), key: key)
            let events = f.bus.subscribe(assetID: asset.id)
            let error = await #expect(throws: AssetLifecycleError.self) { try await f.lifecycle.complete(asset, multipart: nil, sizeLimit: 10) }
            #expect(error?.code == .uploadTooLarge && error?.message == "uploads are limited to 10 bytes")
            #expect(try await f.local.head(key: key) == nil, "the refused upload still costs storage")
            let failed = try #require(try await f.assets.get(asset.id))
            #expect(failed.status == .failed && failed.errorCode == .uploadTooLarge)
            #expect(failed.errorMessage == "the upload is larger than 10 bytes")
            let webhooks = try await f.database.query(
                "SELECT event_type FROM webhook_outbox WHERE asset_id = $1", [.text(asset.id.uuidString.lowercased())])
            #expect(try webhooks.map { try $0.text("event_type") } == ["asset.failed"])
            var received = events.makeAsyncIterator()
            let event = try #require(await received.next())
            #expect(event.type == .failed && event.status == .failed && event.errorCode == .uploadTooLarge)
            #expect(event.errorMessage == failed.errorMessage)
            #expect(try await f.queue.pendingCount() == 0, "a refused upload was queued for processing")
        }
    }

    // MARK: - The source is the object complete accepted

    @Test("a source replaced after complete is refused before it is probed", .enabled(if: TestServices.mediaEnabled), arguments: Engine.all)
    func replacedBeforePrepare(engine: Engine) async throws {
        try await withFixture(engine) { f in
            let asset = try await f.completedAsset("sd_480p.mp4")
            #expect(asset.sourceIdentity?.hasPrefix("size=") == true, "complete records the source's identity")
            try await f.replaceSource(asset, with: "not_video.mp4")
            let error = await #expect(throws: MediaError.self) { try await f.processor.process(try await f.claim()) }
            #expect(error?.code == .sourceChanged)
            #expect(try await f.assets.get(asset.id)?.probeJSON == nil, "the replaced source was probed")
            // The worker fails the asset at once, never retrying: the code's retry class.
            #expect(FailureCode.sourceChanged.retry == .never)
            #expect(JobFailure.classify(error!) == .permanent(code: .sourceChanged, message: error!.message))
        }
    }

    @Test("a source replaced after the thumbnail is refused before its units are encoded", .enabled(if: TestServices.mediaEnabled), arguments: Engine.all)
    func replacedBeforeAUnit(engine: Engine) async throws {
        try await withFixture(engine) { f in
            let asset = try await f.completedAsset("sd_480p.mp4")
            try await f.processor.process(try await f.claim())  // prepare: probe, thumbnail, plan
            #expect(try await f.assets.get(asset.id)?.thumbnailKey != nil)
            // Same size, other bytes: only the identity (modification time here, ETag on S3) tells.
            var bytes = try Data(contentsOf: URL(fileURLWithPath: try TestMedia.path("sd_480p.mp4")))
            bytes.replaceSubrange(bytes.count / 2..<bytes.count / 2 + 4096, with: Data(repeating: 0, count: 4096))
            try await f.replaceSource(asset) { key in try await f.local.put(ByteBuffer(bytes: bytes), key: key, contentType: "video/mp4") }
            let unit = try await f.claim()
            #expect(unit.unit != nil)
            let error = await #expect(throws: MediaError.self) { try await f.processor.process(unit) }
            #expect(error?.code == .sourceChanged)
            #expect(f.store.storedKeys.allSatisfy { !$0.hasSuffix(".ts") }, "a segment of the replaced source was stored")
        }
    }

    @Test("an asset submitted directly has its identity recorded at submit", arguments: Engine.all)
    func submitRecordsTheIdentity(engine: Engine) async throws {
        try await withFixture(engine) { f in
            try await f.local.put(ByteBuffer(string: "bytes"), key: "incoming/x.mp4")
            let asset = try await f.lifecycle.submit(sourceKey: "incoming/x.mp4", size: 5)
            #expect(try await f.assets.get(asset.id)?.sourceIdentity?.hasPrefix("size=5;") == true)
        }
    }

    // MARK: - DELETE means gone

    @Test("being deleted: hidden, takes no writes, no checkpoint", arguments: Engine.all)
    func theMark(engine: Engine) async throws {
        try await withFixture(engine) { f in
            let asset = try await f.lifecycle.submit(sourceKey: "uploads/x/clip.mp4", size: 1)
            try await f.assets.createChunks(asset.id, [ChunkPlan(kind: .video, index: 0, startSeconds: 0, endSeconds: 10)])
            #expect(try await f.assets.markDeleting(asset.id))
            #expect(try await f.assets.get(asset.id) == nil)
            #expect(try await f.assets.row(asset.id)?.deletingAt != nil)
            #expect(try await !f.assets.isLive(asset.id))
            #expect(try await f.assets.list().assets.allSatisfy { $0.id != asset.id })
            #expect(try await !f.assets.markReady(asset.id))
            #expect(try await !f.assets.fail(asset.id, code: .processing, message: "late"))
            #expect(try await !f.assets.markChunkDone(asset.id, kind: .video, index: 0, resultJSON: "{}"))
            #expect(try await !f.assets.markDeleting(UUID()))
        }
    }

    @Test("a delete during an encode: the job stores nothing more, stops without failing, and leaves nothing",
          .enabled(if: TestServices.mediaEnabled), arguments: Engine.all)
    func deleteDuringAnEncodeStopsTheJob(engine: Engine) async throws {
        try await withFixture(engine) { f in
            let asset = try await f.completedAsset("bikes.mp4")
            try await f.processor.process(try await f.claim())  // prepare
            let lifecycle = f.lifecycle
            let deleted = Mutex(false)
            // The delete lands between the worker's check and its first segment's store: that
            // segment arrives after the delete swept the prefix.
            f.store.onPut { key in
                guard key.hasSuffix(".ts"), !deleted.withLock({ $0 }) else { return }
                deleted.withLock { $0 = true }
                try await lifecycle.delete(asset.id)
            }
            let unit = try await f.claim()
            try await f.processor.process(unit)  // no error: a deleted asset's job is not a failure
            #expect(deleted.withLock { $0 })
            #expect(f.store.storedKeys.filter { $0.hasSuffix(".ts") }.count == 1, "segments stored after the delete: \(f.store.storedKeys)")
            let left = try await f.keys(asset.id)
            #expect(left.isEmpty, "left behind: \(left)")
            #expect(try await f.assets.row(asset.id) == nil)
        }
    }

    @Test("a delete during an encode, with the worker's lease lost as its job row goes: nothing is left",
          .enabled(if: TestServices.mediaEnabled), .timeLimit(.minutes(3)), arguments: Engine.all)
    func deleteDuringAWorkersEncode(engine: Engine) async throws {
        try await withFixture(engine, segmentSeconds: 2, preset: "veryslow") { f in
            let asset = try await f.completedAsset("bikes.mp4")
            let lifecycle = f.lifecycle
            let deleted = Mutex(false)
            let cancelledWhileStoring = Mutex(false)
            // The delete lands while a segment is on its way to a slow store (S3 under load): the
            // job's row goes with the delete, so the worker's next heartbeat (every second) finds
            // its lease lost and cancels the job while that segment is still being stored. It lands
            // after the delete's sweep, and no later code of the cancelled job runs.
            f.store.onPut { key in
                guard key.hasSuffix(".ts"), !deleted.withLock({ $0 }) else { return }
                deleted.withLock { $0 = true }
                try await lifecycle.delete(asset.id)
                // The slow store: this put is held until the worker cancels the job (a sleep ends
                // early on cancellation), at most 30 s.
                try? await Task.sleep(for: .seconds(30))
                cancelledWhileStoring.withLock { $0 = Task.isCancelled }
            }
            var configuration = WorkerConfiguration()
            configuration.drain = true
            configuration.leaseSeconds = 3  // a heartbeat every second: the deleted job's lease is lost at once
            configuration.pollInterval = .milliseconds(50)
            let worker = Worker(database: f.database, store: f.store, bus: f.bus, pipeline: f.pipeline, configuration: configuration, logger: TestServices.logger)
            try await worker.run()
            #expect(deleted.withLock { $0 })
            #expect(cancelledWhileStoring.withLock { $0 }, "the worker did not cancel the deleted asset's job while its segment was being stored")
            let left = try await f.keys(asset.id)
            #expect(left.isEmpty, "left behind: \(left)")
            #expect(try await f.assets.row(asset.id) == nil)
        }
    }

    // MARK: - The reaper

    @Test("the reaper sweeps a ready asset's uploads once its upload URL has expired, and nothing else", arguments: Engine.all)
    func strayUploadsAfterReady(engine: Engine) async throws {
        let clock = ManualClock()
        try await withTestPlace(engine, clock: clock.clock) { place in
            let (store, assets) = (place.store, place.assets)
            let reaper = place.reaper()

            func asset(_ status: AssetStatus) async throws -> UUID {
                let id = UUID()
                try await assets.create(NewAsset(id: id, status: .queued, filename: "clip.mp4", sourceKey: StorageKeys.upload(id, filename: "clip.mp4")))
                switch status {
                case .ready: try await assets.markReady(id)
                case .failed: try await assets.fail(id, code: .nonVideo, message: "not a video")
                case .processing: try await assets.beginAttempt(id)
                default: break
                }
                // What an S3 presigned PUT sent after the fact stores.
                try await store.put(ByteBuffer(string: "late upload"), key: StorageKeys.upload(id, filename: "clip.mp4"))
                return id
            }
            let ready = try await asset(.ready)
            let failed = try await asset(.failed)
            let processing = try await asset(.processing)
            let queued = try await asset(.queued)
            func uploads(_ id: UUID) async throws -> Int { try await store.list(prefix: StorageKeys.uploadsPrefix(id)).count }

            // Within the upload URL's life (the abandoned-asset age, 24 h, is at least that): kept.
            clock.advance(by: 3600)
            #expect(try await reaper.sweepUploads(now: clock.now) == 0)
            #expect(try await uploads(ready) == 1)
            // Past it: the ready asset's upload goes, once; the others keep their source.
            clock.advance(by: 24 * 3600)
            #expect(try await reaper.reapOnce(now: clock.now) == 0)
            #expect(try await uploads(ready) == 0)
            #expect(try await assets.get(ready)?.status == .ready)
            for id in [failed, processing, queued] { #expect(try await uploads(id) == 1) }
            #expect(try await reaper.sweepUploads(now: clock.now) == 0)
        }
    }

    @Test("the reaper finishes a delete that never finished", arguments: Engine.all)
    func unfinishedDeletes(engine: Engine) async throws {
        let clock = ManualClock()
        try await withTestPlace(engine, clock: clock.clock) { place in
            let (store, assets, queue) = (place.store, place.assets, place.queue)
            let reaper = place.reaper()
            let id = UUID()
            try await assets.create(NewAsset(id: id, status: .queued, filename: "clip.mp4", sourceKey: StorageKeys.upload(id, filename: "clip.mp4")))
            try await queue.enqueue(assetID: id, kind: .prepare)
            try await store.put(ByteBuffer(string: "segment"), key: StorageKeys.processedPrefix(id) + "720p/seg_00000.ts")
            // A delete that marked the row and died.
            #expect(try await assets.markDeleting(id))
            clock.advance(by: 60)
            #expect(try await reaper.reapOnce(now: clock.now) == 0, "a delete still under way is left to finish")
            #expect(try await assets.row(id) != nil)
            clock.advance(by: 600)
            #expect(try await reaper.reapOnce(now: clock.now) == 1)
            #expect(try await assets.row(id) == nil)
            #expect(try await store.list(prefix: StorageKeys.processedPrefix(id)).isEmpty)
            #expect(try await queue.jobs(assetID: id).isEmpty)
        }
    }
}
