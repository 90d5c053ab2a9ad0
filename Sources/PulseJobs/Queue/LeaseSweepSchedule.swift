import Synchronization

/// When `JobQueue.claim` settles expired leases while there is ready work: at most once per
/// `interval` for one queue (all its claimers together). A claim that finds no ready job settles
/// them at once, whatever the schedule, so an idle queue hands an expired lease's job over without
/// delay; a busy one does so within `interval`, which is small beside any lease (3 s or more).
/// Settling on every claim would double the cost of a claim on a busy queue for nothing: leases
/// expire rarely, and only when a worker stops renewing them.
final class LeaseSweepSchedule: Sendable {
    /// Seconds between two sweeps made beside ready work.
    let interval: Double
    /// When the last sweep ran (epoch seconds, the queue's clock); -infinity before the first.
    private let lastSweep = Mutex(-Double.infinity)

    init(interval: Double) {
        self.interval = interval
    }

    /// Whether a claim at `now` should sweep before it claims. A clock that went back counts as due.
    func isDue(at now: Double) -> Bool {
        self.lastSweep.withLock { last in now - last >= self.interval || now < last }
    }

    /// Records a sweep that ran at `now`.
    func swept(at now: Double) {
        self.lastSweep.withLock { $0 = now }
    }
}
