import NIOCore

/// The first handler of an upgraded events connection: the relay writes its ready-made frames
/// here, below the WebSocket encoder, and the socket is closed from here.
///
/// Once a close frame has gone out nothing more is written: the WebSocket handler above answers
/// the client's close with one of its own, which is dropped here, so the client sees one close
/// frame, the relay's. The connection ends when the client answers the close (the WebSocket
/// handler then closes it) or, at the latest, `closeGrace` after it.
final class EventSocketWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What queueing frames found.
    enum Outcome {
        case queued
        /// More than the send limit waits to be sent: the client does not keep up.
        case slow
        /// A close frame went out before: nothing more is sent.
        case closed
    }

    private let closeGrace: TimeAmount
    private var context: ChannelHandlerContext?
    private var closed = false
    private var hardClose: Scheduled<Void>?

    init(closeGrace: TimeAmount) {
        self.closeGrace = closeGrace
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        hardClose?.cancel()
        hardClose = nil
        self.context = nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !closed else {
            promise?.succeed(())
            return
        }
        context.write(data, promise: promise)
    }

    /// Queues frames without flushing, unless the connection's unsent bytes are past its high
    /// water mark (the send limit) already.
    func queue(_ frames: [ByteBuffer]) -> Outcome {
        guard let context, !closed else { return .closed }
        guard context.channel.isWritable else { return .slow }
        for frame in frames { context.write(wrapOutboundOut(frame), promise: nil) }
        return .queued
    }

    /// Queues a close frame after everything queued before it; nothing is written after it.
    func close(with frame: ByteBuffer) {
        guard let context, !closed else { return }
        context.write(wrapOutboundOut(frame), promise: nil)
        closed = true
        let channel = context.channel
        hardClose = context.eventLoop.scheduleTask(in: closeGrace) { channel.close(promise: nil) }
    }

    func flush() {
        context?.flush()
    }
}
