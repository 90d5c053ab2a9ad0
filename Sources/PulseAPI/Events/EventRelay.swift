import Foundation
import Logging
import NIOCore
import PulseJobs
import PulseSupport
import Synchronization

/// One asset's events WebSockets, served by one task: it takes the asset's events from the bus
/// once, renders each message once (per URL base) into one frame, and hands that frame to every
/// socket that should get it, through each socket's ``EventLoopBatch``. It also sends each new
/// socket its snapshot (one read of the asset for all sockets that joined meanwhile), brings its
/// sockets up to the asset as ``EventRelays`` re-reads it (the safety net for an event lost in
/// transit: a dropped LISTEN connection) and closes sockets whose token expired, on one timer of
/// its own.
///
/// Guarantees per socket: the snapshot first; the asset's events in the bus's order, through an
/// ``EventFilter`` of its own; a terminal event (`ready`, `failed`) followed by the close frame;
/// close 4401 `ERR_TOKEN_EXPIRED` when its token expires. Everything a socket is sent comes from
/// this one task, so nothing overtakes.
final class EventRelay: Sendable {
    /// What the relay's task reacts to, in the order it happened.
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
    }

    /// What every relay of a server shares.
    struct Settings: Sendable {
        let rendering: EventRendering
        let logger: Logger
    }

    let assetID: UUID
    fileprivate let settings: Settings
    private let subscription: EventSubscription
    private let inputs: AsyncStream<Input>
    fileprivate let continuation: AsyncStream<Input>.Continuation
    /// Sockets waiting for their snapshot, all taken by the next read of the asset.
    fileprivate let joining = Mutex<[EventSocket]>([])

    /// Subscribes to the asset's events at once, before any socket's snapshot is read, so an
    /// event published in between is delivered rather than lost (at worst it repeats what the
    /// snapshot shows, and the filter drops it). The bus hands each event straight to the relay's
    /// inputs: no task of its own.
    init(assetID: UUID, bus: any EventBus, settings: Settings) {
        self.assetID = assetID
        self.settings = settings
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
        (self.inputs, self.continuation) = (inputs, continuation)
        self.subscription = bus.subscribe(assetID: assetID) { event in
            continuation.yield(event.map(Input.event) ?? .busEnded)
        }
    }

    /// Adds a socket: it gets its snapshot, then the asset's events.
    func join(_ socket: EventSocket) {
        joining.withLock { $0.append(socket) }
        continuation.yield(.joined)
    }

    /// Brings the sockets up to `asset` as just read (nil: the asset is gone).
    func reread(_ asset: Asset?) {
        continuation.yield(.reread(asset))
    }

    /// Forgets a socket whose connection closed.
    func leave(_ socket: EventSocket) {
        continuation.yield(.left(socketID: socket.id))
    }

    /// Ends the task once it has handled what came before (its last socket has gone).
    func stop() {
        continuation.finish()
    }

    /// Serves the sockets until ``stop()``, the bus ending (sockets are closed with 1001) or
    /// cancellation (likewise).
    func run() async {
        defer { subscription.cancel() }
        var session = RelaySession(relay: self)
        for await input in inputs {
            let more: Bool
            if input.reachesDeep {
                (session, more) = await Self.inShortTask(consume session) { await $0.handle(input) }
            } else {
                more = await session.handle(input)
            }
            guard more else { break }
        }
        session.end()
    }
}

/// The state of one relay's task: its sockets and what each has been sent.
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
        case .busEnded:
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
        let continuation = relay.continuation
        let delay = max(0, deadline.timeIntervalSinceNow)
        let scheduled = loop.scheduleTask(in: .nanoseconds(Int64((delay * 1e9).rounded(.up)))) { _ = continuation.yield(.tick) }
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

extension EventRelay {
    /// Runs `body` on `session` in a child task that ends with it. A task keeps the stack memory of
    /// its deepest call for as long as it lives, and a relay's task lives as long as its sockets:
    /// the work that reaches deep (database reads, renderings that read or sign) runs in a task
    /// of its own, so that an idle relay holds only its own shallow frames.
    fileprivate static func inShortTask(
        _ session: consuming RelaySession, _ body: @escaping @Sendable (inout RelaySession) async -> Bool
    ) async -> (RelaySession, Bool) {
        let session = session
        return await withTaskGroup(of: (RelaySession, Bool).self) { group in
            group.addTask {
                var session = session
                let more = await body(&session)
                return (session, more)
            }
            return await group.next()!
        }
    }
}

extension EventRelay.Input {
    /// Whether handling it reads the database or renders what may (the snapshot, `ready`, a
    /// thumbnail's signed URL); the other inputs stay shallow.
    fileprivate var reachesDeep: Bool {
        switch self {
        case .joined, .reread: true
        case .event(let event): event.type == .ready || event.type == .thumbnailReady
        case .left, .busEnded, .tick: false
        }
    }
}

extension Duration {
    /// The duration in seconds, as `TimeInterval` arithmetic wants it.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
