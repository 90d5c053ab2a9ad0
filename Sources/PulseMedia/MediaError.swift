/// A media failure with a code a product can act on (in the spirit of Cloudflare Stream's codes).
///
/// Codes are stable strings; new ones can be added without breaking callers.
public struct MediaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as a stable machine-readable code.
    public struct Code: Hashable, Sendable, CustomStringConvertible, Codable {
        /// The wire form, e.g. `ERR_NON_VIDEO`.
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The input is not a media file we can read (text, image, playlist, unknown container).
        public static let nonVideo = Code("ERR_NON_VIDEO")
        /// The input is media but holds no video stream (audio only, cover art only).
        public static let noVideoStream = Code("ERR_NO_VIDEO_STREAM")
        /// The input is a video but truncated or undecodable.
        public static let malformedVideo = Code("ERR_MALFORMED_VIDEO")
        /// The video is shorter than the configured minimum.
        public static let durationTooShort = Code("ERR_DURATION_TOO_SHORT")
        /// The video is longer than the configured maximum.
        public static let durationExceedConstraint = Code("ERR_DURATION_EXCEED_CONSTRAINT")
        /// The video is larger than the configured maximum resolution.
        public static let resolutionExceedConstraint = Code("ERR_RESOLUTION_EXCEED_CONSTRAINT")
        /// The source does not exist or may not be read (missing file, 404, 403): permanent.
        public static let sourceNotFound = Code("ERR_SOURCE_NOT_FOUND")
        /// The source's location is one we refuse to open (plain http to a host nobody configured,
        /// an unknown scheme): permanent.
        public static let inputNotAllowed = Code("ERR_INPUT_NOT_ALLOWED")
        /// Storage is out of reach for now (connection refused or reset, a timeout, a 5xx): an
        /// outage, not bad input. Retried for minutes without using up the job's attempts.
        public static let storageUnavailable = Code("ERR_STORAGE_UNAVAILABLE")
        /// ffprobe or ffmpeg did not finish within its deadline.
        public static let toolTimeout = Code("ERR_TOOL_TIMEOUT")
        /// ffmpeg stopped reporting progress for longer than the watchdog allows.
        public static let stalled = Code("ERR_ENCODER_STALLED")
        /// ffmpeg was killed by a signal or failed for a reason outside the input (transient).
        public static let encoderFailed = Code("ERR_ENCODER_FAILED")
        /// ffmpeg exited 0 but did not write what it should have (e.g. output folder vanished).
        public static let outputMissing = Code("ERR_OUTPUT_MISSING")
        /// ffmpeg or ffprobe is not installed or cannot be started.
        public static let toolMissing = Code("ERR_TOOL_MISSING")

        public init(from decoder: any Decoder) throws {
            self.rawValue = try decoder.singleValueContainer().decode(String.self)
        }
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }
    }

    public let code: Code
    /// A human-readable explanation, safe to show to users (no URLs, no secrets).
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Whether the failure is about the input itself: retrying cannot help.
    public var isPermanent: Bool {
        switch code {
        case .stalled, .encoderFailed, .outputMissing, .toolMissing, .storageUnavailable, .toolTimeout: false
        default: true
        }
    }

    /// Whether the failure is an outage of something outside us (storage): worth waiting out.
    public var isOutage: Bool { code == .storageUnavailable }

    public var description: String { "\(code): \(message)" }
}
