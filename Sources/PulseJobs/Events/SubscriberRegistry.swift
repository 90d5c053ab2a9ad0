package import Foundation
import Synchronization

/// Local subscribers by asset id: the fan-out both buses share.
package final class SubscriberRegistry: Sendable {
    /// What a subscriber is handed: each event, then nil once when the bus ends.
    typealias Receiver = @Sendable (AssetEvent?) -> Void

    private struct State {
        var nextID = 0
        var byAsset: [UUID: [Int: Receiver]] = [:]
    }

    private let state = Mutex(State())
    /// Events a stream subscriber may fall behind by before the oldest are dropped.
    private let bufferSize: Int

    init(bufferSize: Int = 256) {
        self.bufferSize = bufferSize
    }

    func subscribe(assetID: UUID) -> AsyncStream<AssetEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: AssetEvent.self,
            bufferingPolicy: .bufferingNewest(self.bufferSize)
        )
        let subscription = subscribe(assetID: assetID) { event in
            if let event { continuation.yield(event) } else { continuation.finish() }
        }
        // Runs when the consumer's loop ends or its task is cancelled.
        continuation.onTermination = { _ in subscription.cancel() }
        return stream
    }

    func subscribe(assetID: UUID, receive: @escaping Receiver) -> EventSubscription {
        let id = self.state.withLock { state in
            defer { state.nextID += 1 }
            state.byAsset[assetID, default: [:]][state.nextID] = receive
            return state.nextID
        }
        return EventSubscription { [weak self] in self?.remove(assetID: assetID, id: id) }
    }

    func deliver(_ event: AssetEvent) {
        let targets = self.state.withLock { Array(($0.byAsset[event.assetID] ?? [:]).values) }
        for receive in targets {
            receive(event)
        }
    }

    /// Subscribers of one asset.
    package func count(assetID: UUID) -> Int {
        self.state.withLock { $0.byAsset[assetID]?.count ?? 0 }
    }

    /// Ends every subscription (the bus is shutting down).
    func finishAll() {
        let all = self.state.withLock { state in
            defer { state.byAsset = [:] }
            return state.byAsset.values.flatMap(\.values)
        }
        for receive in all { receive(nil) }
    }

    private func remove(assetID: UUID, id: Int) {
        self.state.withLock { state in
            state.byAsset[assetID]?[id] = nil
            if state.byAsset[assetID]?.isEmpty == true { state.byAsset[assetID] = nil }
        }
    }
}

/// A subscription made with ``EventBus/subscribe(assetID:receive:)``: it lasts until cancelled.
public final class EventSubscription: Sendable {
    private let onCancel: Mutex<(@Sendable () -> Void)?>

    init(onCancel: @escaping @Sendable () -> Void) {
        self.onCancel = Mutex(onCancel)
    }

    /// Stops the subscription; later calls do nothing.
    public func cancel() {
        onCancel.withLock { body in
            defer { body = nil }
            return body
        }?()
    }
}
