import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes

/// The idle and header timeouts of one connection, first in its pipeline (it sees the raw bytes).
///
/// Hummingbird's own idle handler only joins the pipeline once a first request head has been
/// parsed, so a connection that sends nothing, or half a head, would stay open for ever. This
/// handler covers every moment a connection is waiting for a request head:
/// - no bytes of a head yet (just accepted, or after a keep-alive response): closed after the idle
///   timeout;
/// - a head has started to arrive: closed unless the whole head has arrived within the header
///   timeout of its first byte, however slowly the rest trickles in.
/// Once a whole head has arrived, the time is the server's, not the client's: an upgrade request
/// is decided by the events route in a task of its own (a database read), which on a busy machine
/// can take longer than the header timeout, so the deadline ends with the head's last byte rather
/// than when the route gets to it.
/// While a request is in flight (parsed, and its answer or its body not finished) it does nothing:
/// a stalled body is Hummingbird's idle timeout's business, the rest of a body answered early (a
/// refused upload) is read by the server before the next head, and an upgraded WebSocket stays
/// in flight for good.
///
/// It learns about heads and answers from ``HTTPExchangeObserver`` (after the HTTP codec) and, for
/// WebSocket upgrade requests, which never reach that observer, from ``PulseHTTPChannel`` as it
/// hands the head to the events route (``headArrived(on:)``). The route also leaves here the
/// refusal of an upgrade (``refuse(_:on:)``), which the observer writes instead of
/// hummingbird-websocket's bare 400.
final class ConnectionDeadlines: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let idleTimeout: TimeAmount
    private let headerTimeout: TimeAmount
    private let logger: Logger
    /// Requests whose head was parsed and whose answer is not finished (an upgraded socket stays).
    private var inFlight = 0
    /// A request's head was parsed and its body has not ended: an answer may go out before the
    /// body is read (a refused upload), and the body's later bytes are no new head.
    private var bodyOpen = false
    /// Bytes of a head have arrived and not all of it yet.
    private var receivingHead = false
    /// A whole head has arrived and the server has not taken it up yet (an upgrade being decided).
    private var awaitingServer = false
    /// The end of a head is a blank line; its first bytes may have come in the previous read.
    private var headEnd = HeadEndScanner()
    private var deadline: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    private var started = false
    /// Why an upgrade request was refused, for the observer to answer with.
    private(set) var refusal: APIError?

    init(idleTimeout: Duration, headerTimeout: Duration, logger: Logger) {
        self.idleTimeout = TimeAmount(idleTimeout)
        self.headerTimeout = TimeAmount(headerTimeout)
        self.logger = logger
    }

    // MARK: From other parts of the server (any thread)

    /// An upgrade request's head is complete and goes to the events route (the upgrader consumed
    /// it, so the HTTP observer never will).
    static func headArrived(on channel: any Channel) {
        channel.eventLoop.execute {
            (try? channel.pipeline.syncOperations.handler(type: ConnectionDeadlines.self))?.headParsed()
        }
    }

    /// The events route refused an upgrade: the failed-upgrade answer carries this error instead.
    /// Runs before the upgrader learns of the refusal (both go through the channel's event loop,
    /// this first).
    static func refuse(_ error: APIError, on channel: any Channel) {
        channel.eventLoop.execute {
            (try? channel.pipeline.syncOperations.handler(type: ConnectionDeadlines.self))?.refusal = error
        }
    }

    // MARK: From the HTTP observer (on the event loop)

    /// A request head was parsed.
    func headParsed() {
        inFlight += 1
        bodyOpen = true
        receivingHead = false
        awaitingServer = false
        cancelDeadline()
    }

    /// An answer was written to its end.
    func answerFinished() {
        inFlight = max(0, inFlight - 1)
        armIdleIfQuiet()
    }

    /// A request's body ended (the server has read all of it).
    func requestEnded() {
        bodyOpen = false
        armIdleIfQuiet()
    }

    /// Nothing in flight either way: the connection waits for its next head.
    private func armIdleIfQuiet() {
        if inFlight == 0, !bodyOpen, let context {
            receivingHead = false
            awaitingServer = false
            arm(idleTimeout, context: context, reason: "idle")
        }
    }

    /// The refusal, once: a later answer on the connection is its own.
    func takeRefusal() -> APIError? {
        defer { refusal = nil }
        return refusal
    }

    // MARK: ChannelInboundHandler

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelDeadline()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelDeadline()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        if inFlight == 0, !bodyOpen, !receivingHead, !awaitingServer, bytes.readableBytes > 0 {
            receivingHead = true
            headEnd = HeadEndScanner()
            arm(headerTimeout, context: context, reason: "request head not complete")
        }
        let headComplete = receivingHead && headEnd.scan(bytes.readableBytesView)
        context.fireChannelRead(data)
        // A plain request's head was parsed in the read above (`headParsed`); an upgrade request
        // is still being decided: the client has sent its head, so the deadline ends here.
        if headComplete, receivingHead {
            receivingHead = false
            awaitingServer = true
            cancelDeadline()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Graceful shutdown: a connection with no request in flight has nothing to finish (the
        // HTTP handlers close theirs; this one may be the only handler that knows of it yet).
        if event is ChannelShouldQuiesceEvent, inFlight == 0 {
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Deadlines

    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        arm(idleTimeout, context: context, reason: "idle")
    }

    private func arm(_ timeout: TimeAmount, context: ChannelHandlerContext, reason: String) {
        cancelDeadline()
        let logger = logger
        let seconds = Double(timeout.nanoseconds) / 1e9
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            logger.debug("closing connection", metadata: [
                "connection.close.reason": "\(reason)", "connection.timeout.seconds": "\(seconds)",
                "connection.remote": "\(context.channel.remoteAddress?.description ?? "?")",
            ])
            // As if the client had stopped sending: hummingbird-websocket's upgrade handler, still
            // waiting for a first head, then ends quietly instead of logging an error.
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            context.close(promise: nil)
        }
    }

    private func cancelDeadline() {
        deadline?.cancel()
        deadline = nil
    }
}

