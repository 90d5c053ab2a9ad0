public import Logging

/// Each step of the pipeline `PipelinePlan` describes, with nothing about where its files go or
/// who runs it: `Transcoder` runs the steps in one process; the job system runs each as a job.
public struct MediaPipeline: Sendable {
    public var configuration: MediaConfiguration
    let logger: Logger

    public init(configuration: MediaConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: - prepare

    /// The source's metadata, its duration measured, checked against the limits.
    public func probe(_ input: MediaInput) async throws -> ProbeResult {
        let probe = try await Prober(configuration: configuration, logger: logger).probe(input)
        logger.info("probed", metadata: [
            "media.size": "\(probe.video.displayWidth)x\(probe.video.displayHeight)",
            "media.duration": "\(probe.duration)", "media.codec": "\(probe.video.codec)",
        ])
        return probe
    }

    /// The upright JPEG at 1 s, written to `path`.
    public func thumbnail(_ input: MediaInput, probe: ProbeResult, to path: String) async throws {
        try await Thumbnailer(configuration: configuration, logger: logger).makeThumbnail(input: input, probe: probe, to: path)
    }

    /// How the source is cut into work.
    public func plan(_ probe: ProbeResult, chunkSeconds: Double?) -> PipelinePlan {
        PipelinePlan(probe: probe, chunkSeconds: chunkSeconds, settings: configuration.encoding)
    }

    // MARK: - units

    /// Encodes one unit of `plan` into `staging`, handing over each finished segment while
    /// ffmpeg goes on. `onProgress` gets the unit's fraction done (0...1) and ffmpeg's speed.
    public func encode(
        _ unit: WorkUnit,
        of plan: PipelinePlan,
        probe: ProbeResult,
        input: MediaInput,
        staging: String,
        onProgress: @escaping @Sendable (Double, Double?) -> Void,
        onSegment: @escaping @Sendable (FinishedSegment) async throws -> Void
    ) async throws -> UnitResult {
        try await HLSEncoder(configuration: configuration, logger: logger).encode(
            unit: unit, input: input, probe: probe, rungs: plan.rungs, staging: staging,
            onProgress: onProgress, onSegment: onSegment)
    }

    // MARK: - finish

    /// Joins the units' segments per rendition and writes every media playlist, then the
    /// master, last: until it exists, the output is not a valid asset.
    public func finish(_ results: [UnitResult], of plan: PipelinePlan, to output: some TranscodeOutput) async throws -> [RenditionSummary] {
        var byRendition: [String: [SegmentRecord]] = [:]
        for result in results {
            for (name, segments) in result.renditions { byRendition[name, default: []] += segments }
        }
        var video: [RenditionSummary] = []
        for rung in plan.rungs {
            guard let segments = byRendition[rung.name]?.sorted(by: { $0.sequence < $1.sequence }), !segments.isEmpty else {
                throw MediaError(.outputMissing, "rendition \(rung.name) has no segments")
            }
            try Self.checkContiguous(segments, rendition: rung.name)
            try await output.storeText(PlaylistWriter.mediaPlaylist(segments), as: "\(rung.name)/index.m3u8", contentType: ContentType.playlist)
            video.append(RenditionSummary(name: rung.name, rung: rung, segments: segments))
        }
        var audio: RenditionSummary?
        if let segments = byRendition[audioRenditionName]?.sorted(by: { $0.sequence < $1.sequence }), !segments.isEmpty {
            try Self.checkContiguous(segments, rendition: audioRenditionName)
            try await output.storeText(PlaylistWriter.mediaPlaylist(segments), as: "\(audioRenditionName)/index.m3u8", contentType: ContentType.playlist)
            audio = RenditionSummary(name: audioRenditionName, rung: nil, segments: segments)
        }
        try await output.storeText(PlaylistWriter.masterPlaylist(video: video, audio: audio), as: "master.m3u8", contentType: ContentType.playlist)
        return video + (audio.map { [$0] } ?? [])
    }

    /// Ranges must join with no hole and no overlap in the segment numbering.
    private static func checkContiguous(_ segments: [SegmentRecord], rendition: String) throws {
        for (position, segment) in segments.enumerated() where segment.sequence != segments[0].sequence + position {
            throw MediaError(.outputMissing, "rendition \(rendition) is missing segment \(segments[0].sequence + position) (found \(segment.sequence))")
        }
    }
}
