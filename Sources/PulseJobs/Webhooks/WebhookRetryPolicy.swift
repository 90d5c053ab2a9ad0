/// When a webhook that failed is tried again, and when it is given up.
///
/// Exponential backoff with full jitter (the queue's `Backoff`): the wait after attempt `n` is
/// uniform in `0 ... min(cap, base * 2^(n-1))`, so the first retry comes within `base` (5 s) and
/// receivers that failed together are not all called back at the same instant. Retries go on
/// until a failed attempt happens when the message is at least `window` old (24 h): the last
/// attempt is then made at or after 24 h, whatever the jitter drew (a count of attempts would
/// cover a random span).
public struct WebhookRetryPolicy: Sendable {
    /// The backoff between attempts (base 5 s, cap 1 h).
    public var backoff: Backoff
    /// How long after the event attempts go on, in seconds (24 h).
    public var window: Double

    public init(backoff: Backoff = Backoff(base: 5, cap: 3600), window: Double = 24 * 3600) {
        self.backoff = backoff
        self.window = window
    }

    /// After attempt `attempt` of a message created at `createdAt` failed at `now`: the time of the
    /// next attempt, or nil to give up.
    public func nextAttempt(afterAttempt attempt: Int, createdAt: Double, now: Double) -> Double? {
        guard now - createdAt < window else { return nil }
        return now + backoff.delay(afterAttempt: attempt)
    }
}
