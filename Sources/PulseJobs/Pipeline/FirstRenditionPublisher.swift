import Foundation
import PulseMedia

/// Publishes the first rendition while it encodes. After each stored segment: the checkpoint
/// (what is stored, fenced on the job's lease: a new attempt resumes after it); once the first
/// segments are stored, the VOD playlists of every planned segment and the master playlist, then
/// `playable_at` and the `playable` event, in that order, once. At the end, the playlists of what
/// was actually stored.
///
/// An actor: the video's and the audio's segments come from two ffmpeg processes at once.
actor FirstRenditionPublisher {
    private(set) var stored: StoredSegments
    private var announced: Bool
    private let asset: Asset
    private let probe: ProbeResult
    private let plan: PipelinePlan
    private let lease: Job
    private let processor: AssetProcessor
    private let publisher: ProgressPublisher

    init(asset: Asset, probe: ProbeResult, plan: PipelinePlan, lease: Job, stored: StoredSegments, processor: AssetProcessor, publisher: ProgressPublisher) {
        self.asset = asset
        self.probe = probe
        self.plan = plan
        self.lease = lease
        self.stored = stored
        self.announced = asset.playableAt != nil
        self.processor = processor
        self.publisher = publisher
    }

    private var pipeline: MediaPipeline { MediaPipeline(configuration: processor.configuration.media, logger: processor.logger) }
    private var output: ObjectStoreOutput { ObjectStoreOutput(store: processor.store, prefix: StorageKeys.processedPrefix(asset.id)) }

    /// `segment` is stored: record it, and announce the asset playable when it is.
    func stored(_ segment: FinishedSegment) async throws {
        stored.add(segment.record, to: segment.rendition)
        try await checkpoint()
        if !announced, pipeline.isPlayable(stored, of: plan, probe: probe) {
            try await announce(listing: pipeline.plannedFirstRendition(of: plan, probe: probe))
        }
    }

    /// Every segment is stored: the playlists list them as measured (the planned ones differ
    /// at most in durations, by under a frame, and by a tail of under a frame), the rung's
    /// I-frame playlist joins them, and the master, now with the rates of the whole rendition,
    /// lists it. This runs before the unit's checkpoint, so before finalize writes the ladder's master.
    func complete() async throws {
        if announced {
            try await publishPlaylists(stored.segments)
        } else {
            try await announce(listing: stored.segments)
        }
        guard announced else { return }
        let (pipeline, stored, plan, output) = (self.pipeline, self.stored, self.plan, self.output)
        try await processor.storeFenced(asset.id) {
            try await pipeline.publishEarlyMaster(stored, of: plan, complete: true, to: output)
        }
    }

    private func checkpoint() async throws {
        let id = WorkUnit.ID(kind: .first, index: 0)
        let recorded = try await processor.assets.recordStoredSegments(
            asset.id, kind: id.kind, index: id.index, json: JSONEncoder.sorted.text(stored), lease: lease)
        guard recorded else {
            guard try await processor.assets.isLive(asset.id) else { throw AssetGone() }
            throw LeaseLost()
        }
    }

    private func publishPlaylists(_ segments: [String: [SegmentRecord]]) async throws {
        let (pipeline, plan, output) = (self.pipeline, self.plan, self.output)
        try await processor.storeFenced(asset.id) {
            try await pipeline.publishFirstRendition(segments, of: plan, to: output)
        }
    }

    /// The playlists and the master first (the `playlist_url` must play when announced), then
    /// `playable_at`, then the event. `thumbnail_ready` comes first: prepare stores the thumbnail
    /// before it queues this unit (finalize announces `playable` otherwise).
    private func announce(listing segments: [String: [SegmentRecord]]) async throws {
        guard asset.thumbnailKey != nil else { return }
        try await publishPlaylists(segments)
        let (pipeline, stored, plan, output) = (self.pipeline, self.stored, self.plan, self.output)
        try await processor.storeFenced(asset.id) {
            try await pipeline.publishEarlyMaster(stored, of: plan, to: output)
        }
        announced = true
        if try await processor.assets.markPlayable(asset.id) {
            await publisher.publish(AssetEvent(assetID: asset.id, type: .playable, at: processor.queue.clock.now()))
            processor.logger.info("asset playable", metadata: ["asset.id": "\(asset.id)"])
        }
    }
}
