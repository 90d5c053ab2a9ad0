import Foundation
import HummingbirdWebSocket
import Logging
import PulseJobs
import PulseSupport

/// Runs one `GET /v1/assets/{id}/events` WebSocket: a snapshot of the asset, then its events as the
/// bus delivers them (through an `EventFilter`), until a terminal event, the client leaving, the
/// token it was opened with expiring, or shutdown. Works the same whether the worker is in this
/// process or on another machine.
struct EventRelay: Sendable {
    let assets: AssetRepository
    let bus: any EventBus
    let links: Links
    /// The periodic re-read, shared by every socket of one asset.
    let rechecks: AssetRechecks
    let metrics: APIMetrics
    /// Shared by every connection of the server.
    let messages = EventTextCache()

    /// What the forwarding loop reacts to.
    private enum Input: Sendable {
        case event(AssetEvent)
        case busEnded
        case recheck(Asset?)
        case tokenExpired
    }

    /// Why a socket ends, and the close frame that says so.
    private enum Ending {
        case finished(String)
        case shuttingDown
        case tokenExpired

        var reason: String {
            switch self {
            case .finished(let reason): reason
            case .shuttingDown: "server shutting down"
            case .tokenExpired: FailureCode.tokenExpired.rawValue
            }
        }
    }

    /// - Parameter tokenExpiry: when the asset token the socket was opened with expires (nil for
    ///   the API key): the socket is closed then with code 4401, reason `ERR_TOKEN_EXPIRED`.
    func run(
        assetID: UUID, base: String, tokenExpiry: Date? = nil,
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger
    ) async throws {
        metrics.webSocketsOpen.increment()
        defer { metrics.webSocketsOpen.decrement() }
        try await withThrowingTaskGroup(of: Bool.self) { group in
            // Reading inbound answers the client's pongs and pings and notices when it leaves.
            group.addTask {
                for try await _ in inbound {}
                return false
            }
            group.addTask {
                try await self.forward(assetID: assetID, base: base, tokenExpiry: tokenExpiry, outbound: outbound, logger: logger)
                return true
            }
            let forwarderEnded = try await group.next() ?? false
            if forwarderEnded {
                // The forwarder sent a close frame: give the client a moment to answer it, so the
                // close handshake completes instead of the connection being cut.
                group.addTask {
                    try await Task.sleep(for: .seconds(5))
                    return false
                }
                _ = try await group.next()
            }
            group.cancelAll()
        }
    }

    private func forward(assetID: UUID, base: String, tokenExpiry: Date?, outbound: WebSocketOutboundWriter, logger: Logger) async throws {
        // Subscribe before reading the snapshot: an event published in between is then delivered
        // rather than lost (at worst it repeats what the snapshot shows, and the filter drops it).
        let events = bus.subscribe(assetID: assetID)
        guard let asset = try await assets.get(assetID) else {
            try await outbound.close(.unknown(4404), reason: "asset not found")
            return
        }
        var filter = EventFilter(snapshot: asset)
        try await send(.snapshot(try await AssetResource.make(asset, links: links, base: base)), outbound)
        if asset.status.isTerminal {
            // A late subscriber still ends on the same terminal event as everyone else.
            for event in filter.catchUp(with: asset, now: Date().timeIntervalSince1970) {
                try await send(try await message(for: event, of: asset, base: base), outbound)
            }
            try await outbound.close(.normalClosure, reason: asset.status.rawValue)
            return
        }

        let readings = rechecks.subscribe(assetID: assetID)
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
        let ending: Ending = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in events { continuation.yield(.event(event)) }
                continuation.yield(.busEnded)
            }
            group.addTask {
                for await reading in readings { continuation.yield(.recheck(reading)) }
            }
            if let tokenExpiry {
                group.addTask {
                    let left = tokenExpiry.timeIntervalSinceNow
                    if left > 0 { try await Task.sleep(for: .milliseconds(Int64((left * 1000).rounded(.up)))) }
                    continuation.yield(.tokenExpired)
                }
            }
            defer { group.cancelAll() }
            for await input in inputs {
                var pending: [AssetEvent] = []
                switch input {
                case .event(let event):
                    if filter.admit(event) { pending = [event] }
                case .recheck(let reading):
                    guard let stored = reading else {
                        pending = [AssetEvent.deleted(assetID, at: Date().timeIntervalSince1970)]
                        _ = filter.admit(pending[0])
                        break
                    }
                    pending = filter.catchUp(with: stored, now: Date().timeIntervalSince1970)
                case .busEnded:
                    return .shuttingDown
                case .tokenExpired:
                    return .tokenExpired
                }
                for event in pending {
                    let text = try await messages.text(for: event, base: base) {
                        try JSON.text(try await self.message(for: event, of: asset, base: base))
                    }
                    try await outbound.write(.text(text))
                }
                if filter.finished { return .finished(pending.last?.type.rawValue ?? "finished") }
            }
            return .finished("finished")
        }
        switch ending {
        case .finished: try await outbound.close(.normalClosure, reason: ending.reason)
        case .shuttingDown: try await outbound.close(.goingAway, reason: ending.reason)
        case .tokenExpired: try await outbound.close(.unknown(4401), reason: ending.reason)
        }
        logger.debug("events stream closed", metadata: ["asset.id": "\(assetID)", "ws.close.reason": "\(ending.reason)"])
    }

    /// The client-facing message for an event: object keys become URLs (with a playback token for
    /// a signed asset), `ready` carries the asset; `snapshot` is the asset as the socket opened
    /// (its passthrough and policy never change).
    private func message(for event: AssetEvent, of snapshot: Asset, base: String) async throws -> EventMessage {
        var message = EventMessage(type: event.type.rawValue)
        message.emittedAt = event.at
        message.passthrough = snapshot.passthrough
        switch event.type {
        case .status:
            message.status = event.status?.rawValue
        case .thumbnailReady:
            if let key = event.thumbnailKey {
                message.thumbnailURL = try await links.thumbnailURL(
                    assetID: event.assetID, key: key, base: base, token: links.playbackToken(for: snapshot)?.token)
            }
            message.placeholder = event.placeholder
        case .playable:
            message.playlistURL = links.playlistURL(assetID: event.assetID, base: base, token: links.playbackToken(for: snapshot)?.token, early: true)
        case .progress:
            message.percent = event.percent.map { min(100, $0).oneDecimal }
            message.etaSeconds = event.etaSeconds.map { max(0, $0).oneDecimal }
            message.speed = event.speed.map { ($0 * 100).rounded() / 100 }
        case .ready:
            message.percent = 100
            if let asset = try await assets.get(event.assetID) {
                message.asset = try await AssetResource.make(asset, links: links, base: base)
            }
        case .failed:
            message.error = AssetResource.ErrorDetail(recordedCode: event.errorCode, message: event.errorMessage)
        }
        return message
    }

    private func send(_ message: EventMessage, _ outbound: WebSocketOutboundWriter) async throws {
        try await outbound.write(.text(try JSON.text(message)))
    }
}
