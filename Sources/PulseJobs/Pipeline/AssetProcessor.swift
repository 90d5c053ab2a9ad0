import Foundation
import Logging
import Metrics
import PulseDatabase
import PulseMedia
import PulseStorage
import PulseSupport

/// Runs the pipeline (`PipelinePlan`) as durable jobs, one step each:
/// `prepare` (probe, thumbnail announced at once, the plan, a checkpoint row and a job per unit)
/// -> one job per unit, checkpointed once its segments are stored -> `finalize` (playlists,
/// `ready`, then and only then the original is deleted). `Transcoder` runs the same steps in one
/// process.
///
/// Every step is idempotent: a job delivered again after its worker died redoes at most itself.
///
/// Two fences guard what a job reads and writes:
/// - The source: before probing, and before and after each unit, the object is checked against the
///   `SourceIdentity` recorded when the upload was completed; a replaced source fails the asset
///   with `ERR_SOURCE_CHANGED` rather than being encoded.
/// - A delete: before and after every object it stores (thumbnail, segments, playlists) a job
///   checks that the asset is still live (`AssetRepository.isLive`); once it is being deleted or
///   gone, the job sweeps `processed/{id}/` again (what it stored may have landed after the
///   delete's own sweep) and ends without a failure.
struct AssetProcessor: Sendable {
    let assets: AssetRepository
    let queue: JobQueue
    let store: any ObjectStore
    let bus: any EventBus
    let configuration: PipelineConfiguration
    let logger: Logger
    /// How long a finalize that reaches `ready` may take to finish (announce it, delete the
    /// original) once its job is cancelled by a shutdown: the worker sets it within its lease.
    var readyGrace: Duration = .seconds(20)
    /// This worker's per-asset progress, shared by its jobs on one asset.
    var progressBoard = ProgressBoard()

    private var pipeline: MediaPipeline { MediaPipeline(configuration: configuration.media, logger: logger) }

    func process(_ job: Job) async throws {
        guard let asset = try await assets.get(job.assetID) else {
            logger.info("asset gone; job dropped", metadata: ["job.id": "\(job.id)"])
            return
        }
        // A failed asset's remaining jobs have nothing to do; a ready one only finalizes again.
        if asset.status == .failed { return }
        do {
            if let unit = job.unit { return try await encode(asset, unit: unit, lease: job) }
            switch job.kind {
            case .prepare: try await prepare(asset)
            case .finalize: try await finalize(asset)
            default: throw InternalFault("unknown job kind \(job.kind)")
            }
        } catch {
            // Whatever stopped the job (the fence, a store call cut short by the delete, the lease
            // of a deleted job, a cancellation), a deleted asset's job ends here, not as a failure.
            guard await isGone(asset.id) else { throw error }
            await sweepAfterDelete(asset.id)
            logger.info("asset deleted while its job ran; job stopped", metadata: ["job.id": "\(job.id)", "asset.id": "\(asset.id)"])
        }
    }

    // MARK: - prepare

