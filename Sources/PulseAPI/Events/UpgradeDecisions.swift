import NIOCore
import Synchronization

/// At most `limit` events-socket upgrades are decided at once; the others wait their turn, in
/// order, as a closure each rather than a task. A reconnect storm (every client of a restarted
/// server coming back in the same seconds) would otherwise hold ten thousand requests, tasks and
/// database reads at the same moment: the reads queue for the pool anyway, and the memory they
/// free afterwards is left between the sockets that stay open, so the process keeps the storm's
/// peak.
final class UpgradeDecisions: Sendable {
    private struct State {
        var running = 0
        var waiting = CircularBuffer<@Sendable () -> Void>()
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = limit
    }

    /// Runs `decide` in a task of its own once fewer than `limit` others run.
    func run<Value: Sendable>(on loop: any EventLoop, _ decide: @escaping @Sendable () async throws -> Value) -> EventLoopFuture<Value> {
        let promise = loop.makePromise(of: Value.self)
        let start: @Sendable () -> Void = {
            promise.completeWithTask {
                defer { self.finished() }
                return try await decide()
            }
        }
        let now = state.withLock { state -> Bool in
            guard state.running < limit else {
                state.waiting.append(start)
                return false
            }
            state.running += 1
            return true
        }
        if now { start() }
        return promise.futureResult
    }

    /// Decisions running and waiting.
    var counts: (running: Int, waiting: Int) { state.withLock { ($0.running, $0.waiting.count) } }

    /// Hands the finished decision's place to the next one waiting.
    private func finished() {
        let next = state.withLock { state -> (@Sendable () -> Void)? in
            if let next = state.waiting.popFirst() { return next }
            state.running -= 1
            return nil
        }
        next?()
    }
}
