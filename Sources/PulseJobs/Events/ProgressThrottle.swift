/// Decides which progress reports reach subscribers and which reach the database, by the reference
/// design's rule: subscribers at every change of at least 2 points, the database at every change of
/// at least 10 (each counted from its own last value), and 100 exactly once to both. Progress never
/// goes back: lower values are ignored.
///
/// Pure and synchronous; the caller keeps one per job and acts on the answers.
public struct ProgressThrottle: Sendable, Hashable {
    /// What to do with one report.
    public struct Decision: Sendable, Hashable {
        /// Publish a progress event.
        public var notify: Bool
        /// Write the progress to the database.
        public var persist: Bool

        public init(notify: Bool, persist: Bool) {
            self.notify = notify
            self.persist = persist
        }
    }

    /// Points of change before subscribers hear again.
    public let notifyStep: Double
    /// Points of change before the database is written again.
    public let persistStep: Double
    /// The last percent sent to subscribers.
    public private(set) var lastNotified: Double
    /// The last percent written to the database.
    public private(set) var lastPersisted: Double
    private var finished = false

    /// A throttle starting from `start` (e.g. the stored progress of a resumed job).
    public init(start: Double = 0, notifyStep: Double = 2, persistStep: Double = 10) {
        self.init(notifiedFrom: start, persistedFrom: start, notifyStep: notifyStep, persistStep: persistStep)
    }

    /// A throttle for a job that continues an asset's progress: subscribers already heard up to
    /// `notifiedFrom` (what earlier jobs account for), the database holds `persistedFrom`. The two
    /// differ because the database is written five times less often.
    public init(notifiedFrom: Double, persistedFrom: Double, notifyStep: Double = 2, persistStep: Double = 10) {
        self.notifyStep = notifyStep
        self.persistStep = persistStep
        self.lastNotified = min(100, max(0, notifiedFrom))
        self.lastPersisted = min(100, max(0, persistedFrom))
    }

    /// Feeds one report and says what to do with it.
    public mutating func record(_ percent: Double) -> Decision {
        guard percent.isFinite, !self.finished else { return Decision(notify: false, persist: false) }
        let percent = min(100, max(0, percent))
        if percent >= 100 {
            self.finished = true
            self.lastNotified = 100
            self.lastPersisted = 100
            return Decision(notify: true, persist: true)
        }
        let notify = percent - self.lastNotified >= self.notifyStep
        let persist = percent - self.lastPersisted >= self.persistStep
        if notify { self.lastNotified = percent }
        if persist { self.lastPersisted = percent }
        return Decision(notify: notify, persist: persist)
    }
}
