public import Foundation
public import Logging
public import PulseStorage
public import PulseSupport

/// An asset's life as domain operations, one place each, for the API, the worker, the CLI, the
/// reaper and the benchmarks: `create` (waiting for its upload, idempotent under a key, in parts
/// when asked), `complete` (a multipart upload assembled, the size checked, then `uploaded`),
/// `uploaded` (processing queued), `submit` (an object already in storage, queued at once), `fail`
/// and `delete`. Each writes the state change, its webhook outbox row (through `AssetRepository`,
/// in the same transaction) and its event; nothing else writes an asset's status. Refusals are
/// `AssetLifecycleError`s.
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
    let idempotencyKeys: IdempotencyKeys
    let multipartUploads: MultipartUploads
    let assembly: MultipartAssembly

    public init(assets: AssetRepository, queue: JobQueue, store: any ObjectStore, bus: any EventBus, logger: Logger) {
        self.assets = assets
        self.queue = queue
        self.store = store
        self.bus = bus
        self.logger = logger
        self.idempotencyKeys = IdempotencyKeys(database: assets.database, clock: assets.clock)
        self.multipartUploads = MultipartUploads(database: assets.database)
        self.assembly = MultipartAssembly(store: store)
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

    /// What a create came to.
    public enum CreateOutcome: Sendable, Hashable {
        /// A new asset, with its multipart upload when it was asked for one.
        case created(Asset, MultipartUpload?)
        /// The asset an earlier create with the same `Idempotency-Key` and request made, as it is now.
        case replayed(Asset, MultipartUpload?)
    }

    /// Creates `new`, waiting for its upload: under `idempotency` (key and request fingerprint)
    /// when given, so a repeated request gets the asset the first one made; with a multipart upload
    /// cut by `parts` when given (started only for an asset created now; sent by the server for a
    /// tus client when `tus`). `contentType` is what the upload will be stored as. Refuses a key
    /// used with another request, and a key whose asset has been deleted since.
    public func create(
        _ new: NewAsset, idempotency: IdempotencyKeys.Request? = nil, parts: PartPlan? = nil, tus: Bool = false, contentType: String? = nil
    ) async throws -> CreateOutcome {
        let asset: Asset
        if let idempotency {
            switch try await idempotencyKeys.create(new, key: idempotency.key, fingerprint: idempotency.fingerprint) {
            case .created(let created): asset = created
            case .replayed(let existing?): return .replayed(existing, try await multipartUploads.get(existing.id))
            case .replayed(nil):
                throw AssetLifecycleError(.idempotentAssetDeleted, "the asset this Idempotency-Key created has been deleted")
            case .reused:
                throw AssetLifecycleError(.idempotencyKeyReused, "this Idempotency-Key was used with another request in the last 24 hours")
            }
        } else {
            asset = try await assets.create(new)
        }
        guard let parts else { return .created(asset, nil) }
        return .created(asset, try await startMultipart(for: asset, plan: parts, contentType: contentType, tus: tus))
    }

    /// The client says the upload of `asset` (awaiting it) is done. A multipart upload is first
    /// assembled from the parts the client named (`MultipartAssembly`). An object larger
    /// than `sizeLimit` is refused for good: removed, so it costs no storage, and the asset failed
    /// with `ERR_UPLOAD_TOO_LARGE`. Otherwise it is accepted (`uploaded(_:object:)`). Returns true
    /// when this call moved the asset on (a concurrent complete may have done it already).
    @discardableResult
    public func complete(_ asset: Asset, multipart: (upload: MultipartUpload, named: [CompletedPart])?, sizeLimit: Int64) async throws -> Bool {
        if let multipart {
            guard let key = asset.sourceKey else { throw AssetLifecycleError.noUploadKey }
            try await assembly.assemble(key: key, upload: multipart.upload, named: multipart.named)
        }
        guard let key = asset.sourceKey, let object = try await store.head(key: key) else {
            throw AssetLifecycleError(.uploadNotFound, "the upload has not arrived; PUT the file to the upload URL first")
        }
        if object.size > sizeLimit {
            try await store.delete(key: key)
            try await fail(asset.id, code: .uploadTooLarge, message: "the upload is larger than \(sizeLimit) bytes")
            throw AssetLifecycleError.uploadTooLarge(limit: sizeLimit)
        }
        return try await uploaded(asset.id, object: object)
    }

    /// The asset's multipart upload, or nil when its file arrives by a single PUT.
    public func multipartUpload(of id: UUID) async throws -> MultipartUpload? {
        try await multipartUploads.get(id)
    }

    /// The parts stored so far of `asset`'s multipart `upload`; `uploadNotFound` when the store
    /// no longer has the upload.
    public func storedParts(of asset: Asset, _ upload: MultipartUpload) async throws -> [UploadedPart] {
        guard let key = asset.sourceKey else { throw AssetLifecycleError.noUploadKey }
        return try await assembly.storedParts(key: key, upload: upload)
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

    /// Marks the asset failed with `code` and a message for the person who uploaded it, records
    /// the `asset.failed` webhook and announces the `failed` event. A ready asset stays ready (a
    /// late report must not undo finished work). Returns true when the row took the failure, and
    /// then the event is published (false: ready, being deleted or gone).
    @discardableResult
    public func fail(_ id: UUID, code: FailureCode, message: String) async throws -> Bool {
        guard try await assets.fail(id, code: code, message: message) else { return false }
        await publish(AssetEvent.failed(id, code: code, message: message, at: assets.clock.now()))
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