/// Finds the blank line that ends an HTTP/1.1 head (CRLF CRLF) in the bytes of successive reads.
/// Empty lines before the request line are no head (a parser skips them), so they end nothing: a
/// client cannot stop the header timeout with a blank line and then trickle its head.
struct HeadEndScanner {
    private static let end: [UInt8] = [13, 10, 13, 10]
    /// Whether a byte other than CR and LF has come: the request line has begun.
    private var started = false
    /// How many bytes of `end` the bytes so far end with.
    private var matched = 0

    /// Whether the head ends in `bytes` (or ended before).
    mutating func scan(_ bytes: some Sequence<UInt8>) -> Bool {
        guard matched < Self.end.count else { return true }
        for byte in bytes {
            if !started {
                guard byte != 13, byte != 10 else { continue }
                started = true
            }
            if byte == Self.end[matched] {
                matched += 1
                if matched == Self.end.count { return true }
            } else {
                // A CR starts a new match (CR LF CR then CR: the last CR may begin the end).
                matched = byte == 13 ? 1 : 0
            }
        }
        return false
    }
}

/// After the HTTP codec: tells ``ConnectionDeadlines`` when a head was parsed and when an answer
/// is finished, and writes the JSON refusal of a WebSocket upgrade (status, `{"error": …}` body)
/// in place of the bare `400` hummingbird-websocket answers a refused upgrade with.
final class HTTPExchangeObserver: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var deadlines: ConnectionDeadlines?
    /// The body of the refusal being written in place of the failed upgrade's answer.
    private var refusalBody: ByteBuffer?
    private var replacingAnswer = false

    init() {}

    func handlerAdded(context: ChannelHandlerContext) {
        deadlines = try? context.pipeline.syncOperations.handler(type: ConnectionDeadlines.self)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: deadlines?.headParsed()
        case .body: break
        case .end: deadlines?.requestEnded()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head:
            if let refusal = deadlines?.takeRefusal() {
                let body = refusal.jsonBody(allocator: context.channel.allocator)
                var fields = refusal.headers
                fields[.contentType] = "application/json; charset=utf-8"
                fields[.cacheControl] = "no-store"
                fields[.contentLength] = "\(body.readableBytes)"
                fields[.connection] = "close"
                refusalBody = body
                replacingAnswer = true
                context.write(wrapOutboundOut(.head(HTTPResponse(status: refusal.status, headerFields: fields))), promise: promise)
            } else {
                context.write(data, promise: promise)
            }
        case .body:
            // The failed upgrade's answer has no body; were there one, it is not the refusal's.
            if replacingAnswer { promise?.succeed() } else { context.write(data, promise: promise) }
        case .end:
            if let body = refusalBody {
                refusalBody = nil
                context.write(wrapOutboundOut(.body(body)), promise: nil)
            }
            replacingAnswer = false
            context.write(data, promise: promise)
            deadlines?.answerFinished()
        }
    }
}

extension APIError {
    /// `{"error": {"code": "…", "message": "…"}}`, as `response(from:context:)` writes it.
    func jsonBody(allocator: ByteBufferAllocator) -> ByteBuffer {
        struct Body: Encodable {
            struct Detail: Encodable {
                var code: String
                var message: String
            }
            var error: Detail
        }
        let bytes = (try? JSON.encoder.encode(Body(error: .init(code: code.rawValue, message: message))))
            ?? Data(#"{"error":{"code":"ERR_INTERNAL","message":"internal error"}}"#.utf8)
        return allocator.buffer(bytes: bytes)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
