import Foundation
public import Logging
import Metrics
public import PulseDatabase
public import PulseStorage
public import PulseSupport
public import ServiceLifecycle

/// How the `Reaper` works. Documented defaults; read by `init(reading:uploadURLLifetime:)`.
public struct ReaperConfiguration: Sendable, Equatable {
    /// Seconds a `failed` asset is kept after its last change (`PULSE_REAP_FAILED_AFTER_SECONDS`);
    /// 0 keeps failed assets until they are deleted.
    public var failedAfterSeconds: Int = 7 * 24 * 3600
    /// Seconds an asset may stay `awaiting_upload` after it was created
    /// (`PULSE_REAP_ABANDONED_AFTER_SECONDS`); 0 keeps them. Must be at least the upload URL lifetime.
    public var abandonedAfterSeconds: Int = 24 * 3600
    /// Seconds between passes (`PULSE_REAP_INTERVAL_SECONDS`).
    public var intervalSeconds: Int = 600
    /// Wait before the first pass (a start-up does not also have to carry a reaping pass).
    public var initialDelay: Duration = .seconds(10)
    /// Most assets deleted in one pass (and, separately, most upload folders swept).
    public var batchSize: Int = 100
    /// A delete that began this many seconds ago and left its row behind (the process died, or
    /// storage failed midway) is finished by the reaper.
    public var unfinishedDeletionAfterSeconds: Int = 600

    /// Seconds after creation when a ready asset's `uploads/{id}/` is swept once: by then its
    /// upload URL has expired (`abandonedAfterSeconds` is at least the upload URL lifetime; with
    /// abandoned reaping off, 7 days, the longest an S3 presigned URL lives).
    public var uploadSweepAfterSeconds: Int { abandonedAfterSeconds > 0 ? abandonedAfterSeconds : 7 * 24 * 3600 }

    public init() {}

    /// Reads the `PULSE_REAP_*` variables over the defaults; bad values are recorded in
    /// `settings`. An abandoned asset is one whose upload URL has expired: reaping sooner than
    /// `uploadURLLifetime` would delete assets whose upload may still arrive, so that is refused.
    public init(reading settings: inout SettingsReader, uploadURLLifetime: Duration) {
        let rule = "a whole number of seconds, 0 or more (0 turns it off)"
        if let value = settings.number(Int.self, flag: nil, variable: "PULSE_REAP_FAILED_AFTER_SECONDS", rule, { $0 >= 0 }) {
            failedAfterSeconds = value
        }
        if let value = settings.number(Int.self, flag: nil, variable: "PULSE_REAP_ABANDONED_AFTER_SECONDS", rule, { $0 >= 0 }) {
            abandonedAfterSeconds = value
            let uploadURLSeconds = Int(uploadURLLifetime.components.seconds)
            if value > 0, value < uploadURLSeconds {
                settings.problem(
                    "PULSE_REAP_ABANDONED_AFTER_SECONDS",
                    "must be at least the upload URL lifetime (\(uploadURLSeconds) s, PULSE_UPLOAD_URL_TTL_SECONDS), or 0 (got \(value))")
            }
        }
        if let value = settings.number(Int.self, flag: nil, variable: "PULSE_REAP_INTERVAL_SECONDS", "a positive whole number of seconds", { $0 > 0 }) {
            intervalSeconds = value
        }
    }

    /// False when both kinds of reaping are turned off.
    public var isEnabled: Bool { failedAfterSeconds > 0 || abandonedAfterSeconds > 0 }
}

/// Deletes assets nobody will use, on a schedule: `failed` ones kept past their retention
/// (`updated_at` older than `failedAfterSeconds`) and abandoned ones still `awaiting_upload` after
/// `abandonedAfterSeconds` (their upload URL expired long ago). Each goes through `AssetLifecycle`,
/// exactly as `DELETE /v1/assets/{id}` would delete it. Deletes that began long ago and never
/// finished (`deleting_at`) are finished the same way.
///
/// It also closes the upload door S3 cannot close: a presigned PUT cannot be revoked, so an upload
/// sent after `ready` (which deleted the original) would recreate it. Once a ready asset's upload
/// URL has expired (`uploadSweepAfterSeconds` after creation), its `uploads/{id}/` is swept once.
///
/// A pass every `intervalSeconds` (the first `initialDelay` after start), at most `batchSize` assets
/// each. Several processes may run one at once: they may pick the same asset, and deleting an asset
/// already deleted is harmless. Errors are logged and the loop goes on; graceful shutdown stops it.
public struct Reaper: Service {
    let assets: AssetRepository
    let deletion: AssetLifecycle
    let configuration: ReaperConfiguration
    let logger: Logger

