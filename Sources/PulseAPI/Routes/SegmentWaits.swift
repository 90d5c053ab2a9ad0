import Foundation
import Hummingbird
import NIOCore
import Prometheus
import PulseJobs
import PulseStorage
import Synchronization

/// While an asset plays before it is ready, its first rendition's VOD playlists list every planned
/// segment before the encoder has stored it (`MediaPipeline.publishFirstRendition`). A player asking
/// for one early waits here, as from a just-in-time packager, until it is stored: the encoder runs
/// several times faster than playback, so a player that is not seeking ahead waits rarely and
/// briefly.
///
/// A door with limits: only a segment its rendition's published playlist lists (`isListed`; any
/// other name is not coming), `timeout` per request, `limit` requests waiting at once (beyond it,
/// 429 with Retry-After), only while the asset is still processing (failed or deleted: 404), and
/// only while its client is there (the media route ends the wait when the connection closes).
final class SegmentWaits: Sendable {
    let limit: Int
    let timeout: Duration
    private let waiting = Mutex(0)
    /// Requests waiting now (`pulse_segment_waits`).
    private let gauge: Gauge?

    init(limit: Int = 256, timeout: Duration = .seconds(20), gauge: Gauge? = nil) {
        self.limit = limit
        self.timeout = timeout
        self.gauge = gauge
    }

    /// Whether `path` (`{rendition}/{segment}` under the asset's folder) names a segment that the
    /// rendition's published playlist lists: the names a player can have been given.
    func isListed(_ path: ArraySlice<String>, assetID: UUID, store: any ObjectStore) async throws -> Bool {
        guard path.count == 2, let rendition = path.first, let name = path.last else { return false }
        let playlist = StorageKeys.processedPrefix(assetID) + rendition + "/index.m3u8"
        let text: ByteBuffer
        do {
            text = try await store.getContent(key: playlist, upTo: Self.playlistLimit)
        } catch let error as StorageError where error.code == .notFound || error.code == .invalidKey {
            return false
        }
        // URI lines are the lines that are neither empty nor tags (`#...`).
        return String(buffer: text).split(whereSeparator: \.isNewline).contains { $0 == name }
    }

    /// A first rendition's playlist lists a few lines per segment: a megabyte is hours of them.
    static let playlistLimit = 1 << 20

    /// Returns once `key` is stored; throws 404 if the asset stops processing, `timeout` passes or
    /// the client of `request` leaves (its connection's input closes: the wait is cancelled and
    /// its slot freed at once), 429 when `limit` requests wait already.
    ///
    /// Watching the connection reads `request`'s input past its (empty) body, so the connection
    /// ends after this answer: the caller says `Connection: close`.
    func waitForObject(_ key: String, assetID: UUID, request: Request, store: any ObjectStore, assets: AssetRepository) async throws {
        let admitted = waiting.withLock { count -> Bool in
            guard count < limit else { return false }
            count += 1
            gauge?.set(Int64(count))
            return true
        }
        guard admitted else {
            throw APIError(.tooManyConnections, "too many requests are waiting for segments; retry shortly", headers: [.retryAfter: "1"])
        }
        defer {
            waiting.withLock { count in
                count -= 1
                gauge?.set(Int64(count))
            }
        }
        do {
            try await request.body.consumeWithCancellationOnInboundClose { _ in
                try await self.poll(key, assetID: assetID, store: store, assets: assets)
            }
        } catch is CancellationError {
            // The client left: nobody reads this answer.
            throw APIError(.notFound, "no such object")
        }
    }

    private func poll(_ key: String, assetID: UUID, store: any ObjectStore, assets: AssetRepository) async throws {
        let deadline = ContinuousClock.now + timeout
        var checks = 0
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            if try await store.head(key: key) != nil { return }
            checks += 1
            // Every second: still being encoded? A failed or deleted asset's segment never comes.
            if checks % 10 == 0, try await assets.get(assetID)?.status != .processing { break }
        }
        throw APIError(.notFound, "no such object")
    }
}
