/// `body`'s result, or `timeoutError` thrown once `deadline` has passed, `body` then cancelled
/// (a child process it runs is torn down with it). One place for every "no longer than this":
/// a tool run, a heartbeat, a test's wait.
public func withDeadline<T: Sendable>(
    _ deadline: Duration,
    orThrow timeoutError: @autoclosure () -> any Error,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: deadline)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw timeoutError() }
        return value
    }
}
