public import PulseMedia

/// Settings of the asset pipeline; documented defaults, filled from flags and environment.
public struct PipelineConfiguration: Sendable {
    /// ffmpeg settings and limits.
    public var media: MediaConfiguration
    /// Video is cut into segment-aligned chunks of about this length; each is one job, so several
    /// workers share a long video and a crash costs at most the chunks in flight.
    public var chunkSeconds: Double = 60
    /// Publish a first rendition (one low rung and the audio, segment by segment) while the rest
    /// of the ladder encodes, so the asset plays within seconds. Off: the ladder alone, as before.
    public var firstRendition: Bool = true
    /// Local scratch space (a few segments per rung at a time).
    public var workDirectory: String
    /// How long ffmpeg's presigned source URL stays valid.
    public var sourceURLExpiry: Duration = .seconds(6 * 3600)

    public init(media: MediaConfiguration = MediaConfiguration(), workDirectory: String) {
        self.media = media
        self.workDirectory = workDirectory
    }
}