    private func prepare(_ initial: Asset) async throws {
        var asset = initial
        if asset.status == .ready { return }
        let publisher = publisher(for: asset)
        _ = try await assets.beginAttempt(asset.id)
        await publisher.publish(AssetEvent(assetID: asset.id, type: .status, status: .processing, at: queue.clock.now()))

        // Before anything reads it: the source must be the object `complete` accepted.
        try await checkSource(asset)
        let input = try await mediaInput(asset)
        let local = try workPath(asset.id, "thumbnail") + ".jpg"
        defer { try? FileManager.default.removeItem(atPath: local) }
        // On a first attempt the probe takes the thumbnail beside it: both are on the way to
        // `playable`.
        var thumbnail: Thumbnail?
        let probe: ProbeResult
        if let cached = try? asset.probe() {
            probe = cached
        } else {
            if asset.thumbnailKey == nil {
                (probe, thumbnail) = try await pipeline.probe(input, thumbnailTo: local)
            } else {
                probe = try await pipeline.probe(input)
            }
            try await assets.setProbe(asset.id, json: JSONEncoder.sorted.text(probe), duration: probe.duration)
        }

        if asset.thumbnailKey == nil {
            let taken: Thumbnail
            if let thumbnail { taken = thumbnail } else { taken = try await pipeline.thumbnail(input, probe: probe, to: local) }
            let key = StorageKeys.thumbnail(asset.id)
            try await storeFenced(asset.id) {
                try await store.put(fileAt: taken.path, key: key, contentType: ContentType.jpeg, mode: .move)
            }
            _ = try await assets.setThumbnail(asset.id, key: key, placeholder: taken.placeholder)
            asset.thumbnailKey = key
            await publisher.publish(AssetEvent(
                assetID: asset.id, type: .thumbnailReady, thumbnailKey: key, placeholder: taken.placeholder, at: queue.clock.now()))
            await publisher.progress(ProgressAggregator.transcodeStart, eta: nil, speed: nil)
        }

        let plan: PipelinePlan
        if let decoded = try? asset.plan() {
            plan = decoded
        } else {
            plan = pipeline.plan(probe, chunkSeconds: configuration.chunkSeconds, firstRendition: configuration.firstRendition)
            _ = try await assets.setPlan(asset.id, json: JSONEncoder.sorted.text(plan))
        }
        _ = try await assets.createChunks(asset.id, plan.units.map { ChunkPlan($0, duration: probe.duration) })
        _ = try await assets.setChunkCount(asset.id, plan.units.count)

        let done = Set(try await assets.chunks(asset.id).filter { $0.status == .done }.map(\.unit))
        for unit in plan.units where !done.contains(unit.id) {
            let job = JobKind.encoding(unit.id)
            try await queue.enqueue(assetID: asset.id, kind: job.kind, chunkIndex: job.chunkIndex)
        }
        try await enqueueFinalizeIfComplete(asset.id)
    }

    // MARK: - units

    private func encode(_ asset: Asset, unit id: WorkUnit.ID, lease: Job) async throws {
        let (probe, plan) = try decodePlan(asset)
        guard let unit = plan.unit(id) else {
            throw InternalFault("the plan of asset \(asset.id) has no unit \(id)")
        }
        let chunks = try await assets.chunks(asset.id)
        let done = Set(chunks.filter { $0.status == .done }.map(\.unit))
        if done.contains(id) {
            // Checkpointed before the crash: never encoded again.
            try await enqueueFinalizeIfComplete(asset.id)
            return
        }

        // Before each unit: the source must still be the object `complete` accepted.
        try await checkSource(asset)
        let input = try await mediaInput(asset)
        let staging = try workPath(asset.id, "\(id)")
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let processor = self
        let result = try await progressBoard.withAsset(asset.id, done: done, make: {
            let progress = plan.progress(duration: probe.duration, thumbnailDone: true, done: done)
            return (progress, processor.publisher(for: asset, heard: progress.percent))
        }) { publisher in
            // The first rendition publishes each segment as it is stored, and resumes after what
            // an earlier attempt stored; the other units only store theirs.
            var first: FirstRenditionPublisher?
            if unit.kind == .first {
                let pending = chunks.first { $0.unit == id }?.resultJSON
                let stored = pending.flatMap { try? JSONDecoder().decode(StoredSegments.self, text: $0) } ?? StoredSegments()
                if let count = plan.firstRendition.flatMap({ stored.segments[$0]?.count }), count > 0 {
                    processor.logger.info("first rendition resumed", metadata: ["asset.id": "\(asset.id)", "media.segments.stored": "\(count)"])
                }
                first = FirstRenditionPublisher(
                    asset: asset, probe: probe, plan: plan, lease: lease, stored: stored, processor: processor, publisher: publisher)
            }
            return try await processor.encode(
                unit, of: asset, plan: plan, probe: probe, input: input, staging: staging, first: first,
                progress: LeaseProgress(queue: processor.queue, job: lease))
        }
        // Deleted while we encoded: what we stored is nobody's (`process` sweeps it).
        guard try await assets.isLive(asset.id) else { throw AssetGone() }
        // A source replaced while ffmpeg read it (S3 serves ranges of whichever object is there)
        // would mix two files in one unit.
        try await checkSource(asset)
        // The checkpoint: written only after every segment of the unit is stored, only while the
        // asset is not being deleted, and only while this worker still holds the job.
        let recorded = try await assets.markChunkDone(asset.id, kind: id.kind, index: id.index, resultJSON: JSONEncoder.sorted.text(result), lease: lease)
        if !recorded, try await !assets.chunks(asset.id).contains(where: { $0.unit == id && $0.status == .done }) {
            guard try await assets.isLive(asset.id) else { throw AssetGone() }
            throw LeaseLost()
        }
        logger.info("chunk done", metadata: ["asset.id": "\(asset.id)", "chunk.kind": "\(id.kind.rawValue)", "chunk.index": "\(id.index)"])
        try await enqueueFinalizeIfComplete(asset.id)
    }

