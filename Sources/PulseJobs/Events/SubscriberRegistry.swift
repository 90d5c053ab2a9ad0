package import Foundation
import Synchronization

/// Local subscribers by asset id: the fan-out both buses share.
package final class SubscriberRegistry: Sendable {
    private struct State {
        var nextID = 0
        var byAsset: [UUID: [Int: AsyncStream<AssetEvent>.Continuation]] = [:]
    }

    private let state = Mutex(State())
    /// Events a subscriber may fall behind by before the oldest are dropped.
    private let bufferSize: Int

    init(bufferSize: Int = 256) {
        self.bufferSize = bufferSize
    }

    func subscribe(assetID: UUID) -> AsyncStream<AssetEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: AssetEvent.self,
            bufferingPolicy: .bufferingNewest(self.bufferSize)
        )
        let id = self.state.withLock { state in
            defer { state.nextID += 1 }
            state.byAsset[assetID, default: [:]][state.nextID] = continuation
            return state.nextID
        }
        // Runs when the consumer's loop ends or its task is cancelled.
        continuation.onTermination = { [weak self] _ in
            self?.remove(assetID: assetID, id: id)
        }
        return stream
    }

    func deliver(_ event: AssetEvent) {
        let targets = self.state.withLock { Array(($0.byAsset[event.assetID] ?? [:]).values) }
        for continuation in targets {
            continuation.yield(event)
        }
    }

    /// Subscribers of one asset.
    package func count(assetID: UUID) -> Int {
        self.state.withLock { $0.byAsset[assetID]?.count ?? 0 }
    }

    /// Ends every stream (the bus is shutting down).
    func finishAll() {
        let all = self.state.withLock { state in
            defer { state.byAsset = [:] }
            return state.byAsset.values.flatMap(\.values)
        }
        for continuation in all { continuation.finish() }
    }

    private func remove(assetID: UUID, id: Int) {
        self.state.withLock { state in
            state.byAsset[assetID]?[id] = nil
            if state.byAsset[assetID]?.isEmpty == true { state.byAsset[assetID] = nil }
        }
    }
}
