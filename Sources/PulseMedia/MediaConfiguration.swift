/// What the media engine may accept and how it runs ffmpeg. Documented defaults; filled from flags
/// and environment in `main`, and by tests from their own values.
public struct MediaConfiguration: Sendable {
    /// Path of `ffmpeg` (or a name looked up in PATH).
    public var ffmpegPath: String = "ffmpeg"
    /// Path of `ffprobe`.
    public var ffprobePath: String = "ffprobe"
    /// Which `http://` inputs ffmpeg may open (by default none).
    public var plainHTTP = PlainHTTPPolicy()
    /// Kill an ffmpeg that reports no progress for this long.
    public var stallTimeout: Duration = .seconds(120)
    /// Deadline of each ffprobe run and of the thumbnail: a tool that hangs on a file or a server
    /// must not hold a worker for ever.
    public var probeTimeout: Duration = .seconds(120)
    /// Limits on what is accepted.
    public var limits = MediaLimits()
    /// Encoder settings.
    public var encoding = EncodingSettings()

    public init() {}
}

/// Limits on accepted sources; violations fail with a specific code.
public struct MediaLimits: Sendable {
    /// Shorter sources fail with `ERR_DURATION_TOO_SHORT`.
    public var minDurationSeconds: Double = 0.1
    /// Longer sources fail with `ERR_DURATION_EXCEED_CONSTRAINT` (default 4 h).
    public var maxDurationSeconds: Double = 4 * 3600
    /// Sources whose longer display side exceeds this fail with `ERR_RESOLUTION_EXCEED_CONSTRAINT`
    /// (default 8192: 8K).
    public var maxDimension: Int = 8192

    public init() {}
}

/// Encoder settings shared by every rung.
public struct EncodingSettings: Sendable {
    /// Target HLS segment length. Must be a multiple of `keyframeIntervalSeconds`.
    public var segmentSeconds: Double = 10
    /// A keyframe (IDR) at these instants in every rung, so segments align across rungs.
    public var keyframeIntervalSeconds: Double = 2
    /// x264 preset.
    public var preset: String = "veryfast"
    /// x264 constant rate factor, capped by each rung's maxrate.
    public var crf: Int = 23
    /// AAC bit rate of the stereo audio rendition, in bits per second.
    public var audioBitRate: Int = 128_000

    public init() {}

    /// Keyframe interval actually used: the configured one, or the segment length when shorter.
    var effectiveKeyframeInterval: Double { min(keyframeIntervalSeconds, segmentSeconds) }
}
