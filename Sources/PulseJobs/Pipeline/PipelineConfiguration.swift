public import PulseMedia
public import PulseSupport

/// Settings of the asset pipeline; documented defaults, read by ``init(reading:media:dataDirectory:)``.
public struct PipelineConfiguration: Sendable {
    /// ffmpeg settings and limits.
    public var media: MediaConfiguration
    /// Video is cut into segment-aligned chunks of about this length (`--chunk-seconds`,
    /// `PULSE_CHUNK_SECONDS`); each is one job, so several workers share a long video and a crash
    /// costs at most the chunks in flight.
    public var chunkSeconds: Double = 60
    /// Publish a first rendition (one low rung and the audio, segment by segment) while the rest
    /// of the ladder encodes, so the asset plays within seconds (`PULSE_FIRST_RENDITION`, default
    /// on). Off: the ladder alone.
    public var firstRendition: Bool = true
    /// Local scratch space (a few segments per rung at a time): `PULSE_WORK_DIR`, default
    /// `<data>/work`.
    public var workDirectory: String
    /// How long ffmpeg's presigned source URL stays valid.
    public var sourceURLExpiry: Duration = .seconds(6 * 3600)

    public init(media: MediaConfiguration = MediaConfiguration(), workDirectory: String) {
        self.media = media
        self.workDirectory = workDirectory
    }

    /// The defaults, with scratch space in `dataDirectory` (an absolute path).
    public init(media: MediaConfiguration = MediaConfiguration(), dataDirectory: String) {
        self.init(media: media, workDirectory: "\(dataDirectory)/work")
    }

    /// Reads `--chunk-seconds` / `PULSE_CHUNK_SECONDS`, `PULSE_FIRST_RENDITION` and `PULSE_WORK_DIR`
    /// (made absolute) over the defaults; bad values are recorded in `settings`.
    public init(reading settings: inout SettingsReader, media: MediaConfiguration, dataDirectory: String) {
        self.init(media: media, dataDirectory: dataDirectory)
        if let path = settings.text(variable: "PULSE_WORK_DIR") { workDirectory = RuntimeConfiguration.absolute(path) }
        if let value = settings.number(Double.self, flag: "--chunk-seconds", variable: "PULSE_CHUNK_SECONDS", "a positive number of seconds", { $0 > 0 }) {
            chunkSeconds = value
        }
        if let value = settings.switchValue(flag: nil, variable: "PULSE_FIRST_RENDITION") { firstRendition = value }
    }
}
