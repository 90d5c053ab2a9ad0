import NIOCore
import NIOWebSocket

/// The last handler of an upgraded events connection: what the client sends. A client only ever
/// sends control frames; its data frames are read and dropped. Its pings are answered, its close
/// is answered with the same status (or, after the relay's own close, ends the connection), and
/// it is pinged by its loop's ``EventSocketPinger``: a connection that sent nothing between two
/// pings is a peer that is gone, and is closed.
final class EventSocketReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame

    private let writer: EventSocketWriter
    private let pinger: EventSocketPinger
    /// Something arrived since the last ping.
    private var heard = true
    private var channel: (any Channel)?

    init(writer: EventSocketWriter, pinger: EventSocketPinger) {
        self.writer = writer
        self.pinger = pinger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        channel = context.channel
        pinger.add(self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        pinger.remove(self)
        channel = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        heard = true
        switch frame.opcode {
        case .ping:
            writer.queue([EventFrame.control(.pong, payload: frame.unmaskedData)])
            writer.flush()
        case .connectionClose:
            answerClose(frame, context: context)
        default:
            break
        }
    }

    /// The client closed its side (the server keeps half-closed connections open for HTTP): a
    /// socket has nothing to send to a client that is gone.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(.inputClosed) = event as? ChannelEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// The client's close: answered with its status code, then the connection ends once the
    /// answer is out. If the relay's close went out first, this is its answer: the end.
    private func answerClose(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        let channel = context.channel
        let data = frame.unmaskedData
        let code = data.getSlice(at: data.readerIndex, length: min(2, data.readableBytes)) ?? ByteBuffer()
        let sent = context.eventLoop.makePromise(of: Void.self)
        sent.futureResult.whenComplete { _ in channel.close(promise: nil) }
        if writer.close(with: EventFrame.control(.close, payload: code), promise: sent) {
            writer.flush()
        } else {
            sent.succeed(())
        }
    }

    /// The pinger's round: a ping, or the end of a connection that did not answer the last one.
    func ping() {
        guard heard else {
            channel?.close(promise: nil)
            return
        }
        heard = false
        writer.queue([EventFrame.control(.ping)])
        writer.flush()
    }
}
