public import Foundation
public import Logging
import PostgresNIO
public import PulseDatabase
public import PulseSupport
public import ServiceLifecycle

/// Events across processes and machines through PostgreSQL `LISTEN`/`NOTIFY`.
///
/// `publish` sends `NOTIFY pulse_events` with the event as JSON. `run()` (a `Service`) holds one
/// LISTEN connection for the whole process, borrowed from the engine's pool, and fans each event out
/// to this process's subscribers of its asset; if the connection drops it reconnects with backoff.
/// Events published while no LISTEN connection is up are not seen here (the database has the state).
public final class PostgresEventBus: EventBus, Service {
    /// The NOTIFY channel; database-wide, so every schema's processes share it (asset ids differ).
    public static let channel = "pulse_events"
    /// PostgreSQL refuses payloads of 8000 bytes or more.
    static let maximumPayloadBytes = 7900

    private let engine: PostgresEngine
    /// Package-visible so test support can observe subscribers and the LISTEN connection.
    package let registry = SubscriberRegistry()
    package let listening = ReadinessSignal()
    private let reconnectBackoff: RetryPolicy
    private let logger: Logger

    /// A bus over a PostgreSQL engine whose `run()` is running.
    /// - Parameter reconnectBackoff: waits between reconnect attempts of the LISTEN connection.
    public init(
        engine: PostgresEngine,
        reconnectBackoff: RetryPolicy = RetryPolicy(base: 0.5, cap: 30),
        logger: Logger
    ) {
        self.engine = engine
        self.reconnectBackoff = reconnectBackoff
        self.logger = logger
    }

    public func publish(_ event: AssetEvent) async throws {
        let payload = try Self.payload(for: event)
        _ = try await self.engine.query(
            "SELECT pg_notify($1, $2)",
            [.text(Self.channel), .text(payload)]
        )
    }

    public func subscribe(assetID: UUID) -> AsyncStream<AssetEvent> {
        self.registry.subscribe(assetID: assetID)
    }

    public func subscribe(assetID: UUID, receive: @escaping @Sendable (AssetEvent?) -> Void) -> EventSubscription {
        self.registry.subscribe(assetID: assetID, receive: receive)
    }

    /// Listens until cancelled or graceful shutdown, then ends every subscriber's stream.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.listenLoop()
        }
        self.listening.set(false)
        self.registry.finishAll()
    }

    private func listenLoop() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                try await self.engine.client.withConnection { connection in
                    try await connection.listen(on: Self.channel) { notifications in
                        self.listening.set(true)
                        failures = 0
                        self.logger.debug("listening for events", metadata: ["events.channel": "\(Self.channel)"])
                        for try await notification in notifications {
                            self.handle(notification.payload)
                        }
                    }
                }
            } catch {
                if !Task.isCancelled {
                    self.logger.warning(
                        "event listener connection lost",
                        metadata: ["error": "\(String(reflecting: error))", "events.failures": "\(failures + 1)"]
                    )
                }
            }
            self.listening.set(false)
            if Task.isCancelled { break }
            failures += 1
            // Never quicker than 50 ms, so a server that refuses at once is not hammered.
            let delay = max(0.05, self.reconnectBackoff.delay(afterAttempt: failures))
            try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
        }
    }

    private func handle(_ payload: String) {
        do {
            self.registry.deliver(try AssetEvent(jsonText: payload))
        } catch {
            // Another version's or another program's message on the channel: skip it.
            self.logger.debug("ignored an event payload", metadata: ["error": "\(error)"])
        }
    }

    /// The event's JSON, shortened to fit NOTIFY: only the error message can be long, so it is the
    /// part that gets cut.
    static func payload(for event: AssetEvent) throws -> String {
        var event = event
        var text = try event.jsonText()
        while text.utf8.count > Self.maximumPayloadBytes, let message = event.errorMessage, !message.isEmpty {
            // Characters take 1 to 6 bytes once JSON-escaped, so cut in proportion and check again.
            let ratio = Double(Self.maximumPayloadBytes) / Double(text.utf8.count)
            let keep = Int(Double(message.count) * ratio) - 16
            event.errorMessage = keep > 0 ? String(message.prefix(keep)) + "…" : nil
            text = try event.jsonText()
        }
        guard text.utf8.count <= Self.maximumPayloadBytes else {
            throw DatabaseError(.invalidValue, message: "event payload of \(text.utf8.count) bytes is too large")
        }
        return text
    }
}
