import Synchronization

/// Records, once per lease, that its holder made progress (`JobQueue.recordProgress`): the first
/// stored segment is enough to show the job is not a poison job, and one write per lease keeps the
/// database out of every segment's way.
final class LeaseProgress: Sendable {
    private let queue: JobQueue
    private let job: Job
    private let recorded = Mutex(false)

    init(queue: JobQueue, job: Job) {
        self.queue = queue
        self.job = job
    }

    /// Records the progress unless it already is. A write that fails is tried again at the next
    /// call; it never fails the job, since all it costs is that a loss of this lease would count.
    func record() async {
        guard self.recorded.withLock({ recorded in defer { recorded = true }; return !recorded }) else { return }
        if (try? await self.queue.recordProgress(self.job)) == nil {
            self.recorded.withLock { $0 = false }
        }
    }
}
