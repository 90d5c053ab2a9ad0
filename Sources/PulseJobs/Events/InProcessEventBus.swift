public import Foundation

/// The embedded default: events go straight to this process's subscribers, no I/O.
public final class InProcessEventBus: EventBus {
    /// Package-visible so test support can observe subscribers.
    package let registry = SubscriberRegistry()

    /// An empty bus.
    public init() {}

    public func publish(_ event: AssetEvent) async throws {
        self.registry.deliver(event)
    }

    public func subscribe(assetID: UUID) -> AsyncStream<AssetEvent> {
        self.registry.subscribe(assetID: assetID)
    }

    public func subscribe(assetID: UUID, receive: @escaping @Sendable (AssetEvent?) -> Void) -> EventSubscription {
        self.registry.subscribe(assetID: assetID, receive: receive)
    }
}
