/// When to retry a failed S3 request and how long to wait: exponential backoff with full jitter
/// (AWS's recommendation), on 5xx, 429/SlowDown and connection errors. The random source and the
/// sleep are injectable so tests run instantly and deterministically.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included. Default 5.
    public var maxAttempts: Int = 5
    /// The first backoff's upper bound; it doubles with each attempt. Default 100 ms.
    public var baseDelay: Duration = .milliseconds(100)
    /// The cap on any backoff. Default 5 s.
    public var maxDelay: Duration = .seconds(5)
    /// Picks a fraction in 0...1 of the backoff bound (full jitter). Default: uniformly random.
    public var jitter: @Sendable () -> Double = { Double.random(in: 0...1) }
    /// Waits; `Task.sleep` by default.
    public var sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }

    /// The default policy.
    public init() {}

    /// The wait before retry number `retry` (1 for the first retry).
    func delay(beforeRetry retry: Int) -> Duration {
        let exponent = min(retry - 1, 20)
        let bound = min(baseDelay * (1 << exponent), maxDelay)
        return bound * min(max(jitter(), 0), 1)
    }
}
