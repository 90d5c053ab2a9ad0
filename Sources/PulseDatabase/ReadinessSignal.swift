import Synchronization

/// A flag that tasks can wait on to become true (e.g. "the LISTEN connection is up"); the wait ends
/// early when the waiting task is cancelled.
package final class ReadinessSignal: Sendable {
    private struct State {
        var isReady = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    package init() {}

    package var isReady: Bool { self.state.withLock { $0.isReady } }

    package func set(_ ready: Bool) {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.isReady = ready
            guard ready else { return [] }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once ready (at once if it already is), or when the task is cancelled.
    package func wait() async {
        let id = self.state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state -> Bool in
                    // Checked under the lock: a cancel that ran before registration is seen here.
                    if state.isReady || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = self.state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }

    /// Waits until ready or until `timeout` passes; true when ready.
    package func wait(timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.wait()
                return !Task.isCancelled
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
