/// Where segments begin, the same for every rung: a lead-in of short segments three keyframe
/// intervals long (6 s by default, in segments of 1 s), then segments of the target length. The
/// first segment is what a player waits for: a short one is out of the encoder in a fraction of a
/// second. The lead-in lasts long enough for the first full-length segment to be encoded before
/// a player that started on the first one reaches it.
public struct SegmentSchedule: Codable, Sendable, Equatable {
    /// Length of each lead-in segment (at most one keyframe interval).
    public var leadInSegmentSeconds: Double
    /// Lead-in segments; 0 when every segment has the target length.
    public var leadInCount: Int
    /// Length of every later segment (the target duration).
    public var segmentSeconds: Double

    public init(leadInSegmentSeconds: Double, leadInCount: Int, segmentSeconds: Double) {
        self.leadInSegmentSeconds = leadInSegmentSeconds
        self.leadInCount = leadInCount
        self.segmentSeconds = segmentSeconds
    }

    /// The schedule for `settings`: a lead-in of three keyframe intervals, in segments of
    /// `leadInSegmentSeconds` (at most one interval).
    public init(settings: EncodingSettings) {
        let interval = settings.effectiveKeyframeInterval
        let segment = min(settings.leadInSegmentSeconds, interval)
        self.init(leadInSegmentSeconds: segment, leadInCount: Int((3 * interval / segment).rounded(.up)), segmentSeconds: settings.segmentSeconds)
    }

    /// Uniform segments, no lead-in (a plan without a first rendition).
    public static func uniform(_ segmentSeconds: Double) -> SegmentSchedule {
        SegmentSchedule(leadInSegmentSeconds: segmentSeconds, leadInCount: 0, segmentSeconds: segmentSeconds)
    }

    /// Where the lead-in ends and full-length segments begin.
    public var leadInEnd: Double { Double(leadInCount) * leadInSegmentSeconds }

    /// Start time of segment `index`.
    public func start(ofSegment index: Int) -> Double {
        if index <= leadInCount { return Double(index) * leadInSegmentSeconds }
        return leadInEnd + Double(index - leadInCount) * segmentSeconds
    }

    /// Segments needed to cover `duration` seconds.
    public func segmentCount(for duration: Double) -> Int {
        if duration <= leadInEnd { return max(1, Int((duration / leadInSegmentSeconds).rounded(.up))) }
        return leadInCount + Int(((duration - leadInEnd) / segmentSeconds).rounded(.up))
    }

    /// EXT-X-TARGETDURATION of the video playlists, the same in every version (RFC 8216 forbids a
    /// change): the longest planned segment, in whole seconds.
    public var targetDuration: Int { Int(max(segmentSeconds, leadInSegmentSeconds).rounded(.up)) }

    /// Where the segments of a video `duration` seconds long begin and how long each is, as
    /// planned. Conservative at the end: a tail of under 50 ms (less than a frame) that the
    /// encoder may or may not cut as a segment of its own is left to the last planned one.
    public func plannedSegments(duration: Double) -> [(start: Double, duration: Double)] {
        var segments: [(start: Double, duration: Double)] = []
        var index = 0
        while start(ofSegment: index) < duration - 0.05 {
            let begin = start(ofSegment: index)
            segments.append((begin, min(start(ofSegment: index + 1), duration) - begin))
            index += 1
        }
        if let last = segments.indices.last { segments[last].duration = duration - segments[last].start }
        return segments
    }
}
