import Foundation

/// Reads a rendition's stored segments back from a transcode's output into one local MPEG-TS
/// file, in order (segments of one encoder are contiguous packet streams): what the finishing
/// steps that reuse the ladder's work (`download.mp4`, the storyboard) read, from a folder, local
/// storage or S3 alike.
public struct RenditionJoiner<Output: TranscodeOutput>: Sendable {
    let output: Output

    /// A joiner reading from `output`, where the segments were stored.
    public init(output: Output) { self.output = output }

    /// Appends the segments' bytes, in order, to a new file at `path`, streaming each from the output.
    public func join(_ segments: [SegmentRecord], rendition: String, into path: String) async throws {
        guard !segments.isEmpty else { throw MediaError(.outputMissing, "rendition \(rendition) has no segments") }
        guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path) else {
            throw MediaError(.outputMissing, "could not create a scratch file for \(rendition)")
        }
        defer { try? file.close() }
        for segment in segments {
            try await output.append("\(rendition)/\(segment.fileName)", to: file)
        }
    }
}

extension Array where Element == UnitResult {
    /// The segments of `rendition` in these results (every unit's), in playlist order.
    public func segments(of rendition: String) -> [SegmentRecord] {
        flatMap { $0.renditions[rendition] ?? [] }.sorted { $0.sequence < $1.sequence }
    }
}
