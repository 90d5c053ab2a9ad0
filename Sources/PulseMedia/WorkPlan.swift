/// A segment-aligned time range of the source, `[start, end)` in seconds; `end == nil` reads to the end.
public struct MediaRange: Codable, Sendable, Equatable, Hashable {
    public var start: Double
    public var end: Double?
    /// Index of the first HLS segment this range produces (segment names continue across ranges).
    public var firstSegment: Int

    public init(start: Double, end: Double?, firstSegment: Int) {
        self.start = start
        self.end = end
        self.firstSegment = firstSegment
    }

    /// Length of the range for a source of `duration` seconds.
    public func length(of duration: Double) -> Double { (end ?? duration) - start }
}

/// One ffmpeg process's worth of work: a range of the video (every rung from one decode), the
/// whole audio, or both when the video is a single range.
public struct WorkUnit: Codable, Sendable, Equatable, Hashable {
    public enum Kind: String, Codable, Sendable {
        /// Every video rung for one range.
        case video
        /// The audio rendition, whole file.
        case audio
        /// Both, for a video that is a single range.
        case videoAndAudio
    }

    public var kind: Kind
    /// Position among units of the same kind (video ranges are 0...n-1; audio is 0).
    public var index: Int
    public var range: MediaRange

    public var includesVideo: Bool { kind != .audio }
    public var includesAudio: Bool { kind != .video }

    /// The stream a unit is counted under: its checkpoint, its job and its share of the progress.
    public enum Stream: String, Codable, Sendable, CaseIterable {
        /// Every video rung for one range (with the audio too when the video is one range).
        case video
        /// The audio rendition, whole file.
        case audio
    }

    /// A unit's identity everywhere: checkpoint rows, jobs and progress all name a unit by it.
    public struct ID: Hashable, Codable, Sendable, CustomStringConvertible {
        public var stream: Stream
        public var index: Int
        public init(stream: Stream, index: Int) {
            self.stream = stream
            self.index = index
        }
        /// `video-3`, `audio-0`.
        public var description: String { "\(stream.rawValue)-\(index)" }
    }

    public var id: ID { ID(stream: kind == .audio ? .audio : .video, index: index) }
}

/// Cuts a source into work units.
///
/// Audio is always encoded in one piece: separately encoded AAC ranges each start with encoder
/// priming and click at the joins. Video ranges are multiples of the segment length, so that
/// ranges encoded by different processes (or machines, or after a crash) join into one playlist.
public enum WorkPlanner {
    /// - Parameters:
    ///   - chunkSeconds: wanted range length (rounded up to whole segments); nil for one range.
    public static func plan(duration: Double, hasAudio: Bool, chunkSeconds: Double?, settings: EncodingSettings) -> [WorkUnit] {
        let segment = settings.segmentSeconds
        let segmentsPerChunk = max(1, Int(((chunkSeconds ?? .infinity) / segment).rounded(.up).clamped(to: 1...1e9)))
        let totalSegments = max(1, Int((duration / segment).rounded(.up)))
        var ranges: [MediaRange] = []
        var first = 0
        while first < totalSegments {
            var last = first + segmentsPerChunk
            // A tail shorter than a chunk joins the previous range rather than standing alone
            // (the container's duration may overstate the streams by a little).
            if Double(totalSegments - last) < Double(segmentsPerChunk) / 2 { last = totalSegments }
            let end: Double? = last >= totalSegments ? nil : Double(last) * segment
            ranges.append(MediaRange(start: Double(first) * segment, end: end, firstSegment: first))
            first = last
        }
        if ranges.count == 1 {
            return [WorkUnit(kind: hasAudio ? .videoAndAudio : .video, index: 0, range: ranges[0])]
        }
        var units = ranges.enumerated().map { WorkUnit(kind: .video, index: $0.offset, range: $0.element) }
        if hasAudio {
            units.append(WorkUnit(kind: .audio, index: 0, range: MediaRange(start: 0, end: nil, firstSegment: 0)))
        }
        return units
    }

    /// Share of the total work a unit stands for: decoding and encoding video dominates; audio
    /// alone costs a few percent of it.
    public static func weight(of unit: WorkUnit, duration: Double) -> Double {
        let length = unit.range.length(of: duration)
        switch unit.kind {
        case .video, .videoAndAudio: return max(length, 0.001)
        case .audio: return max(length * 0.03, 0.001)
        }
    }
}

extension Double {
    func clamped(to range: ClosedRange<Double>) -> Double { Swift.min(Swift.max(self, range.lowerBound), range.upperBound) }
}
