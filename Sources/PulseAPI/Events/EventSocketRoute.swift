import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import PulseJobs
import Synchronization

/// The request context of the WebSocket router: Hummingbird's, plus the connection (to give a
/// socket's slot back when it closes, and to hand a refusal to ``ConnectionDeadlines``) and what
/// the upgrade decision found for the socket that follows.
struct EventSocketContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<Self>
    let channel: any Channel
    /// Set when the upgrade is accepted; read by the socket's handler.
    let admission: AdmissionBox

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.channel = source.channel
        self.admission = AdmissionBox()
    }

    /// What an accepted upgrade passes on to its socket.
    final class AdmissionBox: Sendable {
        private let value = Mutex<Authenticator.Credential?>(nil)
        var credential: Authenticator.Credential? {
            get { value.withLock { $0 } }
            set { value.withLock { $0 = newValue } }
        }
    }
}

/// `GET /v1/assets/{id}/events` as a WebSocket: who may open one (the API key, or the asset's own
/// token), how many may be open (``EventSocketLimits``), and the socket itself (served by its
/// asset's ``EventRelay``).
///
/// A refused upgrade is answered like any API error, `{"error": {"code", "message"}}` with its
/// status: 401 (no, unknown or expired credentials), 403 (another asset's token), 404 (no such
/// asset), 429 (this token's sockets are all open), 503 (the process's sockets are).
struct EventSocketRoute: Sendable {
    let dependencies: APIDependencies
    let limits: EventSocketLimits
    let relays: EventRelays

    func router() -> Router<EventSocketContext> {
        let router = Router(context: EventSocketContext.self)
        router.ws("v1/assets/:id/events") { request, context in
            await self.shouldUpgrade(request, context: context)
        } onUpgrade: { inbound, _, context in
            guard let id = context.requestContext.parameters.get("id").flatMap(UUID.init(uuidString:)) else { return }
            let socket = try await EventSocket.attach(
                assetID: id, base: dependencies.links.base(for: context.request),
                tokenExpiry: context.requestContext.admission.credential?.expires,
                channel: context.requestContext.channel, batches: relays.batches, closeGrace: relays.settings.closeGrace)
            dependencies.metrics.webSocketsOpen.increment()
            defer { dependencies.metrics.webSocketsOpen.decrement() }
            relays.join(socket)
            defer { relays.leave(socket) }
            // The WebSocket handler answers pings and the client's close as it reads; everything
            // the socket is sent comes from its asset's relay.
            for try await _ in inbound {}
        }
        return router
    }

    /// Upgrades, taking a slot that the connection gives back when it closes; or refuses, leaving
    /// the reason for the connection's refusal answer.
    func shouldUpgrade(_ request: Request, context: EventSocketContext) async -> RouterShouldUpgrade {
        let channel = context.channel
        ConnectionDeadlines.headArrived(on: channel)
        do {
            let id = try APIDependencies.assetID(context.parameters.get("id"))
            let credential = try dependencies.auth.requireCredential(for: id, request)
            _ = try await dependencies.existingAsset(id)
            let slot = try limits.reserve(token: credential.token)
            let limits = self.limits
            channel.closeFuture.whenComplete { _ in limits.release(slot) }
            context.admission.credential = credential
            return .upgrade([:])
        } catch {
            let refusal = error as? APIError ?? ErrorMiddleware<EventSocketContext>.translate(error)
            if refusal.code == .internalError {
                context.logger.error("events upgrade failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            ConnectionDeadlines.refuse(refusal, on: channel)
            return .dontUpgrade
        }
    }
}
