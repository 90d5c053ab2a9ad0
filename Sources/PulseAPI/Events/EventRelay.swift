import Foundation
import Logging
import NIOCore
import PulseJobs
import PulseSupport
import Synchronization

/// One asset's events WebSockets, served in order by passes that run only while there is work:
/// it takes the asset's events from the bus once, renders each message once (per URL base) into
/// one frame, and hands that frame to every socket that should get it, through each socket's
/// ``EventLoopBatch``. It also sends each new socket its snapshot (one read of the asset for all
/// sockets that joined meanwhile), brings its sockets up to the asset as ``EventRelays`` re-reads
/// it (the safety net for an event lost in transit: a dropped LISTEN connection) and closes sockets
/// whose token expired, on one timer of its own.
///
/// Inputs queue here; the first one queued while no pass runs asks ``EventRelays`` for a pass
/// (`schedule`), a child task that handles everything queued, in order, and ends. An idle relay
/// is its state alone, no task: a chat keeps thousands of relays open for uploads that are quiet
/// most of the time.
///
/// Guarantees per socket: the snapshot first; the asset's events in the bus's order, through an
/// ``EventFilter`` of its own; a terminal event (`ready`, `failed`) followed by the close frame;
/// close 4401 `ERR_TOKEN_EXPIRED` when its token expires. Everything a socket is sent comes from
/// one pass at a time, in input order, so nothing overtakes.
final class EventRelay: Sendable {
    /// What the relay reacts to, in the order it happened.
    enum Input: Sendable {
        case event(AssetEvent)
        case busEnded
        /// Sockets wait in `joining` for their snapshot.
        case joined
        case left(socketID: Int)
        /// The asset as re-read now; nil when it is gone.
        case reread(Asset?)
        /// The timer: a token expired.
        case tick
        /// The last socket left.
        case stop
    }

    /// What every relay of a server shares.
    struct Settings: Sendable {
        let rendering: EventRendering
        let logger: Logger
    }

    /// Inputs not handled yet, and the session between passes (taken by the pass that runs).
    private struct Work {
        var inputs: [Input] = []
        var session: RelaySession?
        var passRunning = false
        var ended = false
    }

    let assetID: UUID
    fileprivate let settings: Settings
    private let work = Mutex(Work())
    private let schedule: @Sendable (EventRelay) -> Void
    private let subscription = Mutex<EventSubscription?>(nil)
    /// Sockets waiting for their snapshot, all taken by the next read of the asset.
    fileprivate let joining = Mutex<[EventSocket]>([])

    /// Subscribes to the asset's events at once, before any socket's snapshot is read, so an
    /// event published in between is delivered rather than lost (at worst it repeats what the
    /// snapshot shows, and the filter drops it). The bus hands each event straight to the relay.
    /// - Parameter schedule: runs ``pass()`` soon, in a task of its own.
    init(assetID: UUID, bus: any EventBus, settings: Settings, schedule: @escaping @Sendable (EventRelay) -> Void) {
        self.assetID = assetID
        self.settings = settings
        self.schedule = schedule
        work.withLock { $0.session = RelaySession(relay: self) }
        let subscription = bus.subscribe(assetID: assetID) { [weak self] event in
            self?.enqueue(event.map(Input.event) ?? .busEnded)
        }
        self.subscription.withLock { $0 = subscription }
    }

    /// Adds a socket: it gets its snapshot, then the asset's events.
    func join(_ socket: EventSocket) {
        joining.withLock { $0.append(socket) }
        enqueue(.joined)
    }

    /// Brings the sockets up to `asset` as just read (nil: the asset is gone).
    func reread(_ asset: Asset?) {
        enqueue(.reread(asset))
    }

    /// Forgets a socket whose connection closed.
    func leave(_ socket: EventSocket) {
        enqueue(.left(socketID: socket.id))
    }

    /// Ends the relay once it has handled what came before (its last socket has gone).
    func stop() {
        enqueue(.stop)
    }

    fileprivate func enqueue(_ input: Input) {
        let startPass = work.withLock { work -> Bool in
            guard !work.ended else { return false }
            work.inputs.append(input)
            defer { work.passRunning = true }
            return !work.passRunning
        }
        if startPass { schedule(self) }
    }

