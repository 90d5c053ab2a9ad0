import Foundation
import NIOCore
import Synchronization

/// One upgraded `GET /v1/assets/{id}/events` connection as its asset's relay sees it: where to
/// write (``EventSocketWriter``, through its loop's ``EventLoopBatch``), the base of its URLs and
/// when its token expires. What it has been sent is the relay's to keep.
final class EventSocket: Sendable {
    /// Unique in the process, unlike the object's address, which a later socket may reuse.
    let id: Int
    let assetID: UUID
    /// The scheme and host its URLs are built on (from the upgrade request).
    let base: String
    /// When the asset token it was opened with expires; nil for the API key.
    let tokenExpiry: Date?
    let channel: any Channel
    let batch: EventLoopBatch
    let writer: NIOLoopBound<EventSocketWriter>

    private init(assetID: UUID, base: String, tokenExpiry: Date?, channel: any Channel, batch: EventLoopBatch, writer: NIOLoopBound<EventSocketWriter>) {
        self.id = Self.lastID.add(1, ordering: .relaxed).newValue
        self.assetID = assetID
        self.base = base
        self.tokenExpiry = tokenExpiry
        self.channel = channel
        self.batch = batch
        self.writer = writer
    }

    /// Prepares an upgraded connection for the relay, on its event loop: its writer goes first in
    /// the pipeline and its reader last (``EventSocketReader``), its unsent bytes are bounded by
    /// the send limit (the high water mark), and it reads into a small buffer of fixed size, since
    /// a client only ever sends control frames.
    static func attach(
        _ admission: EventSocketAdmission, channel: any Channel, batches: EventLoopBatches, settings: EventRelays.Settings
    ) throws -> EventSocket {
        let sendLimit = batches.sendLimit
        let writer = EventSocketWriter(closeGrace: TimeAmount(settings.closeGrace))
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(writer, position: .first)
        try pipeline.addHandler(EventSocketReader(writer: writer, pinger: batches.pinger(for: channel.eventLoop)))
        if let options = channel.syncOptions {
            try options.setOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: receiveBufferBytes))
            try options.setOption(
                ChannelOptions.writeBufferWaterMark,
                value: ChannelOptions.Types.WriteBufferWaterMark(low: sendLimit / 2, high: sendLimit))
            // A fixed kernel send buffer: left to autotuning it grows to megabytes for a
            // reader that stalls, memory per socket that the send limit would not see.
            try options.setOption(ChannelOptions.socketOption(.so_sndbuf), value: kernelSendBufferBytes)
        }
        return EventSocket(
            assetID: admission.assetID, base: admission.base, tokenExpiry: admission.tokenExpiry, channel: channel,
            batch: batches.batch(for: channel.eventLoop), writer: NIOLoopBound(writer, eventLoop: channel.eventLoop))
    }

    /// The largest frame a client may send: it only ever sends control frames (at most 125 bytes
    /// of payload), so anything near this is no client of ours.
    static let maxClientFrameBytes = 4096

    private static let lastID = Atomic<Int>(0)

    /// The kernel's send buffer per socket (Linux doubles it for its own bookkeeping): a few
    /// events' frames in flight, so that a stalled reader reaches the send limit soon.
    static let kernelSendBufferBytes: SocketOptionValue = 16 * 1024

    /// Bytes read from the socket at a time: a close frame with its reason fits.
    static let receiveBufferBytes = 512
}
