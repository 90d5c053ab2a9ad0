import NIOCore
import Synchronization

/// The pings of one event loop's events sockets, on one timer: every `interval` each socket is
/// pinged, or closed when it sent nothing since its previous ping (``EventSocketReader``).
///
/// One timer per loop rather than one per socket: NIO finds a cancelled timer by searching its
/// queue, so with a timer per socket every socket that closed walked through all the others'.
final class EventSocketPinger: Sendable {
    private struct State {
        var readers: [ObjectIdentifier: NIOLoopBound<EventSocketReader>] = [:]
        var timer: RepeatedTask?
    }

    private let eventLoop: any EventLoop
    private let interval: TimeAmount
    private let state = Mutex(State())

    init(eventLoop: any EventLoop, interval: TimeAmount) {
        self.eventLoop = eventLoop
        self.interval = interval
    }

    /// Pings `reader`'s socket from the next round on; on the loop.
    func add(_ reader: EventSocketReader) {
        let bound = NIOLoopBound(reader, eventLoop: eventLoop)
        let start = state.withLock { state -> Bool in
            state.readers[ObjectIdentifier(reader)] = bound
            return state.timer == nil
        }
        guard start else { return }
        let timer = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in
            self?.round()
        }
        state.withLock { $0.timer = timer }
    }

    /// Stops pinging `reader`'s socket (its connection is closing); on the loop.
    func remove(_ reader: EventSocketReader) {
        _ = state.withLock { $0.readers.removeValue(forKey: ObjectIdentifier(reader)) }
    }

    private func round() {
        let readers = state.withLock { Array($0.readers.values) }
        for reader in readers { reader.value.ping() }
    }
}
