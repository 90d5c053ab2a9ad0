import Synchronization

/// Wakes this process's idle workers when a job is queued here or a job slot frees, instead of
/// leaving them to their next poll: in the embedded default the API's `complete`, and each step's
/// next jobs, start within milliseconds rather than up to a poll interval later (which counts in
/// the time to `playable`). Workers in other processes still poll.
final class WorkSignal: Sendable {
    static let shared = WorkSignal()

    private enum Wait {
        case waiting(CheckedContinuation<Void, Never>)
        /// Signalled or timed out; removed by whichever of the wait's two ends comes second.
        case over
    }
    private struct State {
        var next = 0
        var waits: [Int: Wait] = [:]
    }
    private let state = Mutex(State())

    /// Wakes every waiter.
    func signal() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            var woken: [CheckedContinuation<Void, Never>] = []
            for (id, wait) in state.waits {
                if case .waiting(let continuation) = wait {
                    woken.append(continuation)
                    state.waits[id] = .over
                }
            }
            return woken
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns at the next `signal`, or after `timeout`.
    func wait(upTo timeout: Duration) async {
        let id = state.withLock { state in
            state.next += 1
            return state.next
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let over = self.state.withLock { state -> Bool in
                        if case .over = state.waits[id] {
                            state.waits[id] = nil
                            return true
                        }
                        state.waits[id] = .waiting(continuation)
                        return false
                    }
                    if over { continuation.resume() }
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
            self.end(id)
        }
    }

    /// The wait `id` is over: resumed if it still waits, forgotten if it was signalled, marked
    /// over if its continuation is not registered yet (the registration then resumes at once).
    private func end(_ id: Int) {
        let waiting = state.withLock { state -> CheckedContinuation<Void, Never>? in
            switch state.waits[id] {
            case .waiting(let continuation):
                state.waits[id] = nil
                return continuation
            case .over:
                state.waits[id] = nil
                return nil
            case nil:
                state.waits[id] = .over
                return nil
            }
        }
        waiting?.resume()
    }
}
