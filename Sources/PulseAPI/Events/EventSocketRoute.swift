import Foundation
import Hummingbird
import Logging
import NIOCore
import PulseJobs
import Synchronization

/// What an accepted upgrade passes on to the socket that follows it.
struct EventSocketAdmission: Sendable {
    let assetID: UUID
    /// The scheme and host its URLs are built on (from the upgrade request).
    let base: String
    /// When the asset token it was opened with expires; nil for the API key.
    let tokenExpiry: Date?
}

/// The request context of the events route: Hummingbird's, plus the connection (to give a
/// socket's slot back when it closes, and to hand a refusal to ``ConnectionDeadlines``) and what
/// the upgrade decision found for the socket that follows.
struct EventSocketContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel
    /// Set when the upgrade is accepted; read by ``PulseHTTPChannel`` to open the socket.
    let admission: AdmissionBox

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
        self.admission = AdmissionBox()
    }

    final class AdmissionBox: Sendable {
        private let value = Mutex<EventSocketAdmission?>(nil)
        var admission: EventSocketAdmission? {
            get { value.withLock { $0 } }
            set { value.withLock { $0 = newValue } }
        }
    }
}

/// `GET /v1/assets/{id}/events` as a WebSocket: who may open one (the API key, or the asset's own
/// token), how many may be open (``EventSocketLimits``), and the socket itself, which its asset's
/// ``EventRelay`` serves and a few channel handlers keep (``open(_:on:)``): no task is kept per
/// socket.
///
/// A refused upgrade is answered like any API error, `{"error": {"code", "message"}}` with its
/// status: 401 (no, unknown or expired credentials), 403 (another asset's token), 404 (no such
/// asset), 429 (this token's sockets are all open), 503 (the process's sockets are).
struct EventSocketRoute: Sendable {
    let dependencies: APIDependencies
    let limits: EventSocketLimits
    let relays: EventRelays

    /// The router that decides upgrades: its one route answers 200 with the admission set when
    /// the upgrade may go ahead.
    func router() -> Router<EventSocketContext> {
        let router = Router(context: EventSocketContext.self)
        router.get("v1/assets/:id/events") { request, context -> Response in
            await self.decide(request, context: context)
        }
        return router
    }

    /// Takes a slot that the connection gives back when it closes, or leaves the reason of the
    /// refusal for the connection's refusal answer.
    private func decide(_ request: Request, context: EventSocketContext) async -> Response {
        let channel = context.channel
        do {
            let id = try APIDependencies.assetID(context.parameters.get("id"))
            let credential = try dependencies.auth.requireCredential(for: id, request)
            _ = try await dependencies.existingAsset(id)
            let slot = try limits.reserve(token: credential.token)
            let limits = self.limits
            channel.closeFuture.whenComplete { _ in limits.release(slot) }
            context.admission.admission = EventSocketAdmission(
                assetID: id, base: dependencies.links.base(for: request), tokenExpiry: credential.expires)
            return Response(status: .ok)
        } catch {
            let refusal = error as? APIError ?? ErrorMiddleware<EventSocketContext>.translate(error)
            if refusal.code == .internalError {
                context.logger.error("events upgrade failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            ConnectionDeadlines.refuse(refusal, on: channel)
            return Response(status: .forbidden)
        }
    }

    /// Serves an upgraded connection (on its event loop, once the upgrade's answer is out): its
    /// handlers answer the client's pings and close, and its asset's relay sends it everything
    /// else, until the connection closes.
    func open(_ admission: EventSocketAdmission, on channel: any Channel) throws {
        let socket = try EventSocket.attach(admission, channel: channel, batches: relays.batches, settings: relays.settings)
        let (relays, gauge) = (self.relays, dependencies.metrics.webSocketsOpen)
        gauge.increment()
        relays.join(socket)
        channel.closeFuture.whenComplete { _ in
            relays.leave(socket)
            gauge.decrement()
        }
    }
}
