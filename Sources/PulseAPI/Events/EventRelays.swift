import Foundation
import Logging
import NIOCore
import PulseJobs
import ServiceLifecycle
import Synchronization

/// The server's ``EventRelay``s, one per asset with open events WebSockets: the first socket of
/// an asset starts its relay (subscribed to the bus at once), the last one to close stops it.
///
/// Every `recheckInterval` it re-reads the assets of all relays, a few hundred per query, and
/// hands each relay whose asset changed since it last heard the row as it stands (the safety net
/// for an event lost in transit): one read per relay each time would be a thousand a second
/// with 5,000 assets watched.
///
/// A `Service`: `run()` runs the relays' passes (a child task per pass, while a relay has work)
/// and the re-reads, and on graceful shutdown closes every socket left with 1001.
final class EventRelays: Service, Sendable {
    /// What the relays share, and how sockets are served.
    struct Settings: Sendable {
        var recheckInterval: Duration
        /// Bytes a socket may have unsent before it is closed as a slow reader (4408).
        var sendLimit: Int
        /// How often a socket is pinged (``EventSocketReader``).
        var pingInterval: Duration
        /// How long a closing socket waits for the client's close frame.
        var closeGrace: Duration = .seconds(5)
    }

    private struct Entry {
        let relay: EventRelay
        var sockets: Int
    }

    let settings: Settings
    let batches: EventLoopBatches
    private let bus: any EventBus
    private let relaySettings: EventRelay.Settings
    private let entries = Mutex<[UUID: Entry]>([:])
    /// Relays with inputs waiting for a pass.
    private let passes: AsyncStream<EventRelay>
    private let passContinuation: AsyncStream<EventRelay>.Continuation

    init(settings: Settings, bus: any EventBus, rendering: EventRendering, logger: Logger) {
        self.settings = settings
        self.bus = bus
        self.batches = EventLoopBatches(sendLimit: settings.sendLimit, pingInterval: TimeAmount(settings.pingInterval))
        self.relaySettings = EventRelay.Settings(rendering: rendering, logger: logger)
        (passes, passContinuation) = AsyncStream.makeStream(of: EventRelay.self)
    }

    /// Hands a socket to its asset's relay, starting one if it is the asset's first.
    func join(_ socket: EventSocket) {
        let relay = entries.withLock { entries -> EventRelay in
            if var entry = entries[socket.assetID] {
                entry.sockets += 1
                entries[socket.assetID] = entry
                return entry.relay
            }
            let passes = passContinuation
            let relay = EventRelay(assetID: socket.assetID, bus: bus, settings: relaySettings) { passes.yield($0) }
            entries[socket.assetID] = Entry(relay: relay, sockets: 1)
            return relay
        }
        relay.join(socket)
    }

    /// Takes a closed socket off its relay, stopping the relay with its last socket.
    func leave(_ socket: EventSocket) {
        let (relay, last) = entries.withLock { entries -> (EventRelay?, Bool) in
            guard var entry = entries[socket.assetID] else { return (nil, false) }
            entry.sockets -= 1
            entries[socket.assetID] = entry.sockets > 0 ? entry : nil
            return (entry.relay, entry.sockets == 0)
        }
        relay?.leave(socket)
        if last { relay?.stop() }
    }

    /// Assets with a relay, and their sockets (for tests and metrics).
    var watched: [UUID: Int] {
        entries.withLock { $0.mapValues(\.sockets) }
    }

    /// Runs the relays' passes and the re-reads until graceful shutdown, then closes every
    /// socket left with 1001.
    func run() async throws {
        let passes = passes
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.rereadPeriodically() }
                for await relay in passes {
                    group.addTask { await relay.pass() }
                }
            }
        }
        // No pass runs any more: every relay's session is its own to end.
        for relay in entries.withLock({ $0.values.map(\.relay) }) { relay.shutDown() }
    }

    /// Re-reads the relays' assets every `recheckInterval` until cancelled. A relay hears of its
    /// asset when the row changed (`updated_at`) since it last heard, or is gone.
    private func rereadPeriodically() async {
        let assets = relaySettings.rendering.assets
        var heard: [ObjectIdentifier: Double] = [:]
        while true {
            do { try await Task.sleep(for: settings.recheckInterval) } catch { return }
            let relays = entries.withLock { $0.map { ($0.key, $0.value.relay) } }
            let live = Set(relays.map { ObjectIdentifier($0.1) })
            heard = heard.filter { live.contains($0.key) }
            var start = 0
            while start < relays.count {
                let chunk = relays[start..<min(start + AssetRepository.maxIDsPerRead, relays.count)]
                start = chunk.endIndex
                let found: [UUID: Asset]
                do {
                    found = Dictionary(try await assets.get(chunk.map(\.0)).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
                } catch {
                    // The database is out of reach: the next round tries again; sockets stay open.
                    relaySettings.logger.debug("assets re-read failed", metadata: ["error": "\(error)"])
                    continue
                }
                for (id, relay) in chunk {
                    let key = ObjectIdentifier(relay)
                    guard let asset = found[id] else {
                        relay.reread(nil)
                        continue
                    }
                    if heard[key] != asset.updatedAt {
                        heard[key] = asset.updatedAt
                        relay.reread(asset)
                    }
                }
            }
        }
    }
}
