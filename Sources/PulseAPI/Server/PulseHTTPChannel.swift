import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket

/// HTTP/1.1 with the events WebSocket upgrade (NIO's typed upgrader, as hummingbird-websocket
/// sets it up), with ``ConnectionDeadlines`` first in every connection's pipeline and
/// ``HTTPExchangeObserver`` after the HTTP codec: connections that idle or send their request head
/// too slowly are closed, and a refused upgrade is answered with the API's JSON error.
///
/// An accepted upgrade hands the connection to ``EventSocketRoute/open(_:on:)`` and its task
/// ends there: an open events socket is channel handlers and its relay's bookkeeping, with no
/// task of its own, which is what lets one process hold tens of thousands of them.
struct PulseHTTPChannel: ServerChildChannel, HTTPChannelHandler {
    /// What became of a connection once its first request head was read.
    enum Outcome: Sendable {
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// An upgrade request that was refused: answered, then closed.
        case refusedUpgrade(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// An events socket, open and served without a task.
        case eventSocket
    }

    struct Value: ServerChildChannelValue {
        let outcome: EventLoopFuture<Outcome>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    let events: EventSocketRoute
    let eventsResponder: Router<EventSocketContext>.Responder
    let http1: HTTP1Channel.Configuration
    let idleTimeout: Duration
    let headerTimeout: Duration
    let decisions = UpgradeDecisions(limit: Self.upgradesDecidedAtOnce)

    /// Several times the database pool, so the pool and the cores stay busy; more adds only
    /// memory in a storm (measured: 64 and 256 open a storm of 10,000 as fast, with the same RSS).
    static let upgradesDecidedAtOnce = 64

    init(responder: @escaping HTTPChannelHandler.Responder, events: EventSocketRoute, idleTimeout: Duration, headerTimeout: Duration) {
        self.responder = Self.redirectingLateUpgrades(responder)
        self.events = events
        self.eventsResponder = events.router().buildResponder()
        self.http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [HTTPExchangeObserver()], idleTimeout: TimeAmount(idleTimeout))
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(
                ConnectionDeadlines(idleTimeout: idleTimeout, headerTimeout: headerTimeout, logger: logger), position: .first)
            // Reads start small and grow with the traffic: a connection keeps the buffer of its
            // last read while it idles, and an idle WebSocket's last read was its upgrade request.
            try channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: Self.receiveBuffers)
            let attempted = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
            let admitted = NIOLoopBoundBox<EventSocketAdmission?>(nil, eventLoop: channel.eventLoop)
            let upgrader = NIOTypedWebSocketServerUpgrader<Outcome>(
                maxFrameSize: EventSocket.maxClientFrameBytes,
                shouldUpgrade: { channel, head in
                    attempted.value = true
                    return decide(head, channel: channel, logger: logger).map { admission in
                        admitted.value = admission
                        return admission.map { _ in HTTPHeaders() }
                    }
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard let admission = admitted.value else { throw ChannelError.inappropriateOperationForState }
                        try events.open(admission, on: channel)
                        return .eventSocket
                    }
                }
            )
            let http1 = self.http1
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration<Outcome>(
                upgradeConfiguration: NIOTypedHTTPServerUpgradeConfiguration(
                    upgraders: [upgrader],
                    notUpgradingCompletionHandler: { channel in
                        channel.eventLoop.makeCompletedFuture {
                            let pipeline = channel.pipeline.syncOperations
                            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                            try pipeline.addHandlers(http1.additionalChannelHandlers())
                            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: http1.idleTimeout.map { .init($0) }, logger: logger))
                            let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                                wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                            return attempted.value ? .refusedUpgrade(http) : .http(http)
                        }
                    }
                )
            )
            configuration.enablePipelining = false  // NIOAsyncChannel handles one request at a time
            configuration.enableErrorHandling = false  // Hummingbird answers errors
            configuration.enableResponseHeaderValidation = false  // swift-http-types validates
            configuration.decoderConfiguration.maxHeaderFieldSize = http1.httpDecoder.maxHeaderFieldSize
            configuration.decoderConfiguration.maxHeaderListSize = http1.httpDecoder.maxHeaderListSize
            configuration.decoderConfiguration.maxHeaderFieldCount = http1.httpDecoder.maxHeaderFieldCount
            let outcome = try pipeline.configureUpgradableHTTPServerPipeline(configuration: configuration)
            return Value(outcome: outcome, channel: channel)
        }
    }

    /// The events route's decision on an upgrade request: what the socket is admitted with, or
    /// nil (the refusal is left with ``ConnectionDeadlines``). The head is complete, so its
    /// deadline ends now, however long the decision waits for its turn.
    private func decide(_ head: HTTPRequestHead, channel: any Channel, logger: Logger) -> EventLoopFuture<EventSocketAdmission?> {
        ConnectionDeadlines.headArrived(on: channel)
        let responder = eventsResponder
        return decisions.run(on: channel.eventLoop) {
            let request = Request(head: try HTTPRequest(head, secure: false, splitCookie: false), body: .init(buffer: .init()))
            let context = EventSocketContext(source: .init(channel: channel, logger: logger))
            let response = try await responder.respond(to: request, context: context)
            return response.status == .ok ? context.admission.admission : nil
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.outcome.get() {
            case .http(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .refusedUpgrade(let http):
                await answerRefusedUpgrade(http, logger: logger)
            case .eventSocket:
                return
            }
        } catch let error as ChannelError where error == .inputClosed {
            logger.trace("connection closed before its first request")
        } catch {
            logger.debug("connection ended before its first request", metadata: ["error": "\(error)"])
        }
    }

    /// A bare 400 that closes the connection; ``HTTPExchangeObserver`` writes the refusal's status
    /// and JSON body in its place.
    private func answerRefusedUpgrade(_ http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, logger: Logger) async {
        do {
            try await http.executeThenClose { _, outbound in
                let head = HTTPResponse(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])
                try await outbound.write(contentsOf: [.head(head), .end(nil)])
            }
        } catch {
            logger.trace("the refusal of an upgrade could not be written", metadata: ["error": "\(error)"])
        }
    }

    /// NIO upgrades only a connection's first request: a later one asking for a WebSocket is sent
    /// to the same URI again with the connection closed, so that it comes back on a new one.
    private static func redirectingLateUpgrades(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        struct ClosedForUpgrade: Error {}
        return { request, writer, channel in
            guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                return try await responder(request, writer, channel)
            }
            let location = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            try await writer.writeResponse(HTTPResponse(status: .temporaryRedirect, headerFields: [.connection: "close", .location: location]))
            throw ClosedForUpgrade()
        }
    }

    /// NIO's default sizes, but from 512 bytes rather than 2,048: a request head or an upgrade fits.
    static let receiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536)

    /// The server builder for `Application`: the main router answers HTTP, `events` decides and
    /// serves upgrades. Hummingbird's idle timeout (keep-alive and stalled bodies) is the same
    /// `idleTimeout`.
    static func builder(events: EventSocketRoute, idleTimeout: Duration, headerTimeout: Duration) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            PulseHTTPChannel(responder: responder, events: events, idleTimeout: idleTimeout, headerTimeout: headerTimeout)
        }
    }
}
