/// Polls `probe` every `interval` until it returns a value, and returns that value; fails with
/// `TimeoutError` (naming `what`, followed by `context()`, e.g. a process's log) once `timeout`
/// has passed. The one way a test waits for something to happen: on the condition, bounded,
/// never a fixed sleep.
public func waitFor<T>(
    _ what: String,
    timeout: Duration = .seconds(20),
    interval: Duration = .milliseconds(20),
    context: () -> String = { "" },
    _ probe: () async throws -> T?
) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try await probe() { return value }
        if ContinuousClock.now >= deadline { throw TimeoutError(timeout: timeout, what: what, context: context()) }
        try await Task.sleep(for: interval)
    }
}

/// `waitFor` for a condition with no value to return: until `condition` holds.
public func waitUntil(
    _ what: String,
    timeout: Duration = .seconds(20),
    interval: Duration = .milliseconds(20),
    context: () -> String = { "" },
    _ condition: () async throws -> Bool
) async throws {
    _ = try await waitFor(what, timeout: timeout, interval: interval, context: context) { try await condition() ? true : nil }
}
