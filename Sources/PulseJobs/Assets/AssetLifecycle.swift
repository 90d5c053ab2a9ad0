public import Foundation
public import Logging
public import PulseStorage

/// An asset's life as domain operations, one place each, for the API, the CLI, the reaper and
/// the benchmarks: `create` (waiting for its upload), `uploaded` (processing queued), `submit`
/// (an object already in storage, queued at once) and `delete`.
///
/// Deleting, in order: the row is marked as being deleted (`deleting_at`: from then on it is shown
/// to no one and takes no more writes, and workers store nothing more for it), the asset's jobs go,
/// then the objects under `processed/{id}/` and `uploads/{id}/`, then the row (its chunks go with
/// it), then a terminal `failed` event `ERR_ASSET_DELETED` so open event sockets end instead of
/// waiting for nothing. If the store fails midway, the marked row is still there and a later call
/// (or the reaper) finishes the work, so no object is left without an asset pointing at it.
///
/// A worker encoding the asset at that moment is fenced rather than waited for: it checks the mark
/// before and after storing each object (segments, thumbnail, playlists), so an object it stored
/// after this sweep listed the prefix is found by its own check after the store, and it sweeps
/// the prefix again itself before it stops. The last write of every job is therefore followed by a
/// sweep, however long the store took, without a timed wait here.
///
/// Idempotent and safe to run from several processes at once: deleting an asset that is already
/// gone deletes nothing and returns false.
public struct AssetLifecycle: Sendable {
    let assets: AssetRepository
    let queue: JobQueue
    let store: any ObjectStore
    let bus: any EventBus
    let logger: Logger

    public init(assets: AssetRepository, queue: JobQueue, store: any ObjectStore, bus: any EventBus, logger: Logger) {
        self.assets = assets
        self.queue = queue
        self.store = store
        self.bus = bus
        self.logger = logger
    }

    /// A new asset waiting for its upload at `StorageKeys.upload(id, filename:)`; `filename` must
    /// be a safe key segment. `declaredSize` is the client's word, checked when the upload arrives.
    public func create(filename: String, originalName: String? = nil, declaredSize: Int64? = nil) async throws -> Asset {
        try await assets.create(Self.newUpload(filename: filename, originalName: originalName, declaredSize: declaredSize))
    }

    /// The row `create` inserts, with the create options (`IdempotencyKeys.create` inserts it under a key).
    public static func newUpload(
        filename: String, originalName: String? = nil, declaredSize: Int64? = nil,
        passthrough: String? = nil, playbackPolicy: PlaybackPolicy = .public, mp4: Bool = false
    ) -> NewAsset {
        let id = UUID()
        return NewAsset(
            id: id, filename: originalName ?? filename, sourceKey: StorageKeys.upload(id, filename: filename), sourceSize: declaredSize,
            passthrough: passthrough, playbackPolicy: playbackPolicy, mp4: mp4)
    }

    /// The upload is in storage as `object`: the asset moves from `awaiting_upload` to `queued`
    /// (guarded in SQL: a worker's `processing` is never put back), the object's size and
    /// `SourceIdentity` are recorded (what the worker checks before probing and around each unit),
    /// and its processing is queued. Idempotent; returns true when this call moved it.
    @discardableResult
    public func uploaded(_ id: UUID, object: ObjectInfo) async throws -> Bool {
        try await uploaded(id, size: object.size, identity: SourceIdentity.of(object))
    }

    /// As `uploaded(_:object:)` with only the size known; the worker records the identity at its
    /// first look at the source.
    @discardableResult
    public func uploaded(_ id: UUID, size: Int64, identity: String? = nil) async throws -> Bool {
        let moved = try await assets.markUploaded(id, size: size, identity: identity)
        if moved {
            await publish(AssetEvent(assetID: id, type: .status, status: .queued, at: assets.clock.now()))
        }
        // Idempotent by (asset, kind): a second enqueue is a no-op.
        try await queue.enqueue(assetID: id, kind: .prepare)
        return moved
    }

    /// An asset for an object already in storage (`pulse-video submit`, benchmarks), queued.
    public func submit(sourceKey: String, size: Int64?) async throws -> Asset {
        var asset = try await assets.create(NewAsset(
            status: .queued, filename: (sourceKey as NSString).lastPathComponent, sourceKey: sourceKey, sourceSize: size))
        if let object = try await store.head(key: sourceKey) {
            let identity = SourceIdentity.of(object)
            if try await assets.recordSourceIdentity(asset.id, identity) { asset.sourceIdentity = identity }
        }
        try await queue.enqueue(assetID: asset.id, kind: .prepare)
        return asset
    }

    /// Marks the asset as being deleted, then deletes its jobs, objects and row. Returns true when
    /// this call removed the row (and published the event); false when there was no such asset
    /// any more (its prefixes are swept all the same).
    @discardableResult
    public func delete(_ id: UUID) async throws -> Bool {
        // First the fence: workers check it around every object they store.
        try await assets.markDeleting(id)
        let jobs = try await queue.deleteJobs(assetID: id)
        // An unfinished multipart upload's parts are not objects: aborted before the sweep.
        if let row = try await assets.row(id) { try await abortUnfinishedUpload(row) }
        let processed = try await store.deletePrefix(StorageKeys.processedPrefix(id))
        let uploads = try await store.deletePrefix(StorageKeys.uploadsPrefix(id))
        guard try await assets.delete(id) else { return false }
        logger.debug("asset deleted", metadata: [
            "asset.id": "\(id)", "storage.processed": "\(processed)", "storage.uploads": "\(uploads)", "jobs": "\(jobs)",
        ])
        await publish(AssetEvent.deleted(id, at: assets.clock.now()))
        return true
    }

    /// Best effort, like every event: the state is stored whether or not anyone heard.
    private func publish(_ event: AssetEvent) async {
        do {
            try await bus.publish(event)
        } catch {
            logger.warning("event not published", metadata: ["asset.id": "\(event.assetID)", "error": "\(error)"])
        }
    }
}
