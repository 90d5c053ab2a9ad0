/// A rung's I-frame playlist (RFC 8216 4.3.3.6, `EXT-X-I-FRAMES-ONLY`): one entry per key frame,
/// a byte range of the segment that holds it, lasting until the next key frame. Players use it
/// for trick play and scrubbing thumbnails; it costs no encode (the ranges come from the
/// segments, see `KeyFrameIndex`).
public enum IFramePlaylist {
    /// The playlist's name in a rung's folder, beside `index.m3u8`.
    public static let fileName = "iframes.m3u8"

    struct Entry: Equatable {
        var fileName: String
        var range: KeyFrameRange
        var duration: Double
    }

    /// Every key frame of `segments`, with its duration: to the next key frame's time, and for
    /// the last one to the end of the rendition. Nil when a segment's key frames are not known
    /// (written before they were recorded, or planned and not encoded yet) or do not make sense
    /// (no key frame, time not increasing): then there is no I-frame playlist rather than a wrong one.
    static func entries(_ segments: [SegmentRecord]) -> [Entry]? {
        var frames: [(fileName: String, range: KeyFrameRange)] = []
        for segment in segments {
            guard let keyFrames = segment.keyFrames, !keyFrames.isEmpty else { return nil }
            frames += keyFrames.map { (segment.fileName, $0) }
        }
        guard let first = frames.first, let last = frames.last else { return nil }
        let total = segments.reduce(0) { $0 + $1.duration }
        var entries: [Entry] = []
        for (index, frame) in frames.enumerated() {
            let end = index + 1 < frames.count ? frames[index + 1].range.time : first.range.time + total
            let duration = end - frame.range.time
            guard duration > 0 else { return nil }
            entries.append(Entry(fileName: frame.fileName, range: frame.range, duration: duration))
        }
        return last.range.time - first.range.time < total ? entries : nil
    }

    /// The playlist of `segments`' key frames (nil: see `entries`).
    public static func text(_ segments: [SegmentRecord]) -> String? {
        guard let entries = entries(segments) else { return nil }
        let target = max(1, entries.map { Int($0.duration.rounded()) }.max() ?? 1)
        // Version 4: EXT-X-BYTERANGE and EXT-X-I-FRAMES-ONLY.
        var lines = PlaylistWriter.vodHeader(version: 4, targetDuration: target, firstSequence: 0) + ["#EXT-X-I-FRAMES-ONLY"]
        for entry in entries {
            lines.append(String(format: "#EXTINF:%.6f,", entry.duration))
            lines.append("#EXT-X-BYTERANGE:\(entry.range.length)@\(entry.range.offset)")
            lines.append(entry.fileName)
        }
        lines.append("#EXT-X-ENDLIST")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// What an `EXT-X-I-FRAME-STREAM-INF` states: the bit rates of fetching the key frames alone.
public struct IFrameRates: Codable, Sendable, Equatable {
    /// Highest key frame size over its duration (bits/s).
    public var peakBitRate: Int
    /// All key frames' bytes over the rendition's duration (bits/s).
    public var averageBitRate: Int

    /// Nil when the segments have no I-frame playlist.
    public init?(segments: [SegmentRecord]) {
        guard let entries = IFramePlaylist.entries(segments) else { return nil }
        let bytes = entries.reduce(Int64(0)) { $0 + $1.range.length }
        let duration = entries.reduce(0) { $0 + $1.duration }
        peakBitRate = entries.map { Int((Double($0.range.length) * 8 / $0.duration).rounded(.up)) }.max() ?? 0
        averageBitRate = Int((Double(bytes) * 8 / duration).rounded(.up))
    }
}
