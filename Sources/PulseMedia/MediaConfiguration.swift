public import PulseSupport

/// What the media engine may accept and how it runs ffmpeg. Documented defaults; read from flags
/// and environment by ``init(reading:plainHTTPEndpoints:)``, and built by tests from their own values.
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

    /// Reads the media flags and variables (`--ffmpeg` / `PULSE_FFMPEG`, limits, encoding,
    /// timeouts, `--allow-http` / `PULSE_ALLOW_HTTP`) over the defaults; bad values are recorded in
    /// `settings`. `plainHTTPEndpoints` are the plain-http hosts ffmpeg may read whatever
    /// `--allow-http` says: the S3 endpoint the operator configured (MinIO, moto on a private
    /// network), whose presigned URLs every command reads.
    public init(reading settings: inout SettingsReader, plainHTTPEndpoints: [String]) {
        if let path = settings.text(flag: "--ffmpeg", variable: "PULSE_FFMPEG") { ffmpegPath = path }
        if let path = settings.text(flag: "--ffprobe", variable: "PULSE_FFPROBE") { ffprobePath = path }
        plainHTTP = PlainHTTPPolicy(
            allowAll: settings.switchValue(flag: "--allow-http", variable: "PULSE_ALLOW_HTTP") ?? false,
            endpoints: plainHTTPEndpoints)
        if let value = settings.number(Double.self, flag: "--segment-seconds", variable: "PULSE_SEGMENT_SECONDS", "a positive number of seconds", { $0 > 0 }) {
            encoding.segmentSeconds = value
        }
        let minDuration = settings.number(Double.self, flag: "--min-duration", variable: "PULSE_MIN_DURATION", "0 or more seconds", { $0 >= 0 })
        let maxDuration = settings.number(Double.self, flag: "--max-duration", variable: "PULSE_MAX_DURATION", "a positive number of seconds", { $0 > 0 })
        if let minDuration { limits.minDurationSeconds = minDuration }
        if let maxDuration { limits.maxDurationSeconds = maxDuration }
        if minDuration != nil || maxDuration != nil, limits.minDurationSeconds >= limits.maxDurationSeconds {
            settings.problem(
                settings.name(flag: "--min-duration", variable: "PULSE_MIN_DURATION") + " / " + settings.name(flag: "--max-duration", variable: "PULSE_MAX_DURATION"),
                "the minimum duration (\(limits.minDurationSeconds) s) must be below the maximum (\(limits.maxDurationSeconds) s)")
        }
        if let value = settings.number(Int.self, flag: "--max-dimension", variable: "PULSE_MAX_DIMENSION", "a positive whole number of pixels", { $0 > 0 }) {
            limits.maxDimension = value
        }
        if let preset = settings.text(flag: "--preset", variable: "PULSE_X264_PRESET") {
            if EncodingSettings.x264Presets.contains(preset) { encoding.preset = preset } else {
                settings.problem(
                    settings.name(flag: "--preset", variable: "PULSE_X264_PRESET"),
                    "must be one of \(EncodingSettings.x264Presets.joined(separator: ", ")) (got \"\(preset)\")")
            }
        }
        if let value = settings.number(Int.self, flag: "--stall-timeout", variable: "PULSE_STALL_TIMEOUT", "a positive whole number of seconds", { $0 > 0 }) {
            stallTimeout = .seconds(value)
        }
        if let value = settings.number(Int.self, flag: "--probe-timeout", variable: "PULSE_PROBE_TIMEOUT", "a positive whole number of seconds", { $0 > 0 }) {
            probeTimeout = .seconds(value)
        }
    }
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
    /// Length of the lead-in's segments (`SegmentSchedule`), at most one keyframe interval. A
    /// player starts on the first segment, so its length is time to playable: a 1 s segment of a
    /// 1080p HDR phone video is out of the encoder about 0.35 s sooner than a 2 s one (BENCHMARKS.md).
    public var leadInSegmentSeconds: Double = 1
    /// x264 preset.
    public var preset: String = "veryfast"
    /// x264 constant rate factor, capped by each rung's maxrate.
    public var crf: Int = 23
    /// Reference frames x264 uses at least (`-refs`); a preset that uses more keeps its own. Two
    /// instead of veryfast's one cost about 5 % more encoder CPU and take 10 % off a screen
    /// recording's ladder (17 % at 720p) with a better SSIM (scrolled text finds its match two
    /// frames back); on camera footage bits and SSIM stay within 1 % (BENCHMARKS.md, "Quality per bit").
    public var minimumReferenceFrames: Int = 2
    /// AAC bit rate of the stereo audio rendition, in bits per second.
    public var audioBitRate: Int = 128_000

    public init() {}

    /// x264's presets, fastest first: the values `--preset` / `PULSE_X264_PRESET` accept.
    public static let x264Presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]
    /// The reference frames each of `x264Presets` uses, in the same order (x264's preset table).
    static let x264PresetReferenceFrames = [1, 1, 1, 2, 2, 3, 5, 8, 16]

    /// Reference frames passed to x264: the preset's own, or the minimum when that is more.
    var referenceFrames: Int {
        let own = Self.x264Presets.firstIndex(of: preset).map { Self.x264PresetReferenceFrames[$0] } ?? 1
        return max(own, minimumReferenceFrames)
    }

    /// Keyframe interval actually used: the configured one, or the segment length when shorter.
    var effectiveKeyframeInterval: Double { min(keyframeIntervalSeconds, segmentSeconds) }
}
