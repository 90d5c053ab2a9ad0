public import Foundation

/// The embedded default: events go straight to this process's subscribers, no I/O.
public final class InProcessEventBus: EventBus {
    private let registry = SubscriberRegistry()

    /// An empty bus.
    public init() {}

    public func publish(_ event: AssetEvent) async throws {
        self.registry.deliver(event)
    }

    public func subscribe(assetID: UUID) -> AsyncStream<AssetEvent> {
        self.registry.subscribe(assetID: assetID)
    }

    /// How many subscribers an asset has now.
    public func subscriberCount(assetID: UUID) -> Int {
        self.registry.count(assetID: assetID)
    }
}
