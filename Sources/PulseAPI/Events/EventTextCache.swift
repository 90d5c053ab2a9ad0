import PulseJobs

/// The text of each event message, made once and shared by every connection that forwards it.
///
/// A thousand browsers following one asset would otherwise each encode the same JSON and, for
/// `ready`, each read the asset from the database: work that grows with the audience and shows
/// as delivery latency. Concurrent requests for one message wait for the first one's result.
actor EventTextCache {
    private struct Key: Hashable {
        var event: AssetEvent
        var base: String
    }

    private var entries: [Key: Task<String, any Error>] = [:]
    private var order: [Key] = []
    private let capacity: Int

    init(capacity: Int = 512) { self.capacity = capacity }

    func text(for event: AssetEvent, base: String, make: @escaping @Sendable () async throws -> String) async throws -> String {
        let key = Key(event: event, base: base)
        if let existing = entries[key] { return try await existing.value }
        let task = Task { try await make() }
        entries[key] = task
        order.append(key)
        if order.count > capacity { entries[order.removeFirst()] = nil }
        return try await task.value
    }
}