    /// Handles every input queued, in order, until none is left.
    func pass() async {
        guard var session = work.withLock({ $0.session.take() }) else { return }
        var ended = false
        while !ended {
            let inputs = work.withLock { work -> [Input] in
                defer { work.inputs = [] }
                if work.inputs.isEmpty {
                    work.passRunning = false
                    work.session = session
                }
                return work.inputs
            }
            if inputs.isEmpty { return }
            for input in inputs where !ended {
                ended = await !session.handle(input)
            }
        }
        end(session)
    }

    /// Closes every socket left with 1001 (the server is shutting down), unless a pass holds the
    /// session: then it is ending it.
    func shutDown() {
        if let session = work.withLock({ $0.session.take() }) { end(session) }
    }

    private func end(_ session: consuming RelaySession) {
        var session = session
        session.end()
        work.withLock { work in
            work.ended = true
            work.inputs = []
        }
        subscription.withLock { $0.take() }?.cancel()
    }
}

/// The state of one relay between and during its passes: its sockets and what each has been sent.
private struct RelaySession: Sendable {
    private struct Member {
        let socket: EventSocket
        var filter: EventFilter
    }

    let relay: EventRelay
    private var members: [Int: Member] = [:]
    /// The asset as last read (its passthrough and playback policy, for rendering).
    private var asset: Asset?
    private var timer: (deadline: Date, scheduled: Scheduled<Void>)?
    private var outgoing: [ObjectIdentifier: (batch: EventLoopBatch, deliveries: [EventLoopBatch.Delivery])] = [:]

    init(relay: EventRelay) {
        self.relay = relay
    }

    private var logger: Logger { relay.settings.logger }

    /// Handles one input; false once the relay is done (the bus ended).
    mutating func handle(_ input: EventRelay.Input) async -> Bool {
        switch input {
        case .event(let event):
            await deliver(event)
        case .joined:
            await admitJoiners()
        case .left(let id):
            members[id] = nil
            relay.joining.withLock { $0.removeAll { $0.id == id } }
        case .reread(let stored):
            await catchUp(with: stored)
        case .tick:
            timer = nil
            expireTokens()
        case .busEnded, .stop:
            return false
        }
        send()
        rearm()
        return true
    }

    /// Closes every socket left (server shutting down).
    mutating func end() {
        for member in members.values { queue(member.socket, [], close: EventFrame.close(.goingAway, reason: "server shutting down")) }
        for socket in relay.joining.withLock({ $0 }) { queue(socket, [], close: EventFrame.close(.goingAway, reason: "server shutting down")) }
        members = [:]
        send()
        timer?.scheduled.cancel()
        timer = nil
    }

    // MARK: Inputs

    private mutating func deliver(_ event: AssetEvent) async {
        guard let asset, !members.isEmpty else { return }
        var frames = FrameCache(rendering: relay.settings.rendering, asset: asset)
        for (id, var member) in members {
            guard member.filter.admit(event) else { continue }
            do {
                let frame = try await frames.frame(for: event, base: member.socket.base)
                if member.filter.finished {
                    members[id] = nil
                    queue(member.socket, [frame], close: EventFrame.close(.normal, reason: event.type.rawValue))
                } else {
                    members[id] = member
                    queue(member.socket, [frame])
                }
            } catch {
                fail(member.socket, error)
                members[id] = nil
            }
        }
    }

    private mutating func admitJoiners() async {
        let joiners = relay.joining.withLock { joining -> [EventSocket] in
            defer { joining = [] }
            return joining
        }
        guard !joiners.isEmpty else { return }
        let stored: Asset?
        do {
            stored = try await relay.settings.rendering.assets.get(relay.assetID)
        } catch {
            for socket in joiners { fail(socket, error) }
            return
        }
        guard let stored else {
            for socket in joiners { queue(socket, [], close: EventFrame.close(.notFound, reason: "asset not found")) }
            return
        }
        asset = stored
        var snapshots: [String: ByteBuffer] = [:]
        var frames = FrameCache(rendering: relay.settings.rendering, asset: stored)
        let now = Date().timeIntervalSince1970
        for socket in joiners {
            do {
                let snapshot: ByteBuffer
                if let made = snapshots[socket.base] {
                    snapshot = made
                } else {
                    snapshot = EventFrame.text(try await relay.settings.rendering.snapshot(stored, base: socket.base))
                    snapshots[socket.base] = snapshot
                }
                var filter = EventFilter(snapshot: stored)
                guard stored.status.isTerminal else {
                    members[socket.id] = Member(socket: socket, filter: filter)
                    queue(socket, [snapshot])
                    continue
                }
                // A late subscriber still ends on the same terminal event as everyone else.
                var sent = [snapshot]
                for event in filter.catchUp(with: stored, now: now) {
                    sent.append(try await frames.frame(for: event, base: socket.base))
                }
                queue(socket, sent, close: EventFrame.close(.normal, reason: stored.status.rawValue))
            } catch {
                fail(socket, error)
            }
        }
    }

