import PulseJobs
import Synchronization

/// The text of each event message, made once and shared by every connection that forwards it.
///
/// A thousand browsers following one asset would otherwise each encode the same JSON and, for
/// `ready`, each read the asset from the database: work that grows with the audience and shows
/// as delivery latency. Concurrent requests for one message wait for the first one's result. A
/// `Mutex`, not an actor: each of the thousand lookups is a lock, not a hop to another executor.
final class EventTextCache: Sendable {
    private struct Key: Hashable {
        var event: AssetEvent
        var base: String
    }

    private struct Entries {
        var tasks: [Key: Task<String, any Error>] = [:]
        var order: [Key] = []
    }

    private let entries = Mutex(Entries())
    private let capacity: Int

    init(capacity: Int = 512) { self.capacity = capacity }

    func text(for event: AssetEvent, base: String, make: @escaping @Sendable () async throws -> String) async throws -> String {
        let key = Key(event: event, base: base)
        let task = entries.withLock { entries -> Task<String, any Error> in
            if let existing = entries.tasks[key] { return existing }
            let task = Task { try await make() }
            entries.tasks[key] = task
            entries.order.append(key)
            if entries.order.count > capacity { entries.tasks[entries.order.removeFirst()] = nil }
            return task
        }
        return try await task.value
    }
}
