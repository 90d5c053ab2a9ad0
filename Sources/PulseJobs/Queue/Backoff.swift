/// Exponential backoff with full jitter: after attempt `n` (1-based), wait a uniformly random time in
/// `0 ... min(cap, base * 2^(n-1))`.
///
/// Full jitter spreads the retries of many workers that failed together (a storage outage) instead
/// of having them all come back at the same instant.
public struct Backoff: Sendable {
    /// The ceiling of the first wait, in seconds.
    public var base: Double
    /// The largest ceiling, in seconds.
    public var cap: Double
    /// A random number in `0 ..< 1`; injected so tests are exact.
    public var random: @Sendable () -> Double

    /// Base 2 s, cap 5 min, system randomness by default.
    public init(
        base: Double = 2,
        cap: Double = 300,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.base = base
        self.cap = cap
        self.random = random
    }

    /// The upper bound of the wait after `attempt` failed attempts.
    public func ceiling(afterAttempt attempt: Int) -> Double {
        // Exponent clamped so 2^n stays finite for any attempt count.
        let exponent = Double(min(max(attempt, 1) - 1, 60))
        return min(self.cap, self.base * Double.pow2(exponent))
    }

    /// The wait after `attempt` failed attempts, in seconds.
    public func delay(afterAttempt attempt: Int) -> Double {
        let unit = min(max(self.random(), 0), 1)
        return self.ceiling(afterAttempt: attempt) * unit
    }
}

extension Double {
    fileprivate static func pow2(_ exponent: Double) -> Double {
        Double(sign: .plus, exponent: Int(exponent), significand: 1)
    }
}
