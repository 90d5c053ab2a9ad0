import Synchronization

/// The address the server is listening on, known once it is bound (port 0 picks one), and what
/// waits for that moment: the services of `serve` other than the server start only then.
public final class BoundAddress: Sendable {
    private struct State {
        var url: String?
        var waiters: [Int: CheckedContinuation<String, any Error>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    /// Empty until the server is bound.
    public init() {}

    /// `http://host:port`, once bound.
    public var url: String? { state.withLock { $0.url } }

    /// Waits until the server is bound and returns its `http://host:port`; throws
    /// `CancellationError` when the waiting task is cancelled first (the server did not bind).
    public func bound() async throws -> String {
        let waiter = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                // Decided under the lock, so a cancellation between the two steps is not missed:
                // either the handler below finds the waiter, or the task reads as cancelled here.
                let now: Result<String, any Error>? = state.withLock { state in
                    if let url = state.url { return .success(url) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[waiter] = continuation
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: waiter) }?.resume(throwing: CancellationError())
        }
    }

    func set(_ url: String) {
        let waiters = state.withLock { state in
            state.url = url
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume(returning: url) }
    }
}
