import NIOCore
import Synchronization

/// The relays' frames for the sockets of one event loop, written in one pass on that loop with
/// one flush per socket per pass: a burst of events over many assets costs one hop to each loop,
/// however many sockets and relays it reaches.
final class EventLoopBatch: Sendable {
    /// What one socket gets in one pass: frames, then perhaps a close frame.
    struct Delivery: Sendable {
        let socket: EventSocket
        var frames: [ByteBuffer]
        var close: ByteBuffer?
    }

    let eventLoop: any EventLoop
    private let pending = Mutex<(deliveries: [Delivery], scheduled: Bool)>(([], false))
    private let slowReaderClose: ByteBuffer
    /// Sockets this loop has closed as slow readers.
    let slowReadersClosed = Atomic<Int>(0)

    init(eventLoop: any EventLoop, sendLimit: Int) {
        self.eventLoop = eventLoop
        self.slowReaderClose = EventFrame.close(.slowReader, reason: "ERR_SLOW_READER: more than \(sendLimit) bytes unsent")
    }

    /// Adds deliveries to the next pass, scheduling it if none is.
    func add(_ deliveries: [Delivery]) {
        guard !deliveries.isEmpty else { return }
        let schedule = pending.withLock { state -> Bool in
            state.deliveries.append(contentsOf: deliveries)
            defer { state.scheduled = true }
            return !state.scheduled
        }
        if schedule { eventLoop.execute { self.drain() } }
    }

    private func drain() {
        let deliveries = pending.withLock { state -> [Delivery] in
            defer { state = ([], false) }
            return state.deliveries
        }
        // Each socket is judged by what earlier passes left unsent, before this pass queues
        // anything (unflushed frames count towards writability): a burst is never a slow reader.
        var order: [Int] = []
        var bySocket: [Int: (writer: EventSocketWriter, writable: Bool)] = [:]
        for delivery in deliveries where bySocket[delivery.socket.id] == nil {
            let writer = delivery.socket.writer.value
            bySocket[delivery.socket.id] = (writer, writer.isWritable)
            order.append(delivery.socket.id)
        }
        for delivery in deliveries {
            guard let (writer, writable) = bySocket[delivery.socket.id] else { continue }
            guard writable else {
                // Its messages wait behind the unsent ones: the close frame tells it why, if it
                // ever reads that far; the connection goes within the close grace either way.
                if writer.close(with: slowReaderClose) { slowReadersClosed.add(1, ordering: .relaxed) }
                continue
            }
            writer.queue(delivery.frames)
            if let close = delivery.close { writer.close(with: close) }
        }
        for id in order { bySocket[id]?.writer.flush() }
    }
}

/// One ``EventLoopBatch`` and one ``EventSocketPinger`` per event loop, made on first use.
final class EventLoopBatches: Sendable {
    private let batches = Mutex<[ObjectIdentifier: EventLoopBatch]>([:])
    private let pingers = Mutex<[ObjectIdentifier: EventSocketPinger]>([:])
    let sendLimit: Int
    let pingInterval: TimeAmount

    init(sendLimit: Int, pingInterval: TimeAmount) {
        self.sendLimit = sendLimit
        self.pingInterval = pingInterval
    }

    func pinger(for eventLoop: any EventLoop) -> EventSocketPinger {
        pingers.withLock { pingers in
            let key = ObjectIdentifier(eventLoop)
            if let pinger = pingers[key] { return pinger }
            let pinger = EventSocketPinger(eventLoop: eventLoop, interval: pingInterval)
            pingers[key] = pinger
            return pinger
        }
    }

    /// Sockets closed as slow readers (4408) since the server started, on every loop.
    var slowReadersClosed: Int {
        batches.withLock { $0.values.reduce(0) { $0 + $1.slowReadersClosed.load(ordering: .relaxed) } }
    }

    func batch(for eventLoop: any EventLoop) -> EventLoopBatch {
        batches.withLock { batches in
            let key = ObjectIdentifier(eventLoop)
            if let batch = batches[key] { return batch }
            let batch = EventLoopBatch(eventLoop: eventLoop, sendLimit: sendLimit)
            batches[key] = batch
            return batch
        }
    }
}
