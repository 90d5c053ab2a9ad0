import Foundation

/// One global percent for a whole asset: thumbnail 0-5 %, transcoding 5-100 %, the work units
/// weighted by their share of the work. Never decreases. Also estimates speed and time left.
public struct ProgressAggregator: Sendable {
    /// Percent at which transcoding starts (the thumbnail's share ends).
    public static let transcodeStart = 5.0

    private var weights: [WorkUnit.ID: Double]
    private var fractions: [WorkUnit.ID: Double] = [:]
    private var totalWeight: Double
    private var lastPercent = 0.0
    private var transcodeStartedAt: ContinuousClock.Instant?
    private var percentAtTranscodeStart = transcodeStart

    /// - Parameter units: unit -> weight (see `WorkPlanner.weight`).
    public init(units: [WorkUnit.ID: Double]) {
        self.weights = units
        self.totalWeight = max(units.values.reduce(0, +), 0.000_001)
    }

    public var percent: Double { lastPercent }

    /// The thumbnail is done.
    public mutating func thumbnailDone() -> Double { raise(to: Self.transcodeStart) }

    /// Marks units already finished before this run (resumed after a crash, or done by another
    /// worker): the percent starts from what they account for.
    public mutating func alreadyDone(_ key: WorkUnit.ID) {
        fractions[key] = 1
        _ = raise(to: max(Self.transcodeStart, completedPercent))
    }

    /// A unit reported `fraction` (0...1). Returns the global percent.
    public mutating func update(_ key: WorkUnit.ID, fraction: Double, now: ContinuousClock.Instant = .now) -> Double {
        if transcodeStartedAt == nil {
            transcodeStartedAt = now
            percentAtTranscodeStart = max(lastPercent, Self.transcodeStart)
        }
        fractions[key] = max(fractions[key] ?? 0, min(1, max(0, fraction)))
        return raise(to: completedPercent)
    }

    /// The percent the units' fractions account for.
    private var completedPercent: Double {
        let done = weights.reduce(0.0) { $0 + $1.value * (fractions[$1.key] ?? 0) }
        return Self.transcodeStart + (100 - Self.transcodeStart) * done / totalWeight
    }

    /// Seconds left, from the rate observed since transcoding started; nil until it can be told.
    public func etaSeconds(now: ContinuousClock.Instant = .now) -> Double? {
        guard let started = transcodeStartedAt else { return nil }
        let elapsed = (now - started) / .seconds(1)
        let gained = lastPercent - percentAtTranscodeStart
        guard elapsed > 0.5, gained > 0.1 else { return nil }
        return max(0, (100 - lastPercent) / (gained / elapsed))
    }

    private mutating func raise(to value: Double) -> Double {
        lastPercent = min(100, max(lastPercent, value))
        return lastPercent
    }
}

extension Duration {
    static func / (lhs: Duration, rhs: Duration) -> Double {
        let l = Double(lhs.components.seconds) + Double(lhs.components.attoseconds) / 1e18
        let r = Double(rhs.components.seconds) + Double(rhs.components.attoseconds) / 1e18
        return l / r
    }
}
