/// A segment-aligned time range of the source, `[start, end)` in seconds; `end == nil` reads to the end.
public struct MediaRange: Codable, Sendable, Equatable, Hashable {
    public var start: Double
    public var end: Double?
    /// Index of the first HLS segment this range produces (segment names continue across ranges).
    public var firstSegment: Int
    /// Length of this range's segments: the lead-in's or the target's (nil: the plan's target,
    /// as in plans stored before the lead-in existed).
    public var segmentSeconds: Double?

    public init(start: Double, end: Double?, firstSegment: Int, segmentSeconds: Double? = nil) {
        self.start = start
        self.end = end
        self.firstSegment = firstSegment
        self.segmentSeconds = segmentSeconds
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
        /// The first rendition: one low rung and the audio over the whole file, each segment
        /// published as soon as it is stored, so the asset plays long before the ladder is done.
        case first
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
        /// The first rendition with the audio (`Kind.first`).
        case first
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

    public var id: ID {
        switch kind {
        case .audio: ID(stream: .audio, index: index)
        case .first: ID(stream: .first, index: index)
        case .video, .videoAndAudio: ID(stream: .video, index: index)
        }
    }
}

/// Cuts a source into work units.
///
/// Audio is always encoded in one piece: separately encoded AAC ranges each start with encoder
/// priming and click at the joins. Video ranges are multiples of the segment length, so that
/// ranges encoded by different processes (or machines, or after a crash) join into one playlist.
public enum WorkPlanner {
    /// The units of a plan with a first rendition: the first rendition (with the audio), then the
    /// rest of the ladder in ranges that follow `schedule`: the lead-in as one range of short
    /// segments, then chunks of full segments. `ladder` is false when the first rendition is the
    /// whole ladder.
    public static func plan(duration: Double, schedule: SegmentSchedule, ladder: Bool, chunkSeconds: Double?) -> [WorkUnit] {
        var units = [WorkUnit(kind: .first, index: 0, range: MediaRange(start: 0, end: nil, firstSegment: 0))]
        guard ladder else { return units }
        let total = schedule.segmentCount(for: duration)
        var ranges: [MediaRange] = []
        if total <= schedule.leadInCount {
            ranges = [MediaRange(start: 0, end: nil, firstSegment: 0, segmentSeconds: schedule.leadInSegmentSeconds)]
        } else {
            ranges.append(MediaRange(start: 0, end: schedule.leadInEnd, firstSegment: 0, segmentSeconds: schedule.leadInSegmentSeconds))
            let rest = uniformRanges(segments: total - schedule.leadInCount, segmentSeconds: schedule.segmentSeconds, chunkSeconds: chunkSeconds)
            ranges += rest.map { range in
                MediaRange(
                    start: schedule.leadInEnd + range.start, end: range.end.map { schedule.leadInEnd + $0 },
                    firstSegment: schedule.leadInCount + range.firstSegment, segmentSeconds: schedule.segmentSeconds)
            }
        }
        units += ranges.enumerated().map { WorkUnit(kind: .video, index: $0.offset, range: $0.element) }
        return units
    }

    /// Plans made before the first rendition: uniform segments, every rung in each range, the
    /// audio apart (or with the video when it is one range).
    /// - Parameters:
    ///   - chunkSeconds: wanted range length (rounded up to whole segments); nil for one range.
    public static func plan(duration: Double, hasAudio: Bool, chunkSeconds: Double?, settings: EncodingSettings) -> [WorkUnit] {
        let segment = settings.segmentSeconds
        let totalSegments = max(1, Int((duration / segment).rounded(.up)))
        let ranges = uniformRanges(segments: totalSegments, segmentSeconds: segment, chunkSeconds: chunkSeconds)
        if ranges.count == 1 {
            return [WorkUnit(kind: hasAudio ? .videoAndAudio : .video, index: 0, range: ranges[0])]
        }
        var units = ranges.enumerated().map { WorkUnit(kind: .video, index: $0.offset, range: $0.element) }
        if hasAudio {
            units.append(WorkUnit(kind: .audio, index: 0, range: MediaRange(start: 0, end: nil, firstSegment: 0)))
        }
        return units
    }

    /// `segments` segments of `segmentSeconds` from 0, in ranges of about `chunkSeconds`; the last
    /// range is open-ended (it reads to the measured end).
    static func uniformRanges(segments totalSegments: Int, segmentSeconds segment: Double, chunkSeconds: Double?) -> [MediaRange] {
        let segmentsPerChunk = max(1, Int(((chunkSeconds ?? .infinity) / segment).rounded(.up).clamped(to: 1...1e9)))
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
        return ranges
    }

    /// Share of the total work a unit stands for: decoding and encoding video dominates; audio
    /// alone costs a few percent of it.
    public static func weight(of unit: WorkUnit, duration: Double) -> Double {
        let length = unit.range.length(of: duration)
        switch unit.kind {
        case .video, .videoAndAudio: return max(length, 0.001)
        case .audio: return max(length * 0.03, 0.001)
        // A second decode of the source plus one small rung and the audio.
        case .first: return max(length * 0.3, 0.001)
        }
    }
}

extension Double {
    func clamped(to range: ClosedRange<Double>) -> Double { Swift.min(Swift.max(self, range.lowerBound), range.upperBound) }
}
