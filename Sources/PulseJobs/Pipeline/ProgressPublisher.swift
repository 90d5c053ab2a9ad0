import Foundation
import Logging
import PulseDatabase
import PulseMedia

/// Progress throttled so that it costs little and still moves smoothly: subscribers hear every >= 2 % change, the
/// database is written every >= 10 %, the thumbnail and terminal states go out at once.
actor ProgressPublisher {
    private let assetID: UUID
    private let assets: AssetRepository
    private let bus: any EventBus
    private let clock: EpochClock
    private let logger: Logger
    private var throttle: ProgressThrottle

    /// - Parameters:
    ///   - notifiedFrom: the percent subscribers have already heard (what finished work accounts for).
    ///   - persistedFrom: the percent stored in the database.
    init(assetID: UUID, notifiedFrom: Double, persistedFrom: Double, assets: AssetRepository, bus: any EventBus, clock: EpochClock, logger: Logger) {
        self.assetID = assetID
        self.assets = assets
        self.bus = bus
        self.clock = clock
        self.logger = logger
        self.throttle = ProgressThrottle(notifiedFrom: notifiedFrom, persistedFrom: persistedFrom)
    }

    func progress(_ percent: Double, eta: Double?, speed: Double?) async {
        let decision = throttle.record(percent)
        if decision.notify {
            await publish(AssetEvent(assetID: assetID, type: .progress, percent: percent.rounded(toPlaces: 1), etaSeconds: eta, speed: speed, at: clock.now()))
        }
        if decision.persist {
            do { _ = try await assets.updateProgress(assetID, percent: percent) } catch {
                // Progress is advisory: a failed write must not fail the encode.
                logger.warning("progress not saved", metadata: ["asset.id": "\(assetID)", "error": "\(error)"])
            }
        }
    }

    func publish(_ event: AssetEvent) async {
        do { try await bus.publish(event) } catch {
            logger.warning("event not published", metadata: ["asset.id": "\(assetID)", "event.type": "\(event.type)", "error": "\(error)"])
        }
    }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let scale = Foundation.pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}
