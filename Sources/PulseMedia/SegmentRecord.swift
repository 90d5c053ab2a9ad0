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
    /// A video segment's key frames, read from the file when it was finished (nil for audio, and
    /// in checkpoints written without them): the entries of the rung's I-frame playlist.
    public var keyFrames: [KeyFrameRange]?

    public init(fileName: String, sequence: Int, duration: Double, bytes: Int64, keyFrames: [KeyFrameRange]? = nil) {
        self.fileName = fileName
        self.sequence = sequence
        self.duration = duration
        self.bytes = bytes
        self.keyFrames = keyFrames
    }

    /// The sequence number in a segment's file name (`seg_00003.ts` -> 3).
    static func sequence(of fileName: String) -> Int {
        Int(fileName.drop(while: { !$0.isNumber }).prefix(while: \.isNumber)) ?? 0
    }
}

/// What one work unit produced: rendition name (`720p`, `audio`) -> its segments in order.
public struct UnitResult: Codable, Sendable, Equatable {
    public var renditions: [String: [SegmentRecord]]

    public init(renditions: [String: [SegmentRecord]]) { self.renditions = renditions }
}

/// What a progressive unit (the first rendition) has stored so far, per rendition and in order:
/// its checkpoint while it runs, from which a new attempt resumes.
public struct StoredSegments: Codable, Sendable, Equatable {
    public var segments: [String: [SegmentRecord]]

    public init(segments: [String: [SegmentRecord]] = [:]) { self.segments = segments }

    /// Records `segment` (a segment handed over again after a crash is recorded once).
    public mutating func add(_ segment: SegmentRecord, to rendition: String) {
        if segments[rendition]?.contains(where: { $0.sequence == segment.sequence }) == true { return }
        segments[rendition, default: []].append(segment)
    }
}

/// A segment ready to be moved or uploaded to its final place while the encoder goes on.
public struct FinishedSegment: Sendable {
    /// `720p` or `audio`.
    public var rendition: String
    /// Local path of the file; the handler may move or delete it.
    public var path: String
    /// Its entry in the playlists: file name, sequence, measured duration and size.
    public var record: SegmentRecord

    public var fileName: String { record.fileName }
}

/// The audio rendition's folder and name.
public let audioRenditionName = "audio"
