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
        logged(try await Prober(configuration: configuration, logger: logger).probe(input))
    }

    /// The probe and the thumbnail (at `path`), the thumbnail taken while the probe measures the
    /// duration: it needs only the header's streams, and 1 s that the declared duration covers,
    /// and both are on the way to `playable`. The thumbnail is returned only once the measurement
    /// has accepted the source; a refused source's thumbnail may be left at `path`.
    public func probe(_ input: MediaInput, thumbnailTo path: String) async throws -> (ProbeResult, Thumbnail) {
        let prober = Prober(configuration: configuration, logger: logger)
        let header = try await prober.header(input)
        guard (header.declaredDuration ?? 0) >= Self.thumbnailBesideProbeMinimum else {
            let probe = logged(try await prober.measured(header, of: input))
            return (probe, try await thumbnail(input, probe: probe, to: path))
        }
        async let early = thumbnail(input, probe: header, to: path)
        let probe = logged(try await prober.measured(header, of: input))
        return (probe, try await early)
    }

    private func logged(_ probe: ProbeResult) -> ProbeResult {
        logger.info("probed", metadata: [
            "media.size": "\(probe.video.displayWidth)x\(probe.video.displayHeight)",
            "media.duration": "\(probe.duration)", "media.codec": "\(probe.video.codec)",
        ])
        return probe
    }

    /// A declared duration from which the thumbnail's instant (1 s) does not depend on the
    /// measurement: the measured one may differ by up to 1 s before the source is refused.
    static let thumbnailBesideProbeMinimum = 2.0

    /// The upright JPEG at 1 s, written to `path`, and its placeholder.
    public func thumbnail(_ input: MediaInput, probe: ProbeResult, to path: String) async throws -> Thumbnail {
        try await Thumbnailer(configuration: configuration, logger: logger).makeThumbnail(input: input, probe: probe, to: path)
        return Thumbnail(path: path, placeholder: try await placeholder(ofImage: path, scratch: path + ".placeholder"))
    }

    /// How the source is cut into work (`firstRendition: false`: the ladder alone).
    public func plan(_ probe: ProbeResult, chunkSeconds: Double?, firstRendition: Bool = true) -> PipelinePlan {
        PipelinePlan(probe: probe, chunkSeconds: chunkSeconds, settings: configuration.encoding, firstRendition: firstRendition)
    }

    // MARK: - units

    /// Encodes one unit of `plan` into `staging`, handing over each finished segment while
    /// ffmpeg goes on. `onProgress` gets the unit's fraction done (0...1) and ffmpeg's speed.
    /// `stored`: what an earlier attempt of the first rendition stored (it resumes after it).
    /// The rest of the ladder runs under `nice`, behind the first rendition.
    public func encode(
        _ unit: WorkUnit,
        of plan: PipelinePlan,
        probe: ProbeResult,
        input: MediaInput,
        staging: String,
        stored: StoredSegments = StoredSegments(),
        onProgress: @escaping @Sendable (Double, Double?) -> Void,
        onSegment: @escaping @Sendable (FinishedSegment) async throws -> Void
    ) async throws -> UnitResult {
        let background = plan.firstRendition != nil && unit.kind == .video
        return try await HLSEncoder(configuration: configuration, logger: logger, background: background).encode(
            unit: unit, input: input, probe: probe, rungs: plan.rungs(for: unit), schedule: plan.segmentSchedule,
            stored: stored, staging: staging, onProgress: onProgress, onSegment: onSegment)
    }

    // MARK: - the first rendition, played while it encodes

    /// The first rendition's media playlists (its video and the audio) as VOD playlists with
    /// ENDLIST: every planned segment (`planned`), listed before it exists, or what was stored
    /// once the rendition is complete.
    ///
    /// Why not EVENT playlists that grow: Chromium's native HLS (156) plays an open playlist as a
    /// live stream. It joins at the live edge (the first segment, then the last three listed) and,
    /// whenever a reload finds more than three new segments, jumps to the last three again; a
    /// rendition encoded at several times real time is skipped through. A VOD playlist is played
    /// from the start, seekable, never reloaded; a segment asked for before it is stored is
    /// waited for by the media route (`/media/...`), as a just-in-time packager does.
    public func publishFirstRendition(_ segments: [String: [SegmentRecord]], of plan: PipelinePlan, to output: some TranscodeOutput) async throws {
        for (name, list) in segments where !list.isEmpty {
            let text = PlaylistWriter.mediaPlaylist(list, targetDuration: plan.segmentSchedule.targetDuration)
            try await output.storeText(text, as: "\(name)/index.m3u8", contentType: ContentType.playlist)
            // Only stored segments have key frames: the planned listing has no I-frame playlist yet.
            if let iFrames = IFramePlaylist.text(list) {
                try await output.storeText(iFrames, as: "\(name)/\(IFramePlaylist.fileName)", contentType: ContentType.playlist)
            }
        }
    }

    /// The segments the first rendition will have, from the schedule and the measured durations
    /// (the audio ends where the encoder ends it: `AudioEnd`).
    public func plannedFirstRendition(of plan: PipelinePlan, probe: ProbeResult) -> [String: [SegmentRecord]] {
        guard let first = plan.firstRendition else { return [:] }
        func records(_ planned: [(start: Double, duration: Double)]) -> [SegmentRecord] {
            planned.enumerated().map { index, segment in
                SegmentRecord(fileName: String(format: "seg_%05d.ts", index), sequence: index, duration: segment.duration, bytes: 0)
            }
        }
        var planned = [first: records(plan.segmentSchedule.plannedSegments(duration: probe.duration))]
        if let audio = probe.audio {
            let measured = min(audio.duration ?? probe.duration, probe.duration)
            let extent = min(measured, AudioEnd(extent: measured, segmentSeconds: plan.segmentSeconds).seconds)
            planned[audioRenditionName] = records(SegmentSchedule.uniform(plan.segmentSeconds).plannedSegments(duration: extent))
        }
        return planned
    }

    /// True once a player can start: the first video segment is stored, and the first audio
    /// segment if there is audio (every later one is encoded faster than it is played).
    public func isPlayable(_ stored: StoredSegments, of plan: PipelinePlan, probe: ProbeResult) -> Bool {
        guard let first = plan.firstRendition, stored.segments[first]?.first?.sequence == 0 else { return false }
        return probe.audio == nil || stored.segments[audioRenditionName]?.first?.sequence == 0
    }

    /// The master playlist while only the first rendition exists: that rung and the audio, their
    /// bit rates from what is stored so far. At `finish` it is replaced by the full ladder; a
    /// player that started on this one keeps playing it (every URL it holds stays valid).
    /// `complete`: every segment is stored and `publishFirstRendition` wrote the rung's I-frame
    /// playlist, which this master then lists.
    public func publishEarlyMaster(_ stored: StoredSegments, of plan: PipelinePlan, complete: Bool = false, to output: some TranscodeOutput) async throws {
        guard let first = plan.firstRendition, let rung = plan.rungs.first(where: { $0.name == first }), let video = stored.segments[first] else {
            throw MediaError(.outputMissing, "the first rendition has no segments")
        }
        let audio = stored.segments[audioRenditionName].map { RenditionSummary(name: audioRenditionName, rung: nil, segments: $0) }
        let master = PlaylistWriter.masterPlaylist(video: [RenditionSummary(name: first, rung: rung, segments: video)], audio: audio, iFrameStreams: complete)
        try await output.storeText(master, as: "master.m3u8", contentType: ContentType.playlist)
    }

    // MARK: - finish

    /// Joins the units' segments per rendition and writes every media playlist, then the
    /// master, last: until it exists, the output is not a valid asset.
    public func finish(_ results: [UnitResult], of plan: PipelinePlan, to output: some TranscodeOutput) async throws -> [RenditionSummary] {
        var byRendition: [String: [SegmentRecord]] = [:]
        for result in results {
            for (name, segments) in result.renditions { byRendition[name, default: []] += segments }
        }
        // A plan with no schedule has uniform segments: the playlists state the measured target.
        let target = plan.schedule?.targetDuration
        var video: [RenditionSummary] = []
        for rung in plan.rungs {
            guard let segments = byRendition[rung.name]?.sorted(by: { $0.sequence < $1.sequence }), !segments.isEmpty else {
                throw MediaError(.outputMissing, "rendition \(rung.name) has no segments")
            }
            try Self.checkContiguous(segments, rendition: rung.name)
            try await output.storeText(PlaylistWriter.mediaPlaylist(segments, targetDuration: target), as: "\(rung.name)/index.m3u8", contentType: ContentType.playlist)
            if let iFrames = IFramePlaylist.text(segments) {
                try await output.storeText(iFrames, as: "\(rung.name)/\(IFramePlaylist.fileName)", contentType: ContentType.playlist)
            }
            video.append(RenditionSummary(name: rung.name, rung: rung, segments: segments))
        }
        var audio: RenditionSummary?
        if let segments = byRendition[audioRenditionName]?.sorted(by: { $0.sequence < $1.sequence }), !segments.isEmpty {
            try Self.checkContiguous(segments, rendition: audioRenditionName)
            try await output.storeText(PlaylistWriter.mediaPlaylist(segments, targetDuration: target), as: "\(audioRenditionName)/index.m3u8", contentType: ContentType.playlist)
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
