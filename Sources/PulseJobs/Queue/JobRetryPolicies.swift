public import PulseSupport

extension RetryPolicy {
    /// A job that failed transiently runs again after this wait (2 s doubling to 5 min, full
    /// jitter); the job's own `max_attempts` ends it.
    public static var jobFailure: RetryPolicy { RetryPolicy(base: 2, cap: 300) }

    /// A job waiting out a storage outage: 1 s at first, so a blip costs a second, growing by a
    /// quarter of the outage's length to 15 s, so a long one is polled gently. Equal jitter keeps
    /// the workers that all lost storage at once from returning together.
    public static var storageOutage: RetryPolicy {
        RetryPolicy(base: 1, cap: 15, growth: .linear(perSecond: 0.25), jitter: .equal)
    }

    /// A worker's write of a job's outcome that failed (a database blink): 250 ms doubling to 5 s,
    /// no jitter (one caller, its own row); the lease bounds how long it goes on.
    public static var queueWrite: RetryPolicy { RetryPolicy(base: 0.25, cap: 5, jitter: .none) }

    /// A heartbeat that failed or hung is tried again every second; the lease bounds how long.
    public static var heartbeat: RetryPolicy { RetryPolicy(base: 1, cap: 1, jitter: .none) }
}
