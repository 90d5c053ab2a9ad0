public import Foundation
public import Logging
import Metrics
public import PulseDatabase
public import PulseStorage
public import ServiceLifecycle

/// How the `Reaper` works. Documented defaults; filled from the environment by `init(environment:)`.
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
    /// Most assets deleted in one pass.
    public var batchSize: Int = 100

    public static let failedAfterVariable = "PULSE_REAP_FAILED_AFTER_SECONDS"
    public static let abandonedAfterVariable = "PULSE_REAP_ABANDONED_AFTER_SECONDS"
    public static let intervalVariable = "PULSE_REAP_INTERVAL_SECONDS"

    public init() {}

    /// The defaults, with the `PULSE_REAP_*` variables that are set and not empty. A value that is
    /// not a whole number, is negative, or (the interval) is 0 throws an error naming the variable.
    public init(environment: [String: String]) throws {
        self.init()
        if let value = try Self.seconds(environment, Self.failedAfterVariable, allowZero: true) { failedAfterSeconds = value }
        if let value = try Self.seconds(environment, Self.abandonedAfterVariable, allowZero: true) { abandonedAfterSeconds = value }
        if let value = try Self.seconds(environment, Self.intervalVariable, allowZero: false) { intervalSeconds = value }
    }

    /// False when both kinds of reaping are turned off.
    public var isEnabled: Bool { failedAfterSeconds > 0 || abandonedAfterSeconds > 0 }

    private static func seconds(_ environment: [String: String], _ name: String, allowZero: Bool) throws -> Int? {
        guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        guard let value = Int(text), allowZero ? value >= 0 : value > 0 else {
            throw ReaperConfigurationError(
                variable: name,
                message: allowZero ? "a whole number of seconds, 0 or more (0 turns it off)" : "a positive whole number of seconds"
            )
        }
        return value
    }
}

/// A `PULSE_REAP_*` variable with a value that cannot be used.
public struct ReaperConfigurationError: Error, CustomStringConvertible, Equatable {
    public var variable: String
    public var message: String
    public var description: String { "\(variable) must be \(message)" }
}

/// Deletes assets nobody will use, on a schedule: `failed` ones kept past their retention
/// (`updated_at` older than `failedAfterSeconds`) and abandoned ones still `awaiting_upload` after
/// `abandonedAfterSeconds` (their upload URL expired long ago). Each goes through `AssetLifecycle`,
/// exactly as `DELETE /v1/assets/{id}` would delete it.
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
        let candidates = try await assets.reapable(
            failedBefore: failedBefore, abandonedBefore: abandonedBefore, limit: configuration.batchSize
        )
        var reaped = 0
        for candidate in candidates {
            try Task.checkCancellation()
            do {
                // Read again just before deleting: a pass may take a while, and meanwhile the upload
                // may have been completed or another process may have deleted the asset.
                guard let asset = try await assets.get(candidate.id),
                      Self.isReapable(asset, failedBefore: failedBefore, abandonedBefore: abandonedBefore)
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
        return reaped
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
