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

/// Waits while storage is out: short at first, so a blip costs a second, growing with the
/// outage to `cap`, so a long one is polled gently. Jitter keeps the workers that all lost storage
/// at once from returning together.
public struct OutageBackoff: Sendable {
    /// The first wait's ceiling, in seconds.
    public var base: Double
    /// The largest ceiling, in seconds.
    public var cap: Double
    /// A random number in `0 ..< 1`.
    public var random: @Sendable () -> Double

    /// Base 1 s, cap 15 s.
    public init(base: Double = 1, cap: Double = 15, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.base = base
        self.cap = cap
        self.random = random
    }

    /// Half the ceiling plus up to half again at random: the ceiling is `base` plus a quarter of
    /// how long the outage has lasted, at most `cap`.
    public func delay(outageSeconds: Double) -> Double {
        let ceiling = min(self.cap, self.base + max(0, outageSeconds) / 4)
        return ceiling * (0.5 + 0.5 * min(max(self.random(), 0), 1))
    }
}

extension Double {
    fileprivate static func pow2(_ exponent: Double) -> Double {
        Double(sign: .plus, exponent: Int(exponent), significand: 1)
    }
}
