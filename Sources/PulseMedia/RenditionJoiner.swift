import Foundation
import PulseMedia
import PulseStorage

/// Fetches a rendition's stored segments back from the store into one local MPEG-TS file, in
/// order (segments of one encoder are contiguous packet streams): what finalize's steps that
/// reuse the ladder's work (`download.mp4`, the storyboard) read, on local and S3 storage alike.
struct RenditionJoiner: Sendable {
    let store: any ObjectStore

    /// The segments of `rendition` in `results` (every unit's), in playlist order.
    static func segments(_ rendition: String, in results: [UnitResult]) -> [SegmentRecord] {
        results.flatMap { $0.renditions[rendition] ?? [] }.sorted { $0.sequence < $1.sequence }
    }

    /// Appends the segments' bytes, in order, to a new file at `path`, streaming each from the store.
    func join(_ segments: [SegmentRecord], rendition: String, prefix: String, into path: String) async throws {
        guard !segments.isEmpty else { throw MediaError(.outputMissing, "rendition \(rendition) has no segments") }
        guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path) else {
            throw MediaError(.outputMissing, "could not create a scratch file for \(rendition)")
        }
        defer { try? file.close() }
        for segment in segments {
            for try await buffer in try await store.get(key: prefix + "\(rendition)/\(segment.fileName)") {
                try file.write(contentsOf: Data(buffer.readableBytesView))
            }
        }
    }
}