    private mutating func expireTokens() {
        let now = Date()
        for (id, member) in members {
            guard let expiry = member.socket.tokenExpiry, expiry <= now else { continue }
            members[id] = nil
            queue(member.socket, [], close: EventFrame.close(.tokenExpired, reason: FailureCode.tokenExpired.rawValue))
        }
    }

    /// Brings every socket up to the stored state, for when the bus lost events.
    private mutating func catchUp(with reading: Asset?) async {
        guard !members.isEmpty else { return }
        guard let stored = reading else {
            await deliver(AssetEvent.deleted(relay.assetID, at: Date().timeIntervalSince1970))
            return
        }
        asset = stored
        var frames = FrameCache(rendering: relay.settings.rendering, asset: stored)
        let now = Date().timeIntervalSince1970
        for (id, var member) in members {
            let events = member.filter.catchUp(with: stored, now: now)
            guard let last = events.last else { continue }
            do {
                var sent: [ByteBuffer] = []
                for event in events { sent.append(try await frames.frame(for: event, base: member.socket.base)) }
                if member.filter.finished {
                    members[id] = nil
                    queue(member.socket, sent, close: EventFrame.close(.normal, reason: last.type.rawValue))
                } else {
                    members[id] = member
                    queue(member.socket, sent)
                }
            } catch {
                fail(member.socket, error)
                members[id] = nil
            }
        }
    }

    // MARK: Output and the timer

    private mutating func queue(_ socket: EventSocket, _ frames: [ByteBuffer], close: ByteBuffer? = nil) {
        let key = ObjectIdentifier(socket.batch)
        outgoing[key, default: (socket.batch, [])].deliveries.append(.init(socket: socket, frames: frames, close: close))
    }

    private mutating func fail(_ socket: EventSocket, _ error: any Error) {
        logger.error("events socket failed", metadata: ["asset.id": "\(relay.assetID)", "error": "\(String(reflecting: error))"])
        queue(socket, [], close: EventFrame.close(.serverError, reason: "internal error"))
    }

    /// Hands what this input produced to the sockets' event loops, one batch each.
    private mutating func send() {
        for (batch, deliveries) in outgoing.values { batch.add(deliveries) }
        outgoing = [:]
    }

    /// One timer for the next token expiry, on the event loop of one of the sockets; none while
    /// no socket's token expires.
    private mutating func rearm() {
        let deadline = members.values.compactMap(\.socket.tokenExpiry).min()
        guard let deadline, let loop = members.first?.value.socket.channel.eventLoop else {
            timer?.scheduled.cancel()
            timer = nil
            return
        }
        if let timer, timer.deadline == deadline { return }
        timer?.scheduled.cancel()
        let relay = self.relay
        let delay = max(0, deadline.timeIntervalSinceNow)
        let scheduled = loop.scheduleTask(in: .nanoseconds(Int64((delay * 1e9).rounded(.up)))) { relay.enqueue(.tick) }
        timer = (deadline, scheduled)
    }
}

/// Frames rendered for one input, each once per event and URL base.
private struct FrameCache {
    private struct Key: Hashable {
        var event: AssetEvent
        var base: String
    }

    let rendering: EventRendering
    let asset: Asset
    private var made: [Key: ByteBuffer] = [:]

    init(rendering: EventRendering, asset: Asset) {
        self.rendering = rendering
        self.asset = asset
    }

    mutating func frame(for event: AssetEvent, base: String) async throws -> ByteBuffer {
        let key = Key(event: event, base: base)
        if let frame = made[key] { return frame }
        let frame = EventFrame.text(try await rendering.text(for: event, of: asset, base: base))
        made[key] = frame
        return frame
    }
}

extension Duration {
    /// The duration in seconds, as `TimeInterval` arithmetic wants it.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
