/// Where segments begin, the same for every rung: a lead-in of short segments (one keyframe
/// interval each), then segments of the target length.
///
/// Why a lead-in: a player may start once a few segments exist, but a native player (Chromium's)
/// reloads an open (EVENT) playlist only after the target duration. So the first rendition is
/// announced playable once it holds a little more than one target duration, and short first
/// segments are what get that out of the encoder soonest and in the fewest bytes at once.
public struct SegmentSchedule: Codable, Sendable, Equatable {
    /// Length of each lead-in segment (the keyframe interval).
    public var leadInSegmentSeconds: Double
    /// Lead-in segments; 0 for plans made before the first rendition existed.
    public var leadInCount: Int
    /// Length of every later segment (the target duration).
    public var segmentSeconds: Double

    public init(leadInSegmentSeconds: Double, leadInCount: Int, segmentSeconds: Double) {
        self.leadInSegmentSeconds = leadInSegmentSeconds
        self.leadInCount = leadInCount
        self.segmentSeconds = segmentSeconds
    }

    /// The schedule for `settings`: a lead-in covering the target duration plus one keyframe
    /// interval, in at least 3 segments (Chromium refuses an open playlist with fewer).
    public init(settings: EncodingSettings) {
        let short = settings.effectiveKeyframeInterval
        let cover = settings.segmentSeconds + short
        self.init(leadInSegmentSeconds: short, leadInCount: max(3, Int((cover / short).rounded(.up))), segmentSeconds: settings.segmentSeconds)
    }

    /// Uniform segments, no lead-in (plans stored before the lead-in existed).
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

    /// EXT-X-TARGETDURATION, the same in every version of every media playlist (RFC 8216
    /// forbids a change): the longest planned segment, in whole seconds.
    public var targetDuration: Int { Int(max(segmentSeconds, leadInSegmentSeconds).rounded(.up)) }
}
