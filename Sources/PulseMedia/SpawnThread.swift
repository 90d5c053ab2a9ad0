import Foundation
import Synchronization

/// A task executor backed by one thread that lives as long as the process.
///
/// Children are spawned from this thread so that `PR_SET_PDEATHSIG` (which fires when the *thread*
/// that forked the child ends) means "when the worker process dies": a cooperative-pool thread
/// may be reaped while ffmpeg still runs, and would take ffmpeg with it.
final class SpawnThread: TaskExecutor, @unchecked Sendable {
    // @unchecked: all mutable state is inside `queue`, a Mutex.
    static let shared = SpawnThread()

    private let queue = Mutex<[UnownedJob]>([])
    private let wakeUp = DispatchSemaphore(value: 0)

    private init() {
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "pulse-spawn"
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        queue.withLock { $0.append(unowned) }
        wakeUp.signal()
    }

    private func loop() {
        while true {
            wakeUp.wait()
            let jobs = queue.withLock { jobs in
                defer { jobs.removeAll(keepingCapacity: true) }
                return jobs
            }
            for job in jobs {
                job.runSynchronously(on: asUnownedTaskExecutor())
            }
        }
    }
}
