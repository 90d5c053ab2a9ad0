/// A segment-aligned time range of the source, `[start, end)` in seconds; `end == nil` reads to the end.
public struct MediaRange: Codable, Sendable, Equatable, Hashable {
    public var start: Double
    public var end: Double?
    /// Index of the first HLS segment this range produces (segment names continue across ranges).
    public var firstSegment: Int
    /// Length of this range's segments: the lead-in's or the target's (nil: the plan's target).
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

/// One ffmpeg process's worth of work, named by its `ID` everywhere (its checkpoint, its job and
/// its share of the progress): the first rendition, a range of the video (every rung from one
/// decode), or the whole audio.
public struct WorkUnit: Sendable, Equatable, Hashable {
    /// What a unit encodes. The raw values are stored (checkpoint rows, plans): never change one.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Every video rung for one range; with the audio too in a plan without a first rendition
        /// whose video is one range (one process instead of two).
        case video
        /// The audio rendition, whole file.
        case audio
        /// The first rendition: one low rung and the audio over the whole file, each segment
        /// published as soon as it is stored, so the asset plays long before the ladder is done.
        case first
    }

    public var kind: Kind
    /// Position among units of the same kind (video ranges are 0...n-1; audio and first are 0).
    public var index: Int
    public var range: MediaRange
    /// Whether the unit encodes the audio: always for `first` and `audio`, for `video` only
    /// when the plan says so.
    public var includesAudio: Bool

    public init(kind: Kind, index: Int, range: MediaRange, includesAudio: Bool? = nil) {
        self.kind = kind
        self.index = index
        self.range = range
        self.includesAudio = includesAudio ?? (kind != .video)
    }

    public var includesVideo: Bool { kind != .audio }

    /// A unit's identity everywhere: checkpoint rows, jobs and progress all name a unit by it.
    public struct ID: Hashable, Codable, Sendable, CustomStringConvertible {
        public var kind: Kind
        public var index: Int
        public init(kind: Kind, index: Int) {
            self.kind = kind
            self.index = index
        }
        /// `video-3`, `audio-0`.
        public var description: String { "\(kind.rawValue)-\(index)" }
    }

    public var id: ID { ID(kind: kind, index: index) }
}

extension WorkUnit: Codable {
    private enum CodingKeys: String, CodingKey { case kind, index, range }

    /// The stored name of a video unit that carries the audio (the layout every plan is kept in).
    private static let videoAndAudio = "videoAndAudio"

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(String.self, forKey: .kind)
        let index = try container.decode(Int.self, forKey: .index)
        let range = try container.decode(MediaRange.self, forKey: .range)
        if name == Self.videoAndAudio {
            self.init(kind: .video, index: index, range: range, includesAudio: true)
        } else if let kind = Kind(rawValue: name) {
            self.init(kind: kind, index: index, range: range)
        } else {
            throw DecodingError.dataCorruptedError(forKey: .kind, in: container, debugDescription: "unknown unit kind \(name)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind == .video && includesAudio ? Self.videoAndAudio : kind.rawValue, forKey: .kind)
        try container.encode(index, forKey: .index)
        try container.encode(range, forKey: .range)
    }
}

/// Cuts a source into work units.
///
/// Audio is always encoded in one piece: separately encoded AAC ranges each start with encoder
/// priming and click at the joins. Video ranges follow the segment schedule, so that ranges
/// encoded by different processes (or machines, or after a crash) join into one playlist, with
/// the same boundaries in every rung.
public enum WorkPlanner {
    /// The units of a plan. With a first rendition: the first rendition (which carries the
    /// audio), then, unless it is the whole ladder (`ladder: false`), the rest of the ladder in
    /// ranges. Without one: the ladder in ranges and the audio apart, or with the video when it
    /// is one range. Ranges follow `schedule`: the lead-in (if any) as one range of short
    /// segments, then chunks of about `chunkSeconds` (rounded up to whole segments; nil: one range).
    public static func plan(
        duration: Double, hasAudio: Bool, schedule: SegmentSchedule, chunkSeconds: Double?, firstRendition: Bool, ladder: Bool = true
    ) -> [WorkUnit] {
        let ranges = ladderRanges(duration: duration, schedule: schedule, chunkSeconds: chunkSeconds)
        var units = ranges.enumerated().map { WorkUnit(kind: .video, index: $0.offset, range: $0.element) }
        if firstRendition {
            let first = WorkUnit(kind: .first, index: 0, range: MediaRange(start: 0, end: nil, firstSegment: 0))
            return [first] + (ladder ? units : [])
        }
        if units.count == 1 {
            units[0].includesAudio = hasAudio
        } else if hasAudio {
            units.append(WorkUnit(kind: .audio, index: 0, range: MediaRange(start: 0, end: nil, firstSegment: 0)))
        }
        return units
    }

    /// The video ranges of `schedule`: the lead-in alone, then segment-aligned chunks.
    static func ladderRanges(duration: Double, schedule: SegmentSchedule, chunkSeconds: Double?) -> [MediaRange] {
        let total = schedule.segmentCount(for: duration)
        if schedule.leadInCount > 0, total <= schedule.leadInCount {
            return [MediaRange(start: 0, end: nil, firstSegment: 0, segmentSeconds: schedule.leadInSegmentSeconds)]
        }
        var ranges: [MediaRange] = []
        if schedule.leadInCount > 0 {
            ranges.append(MediaRange(start: 0, end: schedule.leadInEnd, firstSegment: 0, segmentSeconds: schedule.leadInSegmentSeconds))
        }
        let rest = uniformRanges(segments: total - schedule.leadInCount, segmentSeconds: schedule.segmentSeconds, chunkSeconds: chunkSeconds)
        return ranges + rest.map { range in
            MediaRange(
                start: schedule.leadInEnd + range.start, end: range.end.map { schedule.leadInEnd + $0 },
                firstSegment: schedule.leadInCount + range.firstSegment, segmentSeconds: schedule.segmentSeconds)
        }
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
        case .video: return max(length, 0.001)
        case .audio: return max(length * 0.03, 0.001)
        // A second decode of the source plus one small rung and the audio.
        case .first: return max(length * 0.3, 0.001)
        }
    }
}

extension Double {
    func clamped(to range: ClosedRange<Double>) -> Double { Swift.min(Swift.max(self, range.lowerBound), range.upperBound) }
}
