public import PulseSupport

extension RetryPolicy {
    /// A failed S3 request (5xx, 429/SlowDown, a connection error): 5 attempts in all, 100 ms
    /// doubling to 5 s with full jitter (AWS's recommendation).
    public static var s3Request: RetryPolicy { RetryPolicy(base: 0.1, cap: 5, maxAttempts: 5) }
}
