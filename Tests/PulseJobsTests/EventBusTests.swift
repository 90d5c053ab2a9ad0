import Foundation
import PulseDatabase
@testable import PulseJobs
import PulseSupport
import PulseTestSupport
import Synchronization
import Testing

@Suite struct EventBusTests {
    static func event(_ asset: UUID, percent: Double) -> AssetEvent {
        AssetEvent(assetID: asset, type: .progress, percent: percent, etaSeconds: 12, speed: 1.5, at: 1)
    }

    @Test func inProcessFansOutToAnAssetsSubscribersOnly() async throws {
        let bus = InProcessEventBus()
        let a = UUID()
        let b = UUID()
        let first = bus.subscribe(assetID: a)
        let second = bus.subscribe(assetID: a)
        let other = bus.subscribe(assetID: b)
        #expect(bus.subscriberCount(assetID: a) == 2)

        try await bus.publish(Self.event(a, percent: 10))
        try await bus.publish(Self.event(b, percent: 99))

        var firstIterator = first.makeAsyncIterator()
        var secondIterator = second.makeAsyncIterator()
        var otherIterator = other.makeAsyncIterator()
        #expect(await firstIterator.next() == Self.event(a, percent: 10))
        #expect(await secondIterator.next() == Self.event(a, percent: 10))
        // The other asset's subscriber sees only its own event, not A's.
        #expect(await otherIterator.next() == Self.event(b, percent: 99))
    }

    @Test func streamsUnsubscribeWhenTheConsumerStops() async throws {
        let bus = InProcessEventBus()
        let asset = UUID()
        let consumer = Task {
            for await event in bus.subscribe(assetID: asset) where event.percent == 50 {
                return true
            }
            return false
        }
        try await withTimeout(.seconds(5)) {
            while bus.subscriberCount(assetID: asset) == 0 { await Task.yield() }
        }
        try await bus.publish(Self.event(asset, percent: 50))
        #expect(await consumer.value)
        #expect(bus.subscriberCount(assetID: asset) == 0)

        let cancelled = Task { for await _ in bus.subscribe(assetID: asset) {} }
        try await withTimeout(.seconds(5)) {
            while bus.subscriberCount(assetID: asset) == 0 { await Task.yield() }
        }
        cancelled.cancel()
        await cancelled.value
        #expect(bus.subscriberCount(assetID: asset) == 0)
    }

    @Test func eventJSONUsesSnakeCaseAndRoundTrips() throws {
        let event = AssetEvent(
            assetID: UUID(uuidString: "00000000-0000-0000-0000-000000000001")!,
            type: .thumbnailReady,
            thumbnailKey: "processed/x/thumbnail.jpg",
            at: 2
        )
        let json = try event.jsonText()
        #expect(
            json
                == #"{"asset_id":"00000000-0000-0000-0000-000000000001","at":2,"thumbnail_key":"processed\/x\/thumbnail.jpg","type":"thumbnail_ready"}"#
        )
        #expect(try AssetEvent(jsonText: json) == event)
    }

    @Test func notifyPayloadIsCutToFit() throws {
        var event = AssetEvent(assetID: UUID(), type: .failed, errorCode: FailureCode("ERR_X"), at: 1)
        event.errorMessage = String(repeating: "é\"", count: 6000)
        let payload = try PostgresEventBus.payload(for: event)
        #expect(payload.utf8.count <= PostgresEventBus.maximumPayloadBytes)
        let decoded = try AssetEvent(jsonText: payload)
        #expect(decoded.errorCode == FailureCode("ERR_X"))
        #expect(decoded.errorMessage?.hasSuffix("…") == true)
    }

    /// An event NOTIFYed through one client reaches a subscriber of another client's LISTEN, and the
    /// listener comes back after its connection is killed.
    @Test(arguments: Engine.postgresOnly)
    func postgresDeliversAcrossClientsAndReconnects(engine: Engine) async throws {
        try await withTestLocation(engine) { url in
            try await withEngines(url, count: 2) { engines in
                let publisherEngine = try #require(engines[0] as? PostgresEngine)
                let listenerEngine = try #require(engines[1] as? PostgresEngine)
                let publisher = PostgresEventBus(engine: publisherEngine, logger: TestServices.logger)
                let listener = PostgresEventBus(
                    engine: listenerEngine,
                    reconnectBackoff: RetryPolicy(base: 0.2, cap: 1),
                    logger: TestServices.logger
                )
                let asset = UUID()
                let received = EventLog()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await listener.run() }
                    defer { group.cancelAll() }
                    #expect(await listener.waitUntilListening(timeout: .seconds(10)))
                    let events = listener.subscribe(assetID: asset)
                    group.addTask {
                        for await event in events { received.append(event) }
                    }

                    try await publisher.publish(Self.event(UUID(), percent: 1))
                    let started = ContinuousClock.now
                    try await publisher.publish(Self.event(asset, percent: 42))
                    try await received.waitFor("the event at 42 %", timeout: .seconds(5)) { $0.contains(Self.event(asset, percent: 42)) }
                    #expect(ContinuousClock.now - started < .seconds(2))
                    // Only this asset's events reached its subscriber.
                    #expect(received.all.allSatisfy { $0.assetID == asset })

                    // Kill this test's LISTEN connection from the server side (only its own: tests
                    // running beside it listen on the same database).
                    guard case .postgres(let location) = url else { throw MissingServiceError() }
                    let killed = try await publisherEngine.query(
                        """
                        SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
                        WHERE query LIKE 'LISTEN%' AND datname = current_database() AND pid <> pg_backend_pid()
                          AND application_name = $1
                        """,
                        [.text(PostgresEngine.applicationName(schema: location.schema))]
                    )
                    #expect(!killed.isEmpty)
                    // Events sent while it is down are lost (best effort), so publish until one comes
                    // through the new connection.
                    try await withTimeout(.seconds(15)) {
                        var percent = 50.0
                        while true {
                            try await publisher.publish(Self.event(asset, percent: percent))
                            let target = Self.event(asset, percent: percent)
                            if (try? await received.waitFor("the event at \(percent) %", timeout: .milliseconds(300)) { $0.contains(target) }) != nil {
                                return
                            }
                            percent += 1
                        }
                    }
                    #expect(listener.isListening)
                }
            }
        }
    }
}

/// Events a test's consumer task has received.
final class EventLog: Sendable {
    private let events = Mutex<[AssetEvent]>([])

    func append(_ event: AssetEvent) { self.events.withLock { $0.append(event) } }
    var all: [AssetEvent] { self.events.withLock { $0 } }

    /// Waits (bounded) until the received events satisfy `condition`.
    func waitFor(_ what: String, timeout: Duration, _ condition: ([AssetEvent]) -> Bool) async throws {
        try await waitUntil(what, timeout: timeout, interval: .milliseconds(5), context: { "received: \(self.all)" }) { condition(self.all) }
    }
}
