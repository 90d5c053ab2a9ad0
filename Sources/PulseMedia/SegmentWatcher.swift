import Foundation
import PulseSupport
import Synchronization

/// Hands over segments as soon as they are final: segment N of a rendition is complete once
/// segment N+1 exists (ffmpeg writes them in order), and every segment is complete at the end.
final class SegmentWatcher: Sendable {
    private let staging: String
    private let renditions: [String]
    private let onSegment: @Sendable (FinishedSegment) async throws -> Void
    /// "rendition/file" -> bytes, for every segment handed over.
    private let handedOver = Mutex<[String: Int64]>([:])
    /// Serialises `scan` between the polling task and `flush`.
    private let scanning = AsyncSerialLock()

    init(staging: String, renditions: [String], onSegment: @escaping @Sendable (FinishedSegment) async throws -> Void) {
        self.staging = staging
        self.renditions = renditions
        self.onSegment = onSegment
    }

    private let stopped = Mutex(false)

    var sizes: [String: Int64] { handedOver.withLock { $0 } }

    /// Ends `watch` after the scan in progress, if any, has handed its segments over.
    func stop() { stopped.withLock { $0 = true } }

    func watch() async throws {
        while !stopped.withLock({ $0 }) {
            try await Task.sleep(for: .milliseconds(500))
            if stopped.withLock({ $0 }) { return }
            try await scanning.withLock { try await self.scan(final: false) }
        }
    }

    func flush() async throws {
        try await scanning.withLock { try await self.scan(final: true) }
    }

    private func scan(final: Bool) async throws {
        for rendition in renditions {
            let folder = "\(staging)/\(rendition)"
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
                .filter { $0.hasPrefix("seg_") && $0.hasSuffix(".ts") }
                .sorted()
            let ready = final ? names : Array(names.dropLast())
            for name in ready {
                let key = "\(rendition)/\(name)"
                if handedOver.withLock({ $0[key] != nil }) { continue }
                let path = "\(folder)/\(name)"
                let bytes = FileSystem.fileSize(path) ?? 0
                try await onSegment(FinishedSegment(rendition: rendition, fileName: name, path: path, bytes: bytes))
                handedOver.withLock { $0[key] = bytes }
            }
        }
    }
}
