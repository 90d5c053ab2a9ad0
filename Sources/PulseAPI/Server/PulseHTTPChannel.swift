import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// HTTP/1.1 with WebSocket upgrades (hummingbird-websocket's `HTTP1WebSocketUpgradeChannel`), with
/// ``ConnectionDeadlines`` first in every connection's pipeline and ``HTTPExchangeObserver`` after
/// the HTTP codec: connections that idle or send their request head too slowly are closed, and a
/// refused upgrade is answered with the API's JSON error.
struct PulseHTTPChannel: ServerChildChannel {
    typealias Value = HTTP1WebSocketUpgradeChannel.Value

    let upgradeChannel: HTTP1WebSocketUpgradeChannel
    let idleTimeout: Duration
    let headerTimeout: Duration

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(
                ConnectionDeadlines(idleTimeout: idleTimeout, headerTimeout: headerTimeout, logger: logger), position: .first)
            // Reads start small and grow with the traffic: a connection keeps the buffer of its
            // last read while it idles, and an idle WebSocket's last read was its upgrade request.
            try channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: Self.receiveBuffers)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return upgradeChannel.setup(channel: channel, logger: logger)
    }

    /// NIO's default sizes, but from 512 bytes rather than 2,048: a request head or an upgrade fits.
    static let receiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536)

    func handle(value: Value, logger: Logger) async {
        await upgradeChannel.handle(value: value, logger: logger)
    }

    /// The server builder for `Application`: the main router answers HTTP, `webSocketRouter`
    /// decides upgrades. Hummingbird's idle timeout (keep-alive and stalled bodies) is the same
    /// `idleTimeout`.
    static func builder<WebSocketRouter: HTTPResponderBuilder>(
        webSocketRouter: WebSocketRouter, idleTimeout: Duration, headerTimeout: Duration
    ) -> HTTPServerBuilder where WebSocketRouter.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: HTTP1Channel.Configuration(
                additionalChannelHandlers: [HTTPExchangeObserver()],
                idleTimeout: TimeAmount(idleTimeout)
            ),
            ws: WebSocketServerConfiguration()
        )
        return HTTPServerBuilder { responder in
            PulseHTTPChannel(
                upgradeChannel: HTTP1WebSocketUpgradeChannel(
                    responder: responder, webSocketResponder: webSocketResponder, configuration: configuration),
                idleTimeout: idleTimeout,
                headerTimeout: headerTimeout
            )
        }
    }
}
