import Foundation
import PulseSupport
import Synchronization

/// Hands over segments as soon as they are final: a segment is final once ffmpeg's own playlist
/// lists it (ffmpeg rewrites its EVENT playlist after closing each segment), with its measured
/// duration; in the order ffmpeg lists them.
final class SegmentWatcher: Sendable {
    private let staging: String
    private let renditions: [String]
    private let onSegment: @Sendable (FinishedSegment) async throws -> Void
    /// "rendition/file" -> its record, for every segment handed over.
    private let handedOver = Mutex<[String: SegmentRecord]>([:])
    /// Serialises `scan` between the polling task and `flush`.
    private let scanning = AsyncSerialLock()
    private let stopped = Mutex(false)

    init(staging: String, renditions: [String], onSegment: @escaping @Sendable (FinishedSegment) async throws -> Void) {
        self.staging = staging
        self.renditions = renditions
        self.onSegment = onSegment
    }

    /// The records of the segments handed over, by "rendition/file".
    var records: [String: SegmentRecord] { handedOver.withLock { $0 } }

    /// Ends `watch` after the scan in progress, if any, has handed its segments over.
    func stop() { stopped.withLock { $0 = true } }

    /// How often ffmpeg's playlists are read. A scan reads a few small files, so it can be often:
    /// half the interval, on average, is added to the first segment's way to `playable`.
    static let scanInterval = Duration.milliseconds(25)

    func watch() async throws {
        while !stopped.withLock({ $0 }) {
            try await Task.sleep(for: Self.scanInterval)
            if stopped.withLock({ $0 }) { return }
            try await scanning.withLock { try await self.scan() }
        }
    }

    /// Hands over whatever ffmpeg's final playlists list and the watcher has not.
    func flush() async throws {
        try await scanning.withLock { try await self.scan() }
    }

    private func scan() async throws {
        for rendition in renditions {
            let folder = "\(staging)/\(rendition)"
            guard let text = FileSystem.read("\(folder)/index.m3u8") else { continue }
            for entry in MediaPlaylistReader.entries(text) {
                let key = "\(rendition)/\(entry.uri)"
                if handedOver.withLock({ $0[key] != nil }) { continue }
                let path = "\(folder)/\(entry.uri)"
                guard let bytes = FileSystem.fileSize(path) else { break }
                // Key frames are read now: the handler may move the file away.
                let keyFrames = rendition == audioRenditionName ? nil : KeyFrameIndex.keyFrames(ofFileAt: path)
                let record = SegmentRecord(
                    fileName: entry.uri, sequence: SegmentRecord.sequence(of: entry.uri), duration: entry.duration, bytes: bytes, keyFrames: keyFrames)
                try await onSegment(FinishedSegment(rendition: rendition, path: path, record: record))
                handedOver.withLock { $0[key] = record }
            }
        }
    }
}
