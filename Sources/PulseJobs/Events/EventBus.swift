public import Foundation

/// Carries asset events from the worker that produces them to every subscriber, in this process
/// (`InProcessEventBus`) or in all processes sharing a PostgreSQL database (`PostgresEventBus`).
///
/// Delivery is best effort and live only: a subscriber gets events published after it subscribed,
/// while it keeps up (a slow one loses the oldest). The database holds the state to catch up from.
public protocol EventBus: Sendable {
    /// Sends an event to the asset's subscribers.
    func publish(_ event: AssetEvent) async throws

    /// The asset's events from now on. The stream ends when the consumer stops iterating or its task
    /// is cancelled, which also unsubscribes.
    func subscribe(assetID: UUID) -> AsyncStream<AssetEvent>

    /// The asset's events from now on, each handed to `receive` as the bus gets it, in order and
    /// on the bus's own thread (so `receive` must only hand it on), then nil once if the bus
    /// ends. For a consumer that wants no task of its own per subscription; it lasts until the
    /// subscription is cancelled.
    func subscribe(assetID: UUID, receive: @escaping @Sendable (AssetEvent?) -> Void) -> EventSubscription
}