    /// Runs ffmpeg for `unit`, storing each segment as it is finished (and, for the first
    /// rendition, publishing it), with progress reported to this worker's board beside it. A
    /// stored segment is progress under the job's lease (`progress`).
    private func encode(
        _ unit: WorkUnit, of asset: Asset, plan: PipelinePlan, probe: ProbeResult, input: MediaInput, staging: String,
        first: FirstRenditionPublisher?, progress: LeaseProgress
    ) async throws -> UnitResult {
        let (reports, continuation) = AsyncStream.makeStream(of: (Double, Double?).self, bufferingPolicy: .bufferingNewest(16))
        let assetID = asset.id
        let prefix = StorageKeys.processedPrefix(assetID)
        let stored = await first?.stored ?? StoredSegments()
        let (pipeline, store, board, processor) = (self.pipeline, self.store, self.progressBoard, self)
        let result = try await withThrowingTaskGroup(of: UnitResult?.self) { group in
            // Reports arrive on ffmpeg's progress socket; publishing waits on the bus and the
            // database, so it runs beside the encode, never inside the socket's callback.
            group.addTask {
                let speedGauge = Gauge(label: "pulse_encode_speed")
                for await (fraction, speed) in reports {
                    if let speed, speed > 0 { speedGauge.record(speed) }
                    await board.report(assetID, unit: unit.id, fraction: fraction, speed: speed)
                }
                return nil
            }
            group.addTask {
                defer { continuation.finish() }
                return try await pipeline.encode(
                    unit, of: plan, probe: probe, input: input, staging: staging, stored: stored,
                    onProgress: { fraction, speed in continuation.yield((fraction, speed)) },
                    onSegment: { segment in
                        try await processor.storeFenced(assetID) {
                            try await store.put(fileAt: segment.path, key: prefix + "\(segment.rendition)/\(segment.fileName)", contentType: ContentType.transportStream, mode: .move)
                        }
                        await progress.record()
                        try await first?.stored(segment)
                    }
                )
            }
            var result: UnitResult?
            while let next = try await group.next() { if let next { result = next } }
            return result
        }
        guard let result else { throw InternalFault("the encoder returned no result") }
        // The first rendition is complete: its playlists close, and it plays if it did not yet.
        try await first?.complete()
        return result
    }

    private func enqueueFinalizeIfComplete(_ id: UUID) async throws {
        if try await assets.countPendingChunks(id) == 0, try await !assets.chunks(id).isEmpty {
            try await queue.enqueue(assetID: id, kind: .finalize)
        }
    }

    // MARK: - finalize

