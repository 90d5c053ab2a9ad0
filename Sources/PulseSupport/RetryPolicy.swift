/// When to try a failed operation again, and how long to wait first.
///
/// The wait has a ceiling that grows from `base` to `cap`, and jitter draws the wait under it, so
/// callers that failed together (a storage outage, a receiver down) do not all come back at the
/// same instant. Each user keeps its own numbers (the queue's retries, its outage waits, S3
/// requests, webhooks, queue writes); randomness and sleeping are injected so tests are exact.
public struct RetryPolicy: Sendable {
    /// How the ceiling grows.
    public enum Growth: Sendable, Hashable {
        /// Doubles with each failed attempt: `base * 2^(n-1)` after attempt `n`.
        case doubling
        /// Grows with how long the failure has lasted: `base + elapsed * perSecond`. For waits
        /// whose attempts are not counted (an outage waited out).
        case linear(perSecond: Double)
    }

    /// Where under the ceiling the wait falls.
    public enum Jitter: Sendable, Hashable {
        /// The ceiling itself: a fixed schedule, for one caller retrying its own write.
        case none
        /// Anywhere from 0 to the ceiling ("full jitter"): spreads many callers the most.
        case full
        /// From half the ceiling to the ceiling: never retries at once, still spread.
        case equal
    }

    /// The first ceiling, in seconds.
    public var base: Double
    /// The largest ceiling, in seconds.
    public var cap: Double
    public var growth: Growth
    public var jitter: Jitter
    /// Attempts in all, the first included; no retry after the last.
    public var maxAttempts: Int
    /// How long after the work began failures are retried, in seconds: a failure at or past it
    /// is the last, whatever the jitter drew (a count of attempts would cover a random span).
    public var window: Double
    /// A number in `0 ... 1` (clamped); uniformly random by default.
    public var random: @Sendable () -> Double
    /// Waits; `Task.sleep` by default.
    public var sleep: @Sendable (Duration) async throws -> Void

    /// A policy that retries without end unless told otherwise: full jitter over doubling ceilings.
    public init(
        base: Double,
        cap: Double,
        growth: Growth = .doubling,
        jitter: Jitter = .full,
        maxAttempts: Int = .max,
        window: Double = .infinity,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.base = base
        self.cap = cap
        self.growth = growth
        self.jitter = jitter
        self.maxAttempts = maxAttempts
        self.window = window
        self.random = random
        self.sleep = sleep
    }

    /// The upper bound of the wait after attempt `attempt` (1-based) failed, `elapsed` seconds
    /// into the failure. Doubling reads only the attempt, linear growth only the time.
    public func ceiling(afterAttempt attempt: Int, failingFor elapsed: Double = 0) -> Double {
        switch self.growth {
        case .doubling:
            // The exponent is clamped so 2^n stays finite for any attempt count.
            let exponent = min(max(attempt, 1) - 1, 60)
            return min(self.cap, self.base * Double(sign: .plus, exponent: exponent, significand: 1))
        case .linear(let perSecond):
            return min(self.cap, self.base + max(0, elapsed) * perSecond)
        }
    }

    /// The wait after attempt `attempt` failed, `elapsed` seconds into the failure, in seconds.
    public func delay(afterAttempt attempt: Int, failingFor elapsed: Double = 0) -> Double {
        let ceiling = self.ceiling(afterAttempt: attempt, failingFor: elapsed)
        let unit = min(max(self.random(), 0), 1)
        switch self.jitter {
        case .none: return ceiling
        case .full: return ceiling * unit
        case .equal: return ceiling * (0.5 + 0.5 * unit)
        }
    }

    /// The same wait as a `Duration`, for a caller that sleeps.
    public func wait(afterAttempt attempt: Int, failingFor elapsed: Double = 0) -> Duration {
        .seconds(self.delay(afterAttempt: attempt, failingFor: elapsed))
    }

    /// Whether a failure of attempt `attempt`, `elapsed` seconds after the work began, is retried.
    public func retries(afterAttempt attempt: Int, elapsed: Double = 0) -> Bool {
        attempt < self.maxAttempts && elapsed < self.window
    }

    /// When work begun at `start` is tried again after attempt `attempt` failed at `now` (epoch
    /// seconds), or nil: no attempts or time left.
    public func nextAttempt(afterAttempt attempt: Int, startedAt start: Double, now: Double) -> Double? {
        guard self.retries(afterAttempt: attempt, elapsed: now - start) else { return nil }
        return now + self.delay(afterAttempt: attempt, failingFor: now - start)
    }
}
