public import PulseSupport

extension RetryPolicy {
    /// When a webhook that failed is tried again, and when it is given up: 5 s doubling to 1 h
    /// with full jitter, so the first retry comes within 5 s and receivers that failed together
    /// are not all called back at the same instant; until a failed attempt happens when the
    /// message is at least 24 h old, so the last attempt is made at or after 24 h.
    public static var webhookDelivery: RetryPolicy { RetryPolicy(base: 5, cap: 3600, window: 24 * 3600) }
}
