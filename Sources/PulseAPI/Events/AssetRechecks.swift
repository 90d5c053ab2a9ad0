import Foundation
import Logging
import PulseJobs
import Synchronization

/// The periodic re-read behind every events WebSocket, shared per asset: one task per asset that
/// has subscribers reads the asset every `interval` and hands the result to all of them, so a
/// thousand sockets on one asset cost one query per interval, not a thousand. The task starts with
/// the asset's first subscriber and stops with its last.
///
/// The re-read is the safety net for a notification lost in transit (a dropped LISTEN
/// connection): each socket turns what it is handed into the events it has missed.
final class AssetRechecks: Sendable {
    /// What a re-read found: the stored asset, or nil when it no longer exists.
    typealias Reading = Asset?
    typealias Read = @Sendable (UUID) async throws -> Asset?

    private struct Watch {
        var subscribers: [Int: AsyncStream<Reading>.Continuation] = [:]
        var task: Task<Void, Never>?
    }

    private struct State {
        var nextID = 0
        var watches: [UUID: Watch] = [:]
    }

    let interval: Duration
    private let read: Read
    private let logger: Logger
    private let state = Mutex(State())

    init(interval: Duration, logger: Logger, read: @escaping Read) {
        self.interval = interval
        self.logger = logger
        self.read = read
    }

    /// The re-reads of one asset, every `interval`, until the stream is dropped or its consumer
    /// cancelled (which unsubscribes). Only the newest reading is kept for a slow consumer.
    func subscribe(assetID: UUID) -> AsyncStream<Reading> {
        let (stream, continuation) = AsyncStream.makeStream(of: Reading.self, bufferingPolicy: .bufferingNewest(1))
        let subscriber = state.withLock { state -> Int in
            let id = state.nextID
            state.nextID += 1
            var watch = state.watches[assetID] ?? Watch()
            watch.subscribers[id] = continuation
            if watch.task == nil { watch.task = makeTask(assetID) }
            state.watches[assetID] = watch
            return id
        }
        continuation.onTermination = { [weak self] _ in self?.unsubscribe(assetID: assetID, subscriber: subscriber) }
        return stream
    }

    /// Assets with a running re-read task, and their subscribers (for tests and metrics).
    var watched: [UUID: Int] {
        state.withLock { state in state.watches.mapValues(\.subscribers.count) }
    }

    private func unsubscribe(assetID: UUID, subscriber: Int) {
        let stopped = state.withLock { state -> Task<Void, Never>? in
            guard var watch = state.watches[assetID], watch.subscribers.removeValue(forKey: subscriber) != nil else { return nil }
            if watch.subscribers.isEmpty {
                state.watches[assetID] = nil
                return watch.task
            }
            state.watches[assetID] = watch
            return nil
        }
        stopped?.cancel()
    }

    private func makeTask(_ assetID: UUID) -> Task<Void, Never> {
        let interval = interval
        let read = read
        let logger = logger
        return Task { [weak self] in
            while !Task.isCancelled {
                do { try await Task.sleep(for: interval) } catch { return }
                let reading: Reading
                do {
                    reading = try await read(assetID)
                } catch {
                    // The database is out of reach: the next round tries again; sockets stay open.
                    logger.debug("asset re-read failed", metadata: ["asset.id": "\(assetID)", "error": "\(error)"])
                    continue
                }
                guard !Task.isCancelled, let self else { return }
                let subscribers = self.state.withLock { $0.watches[assetID].map { Array($0.subscribers.values) } ?? [] }
                for subscriber in subscribers { subscriber.yield(reading) }
            }
        }
    }
}
