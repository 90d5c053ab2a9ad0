import Foundation
import Hummingbird
import PulseJobs
import PulseStorage
import Synchronization

/// While an asset plays before it is ready, its first rendition's VOD playlists list every planned
/// segment before the encoder has stored it (`MediaPipeline.publishFirstRendition`). A player asking
/// for one early waits here, as from a just-in-time packager, until it is stored: the encoder runs
/// several times faster than playback, so a player that is not seeking ahead waits rarely and
/// briefly.
///
/// A door with limits: `timeout` per request, `limit` requests waiting at once (beyond it, 503
/// with Retry-After), and only while the asset is still processing (failed or deleted: 404).
final class SegmentWaits: Sendable {
    let limit: Int
    let timeout: Duration
    private let waiting = Mutex(0)

    init(limit: Int = 256, timeout: Duration = .seconds(20)) {
        self.limit = limit
        self.timeout = timeout
    }

    /// Returns once `key` is stored; throws 404 if the asset stops processing or `timeout` passes.
    func waitForObject(_ key: String, assetID: UUID, store: any ObjectStore, assets: AssetRepository) async throws {
        let admitted = waiting.withLock { count -> Bool in
            guard count < limit else { return false }
            count += 1
            return true
        }
        guard admitted else {
            throw APIError(.tooManyConnections, "too many requests are waiting for segments; retry shortly", headers: [.retryAfter: "1"])
        }
        defer { waiting.withLock { $0 -= 1 } }
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
