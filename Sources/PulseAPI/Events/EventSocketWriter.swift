import NIOCore

/// The first handler of an upgraded events connection: the relay writes its ready-made frames
/// here, below the WebSocket encoder, and the socket is closed from here.
///
/// Once a close frame has gone out nothing more is written, so the client sees one close frame.
/// The connection ends when the client answers the close (``EventSocketReader`` then closes it)
/// or, at the latest, `closeGrace` after it.
final class EventSocketWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

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

    /// Whether the connection's unsent bytes are below its high water mark (the send limit);
    /// false once closed.
    var isWritable: Bool {
        guard let context, !closed else { return false }
        return context.channel.isWritable
    }

    /// Queues frames without flushing; nothing once a close frame went out.
    func queue(_ frames: [ByteBuffer]) {
        guard let context, !closed else { return }
        for frame in frames { context.write(wrapOutboundOut(frame), promise: nil) }
    }

    /// Queues a close frame after everything queued before it; nothing is written after it.
    /// Returns false when a close frame had already gone out (or the connection is gone).
    @discardableResult
    func close(with frame: ByteBuffer, promise: EventLoopPromise<Void>? = nil) -> Bool {
        guard let context, !closed else { return false }
        context.write(wrapOutboundOut(frame), promise: promise)
        closed = true
        let channel = context.channel
        hardClose = context.eventLoop.scheduleTask(in: closeGrace) { channel.close(promise: nil) }
        return true
    }

    /// Whether a close frame has gone out.
    var isClosing: Bool { closed }

    func flush() {
        context?.flush()
    }
}
