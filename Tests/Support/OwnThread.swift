import Foundation

/// Runs blocking work (a child process, a blocking socket) on a thread of its own and awaits it.
/// Swift's cooperative pool has one thread per core, two here, and the servers under test run in
/// this process on that pool: two tests blocking it at once would stall every other test.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