    private func finalize(_ asset: Asset) async throws {
        if asset.status != .ready {
            let (probe, plan) = try decodePlan(asset)
            let chunks = try await assets.chunks(asset.id)
            guard chunks.allSatisfy({ $0.status == .done }) else {
                throw InternalFault("finalize ran before every unit was done")
            }
            let results = try chunks.map { chunk in
                try JSONDecoder().decode(UnitResult.self, text: chunk.resultJSON ?? "")
            }
            let output = ObjectStoreOutput(store: store, prefix: StorageKeys.processedPrefix(asset.id))
            _ = try await storeFenced(asset.id) { try await pipeline.finish(results, of: plan, to: output) }
            // `download.mp4` (asked for with `mp4: true`) is stored before `ready` announces it.
            if asset.mp4, asset.downloadKey == nil {
                let builder = DownloadBuilder(store: store, pipeline: pipeline, logger: logger)
                let (staging, duration) = (try workPath(asset.id, "download"), asset.duration ?? 0)
                let key = try await storeFenced(asset.id) { try await builder.build(assetID: asset.id, plan: plan, results: results, duration: duration, staging: staging) }
                _ = try await assets.setDownloadKey(asset.id, key: key)
            }
            // The storyboard, like the download, is stored before `ready` announces it.
            if asset.storyboardKey == nil {
                let builder = StoryboardBuilder(store: store, pipeline: pipeline, logger: logger)
                let staging = try workPath(asset.id, "storyboard")
                let key = try await storeFenced(asset.id) {
                    try await builder.build(assetID: asset.id, plan: plan, results: results, duration: probe.duration, staging: staging)
                }
                _ = try await assets.setStoryboardKey(asset.id, key: key)
            }
            _ = try await assets.markHLSParts(asset.id, rungs: plan.rungs.map(\.name))
            // Every asset announces `playable` once, before `ready`: here if the first rendition
            // did not (a plan without one, or a crash between its master and the announcement).
            if try await assets.markPlayable(asset.id) {
                await publisher(for: asset).publish(AssetEvent(assetID: asset.id, type: .playable, at: queue.clock.now()))
            }
        }
        // From `ready` on, a shutdown does not stop the job: it announces `ready` and deletes the
        // original within `readyGrace`, rather than leaving the original until another worker
        // runs the finalize again. Hence its own task, which cancelling the job does not cancel,
        // bounded by its own deadline.
        let (processor, grace) = (self, readyGrace)
        try await Task {
            try await withDeadline(grace, orThrow: InternalFault("the finalize did not end within \(grace) of ready")) {
                try await processor.finishReady(asset)
            }
        }.value
    }

    /// Marks the asset ready and announces it, unless it was ready already (a finalize that runs
    /// again announces nothing), then deletes the original: only now, with every playlist stored
    /// and the asset ready, does it go.
    private func finishReady(_ asset: Asset) async throws {
        if asset.status != .ready {
            // Guarded in SQL: a row being deleted is never marked ready; one another finalize
            // made ready since this job read it is not announced again.
            switch try await assets.makeReady(asset.id) {
            case .made: break
            case .already: return try await deleteOriginal(asset)
            case .gone:
                guard try await assets.isLive(asset.id) else { throw AssetGone() }
                throw InternalFault("the asset could not be marked ready")
            }
            let publisher = publisher(for: asset)
            await publisher.progress(100, eta: 0, speed: nil)
            await publisher.publish(AssetEvent(assetID: asset.id, type: .ready, percent: 100, status: .ready, at: queue.clock.now()))
            Counter(label: "pulse_assets_total", dimensions: [("outcome", "ready")]).increment()
            Recorder(label: "pulse_asset_processing_seconds").record(max(0, queue.clock.now() - asset.createdAt))
            logger.info("asset ready", metadata: ["asset.id": "\(asset.id)"])
        }
        try await deleteOriginal(asset)
    }

    private func deleteOriginal(_ asset: Asset) async throws {
        if let source = asset.sourceKey, try await store.head(key: source) != nil {
            try await store.delete(key: source)
        }
    }

    // MARK: - fences

    /// Runs `write` (which stores objects under `processed/{id}/`) between two checks that the
    /// asset is live: before, so nothing is stored for an asset being deleted; after, so an object
    /// that landed after the delete's sweep listed the prefix is known to be a stray (`process`
    /// then sweeps again). A store call that fails because the delete removed its folder counts
    /// as the delete, too.
    func storeFenced<T: Sendable>(_ id: UUID, _ write: @Sendable () async throws -> T) async throws -> T {
        guard try await assets.isLive(id) else { throw AssetGone() }
        let value: T
        do {
            value = try await write()
        } catch {
            if try await !assets.isLive(id) { throw AssetGone() }
            throw error
        }
        guard try await assets.isLive(id) else { throw AssetGone() }
        return value
    }