    public init(
        database: any Database,
        store: any ObjectStore,
        bus: any EventBus,
        configuration: ReaperConfiguration = ReaperConfiguration(),
        queue: JobQueue? = nil,
        logger: Logger
    ) {
        let queue = queue ?? JobQueue(database: database)
        let assets = AssetRepository(database: database, clock: queue.clock)
        self.assets = assets
        var logger = logger
        logger[metadataKey: "service"] = "reaper"
        self.deletion = AssetLifecycle(assets: assets, queue: queue, store: store, bus: bus, logger: logger)
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        guard configuration.isEnabled else {
            logger.info("reaper disabled")
            return
        }
        logger.info("reaper started", metadata: [
            "reaper.failed_after_seconds": "\(configuration.failedAfterSeconds)",
            "reaper.abandoned_after_seconds": "\(configuration.abandonedAfterSeconds)",
            "reaper.interval_seconds": "\(configuration.intervalSeconds)",
        ])
        // Graceful shutdown cancels the loop (and a sleep in it); that is how the reaper stops.
        do {
            try await cancelWhenGracefulShutdown { try await self.loop() }
        } catch is CancellationError {}
        logger.info("reaper stopped")
    }

    private func loop() async throws {
        try await Task.sleep(for: configuration.initialDelay)
        while !Task.isCancelled {
            do {
                _ = try await reapOnce(now: assets.clock.now())
            } catch is CancellationError {
                return
            } catch {
                logger.warning("reaping pass failed; trying again next interval", metadata: ["error": "\(error)"])
            }
            try await Task.sleep(for: .seconds(configuration.intervalSeconds))
        }
    }

    /// One pass at `now` (epoch seconds): deletes up to `batchSize` reapable assets and returns how
    /// many this pass deleted. Throws only when the assets cannot be listed; an asset that cannot be
    /// deleted is logged and left for the next pass.
    @discardableResult
    public func reapOnce(now: Double) async throws -> Int {
        let failedBefore = cutoff(now, configuration.failedAfterSeconds)
        let abandonedBefore = cutoff(now, configuration.abandonedAfterSeconds)
        guard failedBefore != nil || abandonedBefore != nil else { return 0 }
        var candidates = try await assets.reapable(
            failedBefore: failedBefore, abandonedBefore: abandonedBefore, limit: configuration.batchSize
        )
        // Deletes that never finished: their rows are hidden from everyone else, so only here (or
        // a DELETE sent again) are they finished.
        let unfinished = try await assets.unfinishedDeletions(
            before: now - Double(configuration.unfinishedDeletionAfterSeconds), limit: configuration.batchSize)
        candidates += unfinished
        var reaped = 0
        for candidate in candidates {
            try Task.checkCancellation()
            do {
                // Read again just before deleting: a pass may take a while, and meanwhile the upload
                // may have been completed or another process may have deleted the asset.
                guard let asset = try await assets.row(candidate.id),
                      asset.deletingAt != nil || Self.isReapable(asset, failedBefore: failedBefore, abandonedBefore: abandonedBefore)
                else { continue }
                guard try await deletion.delete(asset.id) else { continue }
                reaped += 1
                Counter(label: "pulse_assets_reaped_total", dimensions: [("status", asset.status.rawValue)]).increment()
                logger.info("asset reaped", metadata: [
                    "asset.id": "\(asset.id)", "asset.status": "\(asset.status.rawValue)",
                    "asset.created_at": "\(asset.createdAt)", "asset.updated_at": "\(asset.updatedAt)",
                ])
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.warning("asset not reaped; will try again", metadata: [
                    "asset.id": "\(candidate.id)", "asset.status": "\(candidate.status.rawValue)", "error": "\(error)",
                ])
            }
        }
        try await sweepUploads(now: now)
        return reaped
    }

    /// Sweeps `uploads/{id}/` of up to `batchSize` ready assets whose upload URL has expired, once
    /// each, and returns how many objects it removed. `ready` already deleted the original; what
    /// is there now was uploaded afterwards through a URL nobody could revoke.
    @discardableResult
    public func sweepUploads(now: Double) async throws -> Int {
        let due = try await assets.uploadsToSweep(
            createdBefore: now - Double(configuration.uploadSweepAfterSeconds), limit: configuration.batchSize)
        var removed = 0
        for asset in due {
            try Task.checkCancellation()
            do {
                let count = try await deletion.store.deletePrefix(StorageKeys.uploadsPrefix(asset.id))
                try await assets.markUploadsSwept(asset.id)
                removed += count
                if count > 0 {
                    Counter(label: "pulse_uploads_swept_total").increment(by: count)
                    logger.info("removed an upload sent after the asset was ready", metadata: ["asset.id": "\(asset.id)", "storage.count": "\(count)"])
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.warning("upload folder not swept; will try again", metadata: ["asset.id": "\(asset.id)", "error": "\(error)"])
            }
        }
        return removed
    }

    private func cutoff(_ now: Double, _ seconds: Int) -> Double? {
        seconds > 0 ? now - Double(seconds) : nil
    }

    /// The rule of `AssetRepository.reapable`, for the one asset just read again.
    static func isReapable(_ asset: Asset, failedBefore: Double?, abandonedBefore: Double?) -> Bool {
        switch asset.status {
        case .failed: failedBefore.map { asset.updatedAt < $0 } ?? false
        case .awaitingUpload: abandonedBefore.map { asset.createdAt < $0 } ?? false
        default: false
        }
    }
}
