import Foundation
import Synchronization

/// Where the persistence layer reads "now", as epoch seconds.
///
/// Every stored time is bound from Swift through this clock (never the database's own
/// `CURRENT_TIMESTAMP`), so both engines agree and tests can move time by hand.
public struct EpochClock: Sendable {
    private let read: @Sendable () -> Double

    /// A clock that answers with `read()`.
    public init(_ read: @escaping @Sendable () -> Double) {
        self.read = read
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    public func now() -> Double { self.read() }

    /// The machine's wall clock.
    public static let system = EpochClock { Date().timeIntervalSince1970 }
}

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
