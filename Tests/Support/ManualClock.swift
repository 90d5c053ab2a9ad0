public import PulseDatabase
import Synchronization

/// A clock that moves only when told: for tests of leases, backoff and ordering.
public final class ManualClock: Sendable {
    private let current: Mutex<Double>

    /// A clock reading `start` epoch seconds.
    public init(start: Double = 1_700_000_000) {
        self.current = Mutex(start)
    }

    /// The current reading.
    public var now: Double { self.current.withLock { $0 } }

    /// Moves the clock forward by `seconds`.
    public func advance(by seconds: Double) {
        self.current.withLock { $0 += seconds }
    }

    /// The `EpochClock` view of this clock, to inject.
    public var clock: EpochClock {
        EpochClock { self.now }
    }
}
