import Foundation

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
