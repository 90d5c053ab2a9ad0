public import Foundation
public import Logging
public import PulseStorage

/// Deleting an asset and everything it owns: the one operation behind `DELETE /v1/assets/{id}` and
/// the `Reaper`.
///
/// In order: the objects under `processed/{id}/` and `uploads/{id}/`, the asset's jobs, the asset's
/// row (its chunks go with it), then a terminal `failed` event `ERR_ASSET_DELETED` so open event
/// sockets end instead of waiting for nothing. Objects go first: if the store fails, the row is still
/// there and a later call finishes the work, so no object is left without an asset pointing at it.
///
/// Idempotent and safe to run from several processes at once: deleting an asset that is already
/// gone deletes nothing and returns false.
public struct AssetDeletion: Sendable {
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

    /// The error code of the event that tells subscribers their asset was deleted.
    public static let deletedErrorCode = "ERR_ASSET_DELETED"

    /// Deletes the asset's objects, jobs and row. Returns true when this call removed the row (and
    /// published the event); false when there was no such asset any more.
    @discardableResult
    public func delete(_ id: UUID) async throws -> Bool {
        let processed = try await store.deletePrefix(StorageKeys.processedPrefix(id))
        let uploads = try await store.deletePrefix(StorageKeys.uploadsPrefix(id))
        let jobs = try await queue.deleteJobs(assetID: id)
        guard try await assets.delete(id) else { return false }
        logger.debug("asset deleted", metadata: [
            "asset.id": "\(id)", "storage.processed": "\(processed)", "storage.uploads": "\(uploads)", "jobs": "\(jobs)",
        ])
        do {
            try await bus.publish(AssetEvent(
                assetID: id, type: .failed, errorCode: Self.deletedErrorCode, errorMessage: "the asset was deleted",
                status: .failed, at: assets.clock.now()
            ))
        } catch {
            // Best effort, like every event: the asset is gone whether or not anyone heard.
            logger.warning("event not published", metadata: ["asset.id": "\(id)", "error": "\(error)"])
        }
        return true
    }
}

extension StorageKeys {
    /// Where an asset's raw upload lives (`uploads/{id}/{filename}`).
    static func uploadsPrefix(_ id: UUID) -> String { "uploads/\(id.uuidString.lowercased())/" }
}