    /// True only when the database says the asset is being deleted or gone; asked outside the
    /// job's task, so that a cancelled job (its lease went with its deleted job row) still knows.
    private func isGone(_ id: UUID) async -> Bool {
        let assets = self.assets
        return (try? await Task { try await assets.isLive(id) }.value) == false
    }

    /// The second sweep of a deleted asset's outputs, once this job has stopped writing: whatever
    /// it stored after the delete's own sweep goes now. Outside the job's task, like `isGone`.
    private func sweepAfterDelete(_ id: UUID) async {
        let store = self.store
        let logger = self.logger
        await Task {
            do {
                let removed = try await store.deletePrefix(StorageKeys.processedPrefix(id))
                if removed > 0 { logger.info("removed objects stored during a delete", metadata: ["asset.id": "\(id)", "storage.count": "\(removed)"]) }
            } catch {
                logger.warning("could not sweep a deleted asset's objects", metadata: ["asset.id": "\(id)", "error": "\(error)"])
            }
        }.value
    }

    /// The source object must be the one `complete` accepted (`SourceIdentity`: size and ETag, or
    /// size and modification time). An asset with no identity recorded (submitted directly, or
    /// completed before identities were kept) has the current one recorded now.
    func checkSource(_ asset: Asset) async throws {
        guard let key = asset.sourceKey else { throw MediaError(.sourceNotFound, "the asset has no source object") }
        guard let object = try await store.head(key: key) else {
            throw MediaError(.sourceNotFound, "the uploaded file is not in storage")
        }
        let identity = SourceIdentity.of(object)
        guard let recorded = asset.sourceIdentity else {
            _ = try await assets.recordSourceIdentity(asset.id, identity)
            return
        }
        guard identity == recorded else {
            logger.warning("the source changed after the upload was completed", metadata: [
                "asset.id": "\(asset.id)", "source.recorded": "\(recorded)", "source.found": "\(identity)",
            ])
            throw MediaError(.sourceChanged, "the uploaded file was replaced after the upload was completed")
        }
    }

    // MARK: - helpers

    func decodePlan(_ asset: Asset) throws -> (ProbeResult, PipelinePlan) {
        guard let probe = try asset.probe(), let plan = try asset.plan() else {
            throw InternalFault("asset \(asset.id) has no plan yet")
        }
        return (probe, plan)
    }

    func mediaInput(_ asset: Asset) async throws -> MediaInput {
        guard let key = asset.sourceKey else { throw MediaError(.sourceNotFound, "the asset has no source object") }
        let location: String
        do {
            location = try await store.mediaInput(key: key, expiresIn: configuration.sourceURLExpiry)
        } catch let error as StorageError where error.code == .notFound {
            throw MediaError(.sourceNotFound, "the uploaded file is not in storage")
        }
        return try MediaInput.parse(location, plainHTTP: configuration.media.plainHTTP)
    }

    /// Each job has its own publisher. Subscribers have heard at least what the finished work
    /// accounts for (`heard`), the database holds `asset.progress` (written every 10 points only):
    /// starting both from the stored value would repeat events at every job's start.
    func publisher(for asset: Asset, heard: Double? = nil) -> ProgressPublisher {
        ProgressPublisher(
            assetID: asset.id, notifiedFrom: max(heard ?? asset.progress, asset.progress), persistedFrom: asset.progress,
            assets: assets, bus: bus, clock: queue.clock, logger: logger)
    }

    /// A fresh path in this worker's scratch folder.
    func workPath(_ id: UUID, _ name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: configuration.workDirectory, withIntermediateDirectories: true)
        return "\(configuration.workDirectory)/\(id.uuidString.lowercased())-\(name)-\(UInt32.random(in: 0...UInt32.max))"
    }
}

/// The asset is being deleted, or is gone: the job stops where it is, and that is not a failure.
struct AssetGone: Error {}
