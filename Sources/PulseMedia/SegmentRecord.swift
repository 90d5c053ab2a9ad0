/// One finished HLS segment, as measured after encoding.
public struct SegmentRecord: Codable, Sendable, Equatable {
    /// File name inside the rendition folder, e.g. `seg_00003.ts`.
    public var fileName: String
    /// Media sequence number (the `%05d` in the name).
    public var sequence: Int
    /// Duration in seconds, from ffmpeg's playlist.
    public var duration: Double
    /// Size in bytes.
    public var bytes: Int64
}

/// What one work unit produced: rendition name (`720p`, `audio`) -> its segments in order.
public struct UnitResult: Codable, Sendable, Equatable {
    public var renditions: [String: [SegmentRecord]]

    public init(renditions: [String: [SegmentRecord]]) { self.renditions = renditions }
}

/// A segment ready to be moved or uploaded to its final place while the encoder goes on.
public struct FinishedSegment: Sendable {
    /// `720p` or `audio`.
    public var rendition: String
    public var fileName: String
    /// Local path of the file; the handler may move or delete it.
    public var path: String
    public var bytes: Int64
}

/// The audio rendition's folder and name.
public let audioRenditionName = "audio"
