import Foundation
public import Logging
import Synchronization

/// Live state of a transcode, for progress bars and events.
public struct TranscodeProgress: Sendable, Equatable {
    public enum Stage: String, Sendable, Codable { case probing, thumbnail, transcoding, finalizing, done }
    public var stage: Stage
    /// Global percent, never decreasing.
    public var percent: Double
    /// ffmpeg's speed (x real time), when known.
    public var speed: Double?
    public var etaSeconds: Double?
    /// Set once, on the event that announces the thumbnail.
    public var thumbnailReady: Bool = false
}

/// What a finished transcode produced.
public struct TranscodeResult: Codable, Sendable {
    public var probe: ProbeResult
    public var rungs: [Rung]
    public var renditions: [RenditionSummary]
    public var units: Int
}

/// The whole pipeline in one process: probe, thumbnail, ladder, every work unit, playlists.
/// The master playlist is written last: until it exists, the output is not a valid asset.
public struct Transcoder: Sendable {
    public var configuration: MediaConfiguration
    var logger: Logger

    public init(configuration: MediaConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// - Parameters:
    ///   - chunkSeconds: cut the video into ranges of this length (nil: one range).
    ///   - workDirectory: local scratch space (removed at the end, whatever happens).
    public func transcode(
        input: MediaInput,
        output: some TranscodeOutput,
        chunkSeconds: Double? = nil,
        workDirectory: String,
        onProgress: @escaping @Sendable (TranscodeProgress) -> Void = { _ in }
    ) async throws -> TranscodeResult {
        try FileSystem.makeDirectory(workDirectory)
        defer { FileSystem.remove(workDirectory) }

        onProgress(TranscodeProgress(stage: .probing, percent: 0))
        let probe = try await Prober(configuration: configuration, logger: logger).probe(input)
        logger.info("probed", metadata: [
            "media.size": "\(probe.video.displayWidth)x\(probe.video.displayHeight)",
            "media.duration": "\(probe.duration)", "media.codec": "\(probe.video.codec)",
        ])

        let thumbnail = "\(workDirectory)/thumbnail.jpg"
        try await Thumbnailer(configuration: configuration, logger: logger).makeThumbnail(input: input, probe: probe, to: thumbnail)
        try await output.storeFile(at: thumbnail, as: "thumbnail.jpg", contentType: ContentType.jpeg)

        let rungs = LadderPlanner.plan(for: probe.video)
        let units = WorkPlanner.plan(duration: probe.duration, hasAudio: probe.audio != nil, chunkSeconds: chunkSeconds, settings: configuration.encoding)
        let aggregator = Mutex(ProgressAggregator(units: Dictionary(uniqueKeysWithValues: units.map {
            (ProgressAggregator.key($0), WorkPlanner.weight(of: $0, duration: probe.duration))
        })))
        let started = aggregator.withLock { $0.thumbnailDone() }
        var event = TranscodeProgress(stage: .thumbnail, percent: started)
        event.thumbnailReady = true
        onProgress(event)

        let encoder = HLSEncoder(configuration: configuration, logger: logger)
        var results: [UnitResult] = []
        for unit in units {
            let key = ProgressAggregator.key(unit)
            let result = try await encoder.encode(
                unit: unit, input: input, probe: probe, rungs: rungs,
                staging: "\(workDirectory)/\(key)",
                onProgress: { fraction, speed in
                    let (percent, eta) = aggregator.withLock { ($0.update(key, fraction: fraction), $0.etaSeconds()) }
                    onProgress(TranscodeProgress(stage: .transcoding, percent: percent, speed: speed, etaSeconds: eta))
                },
                onSegment: { segment in
                    try await output.storeFile(at: segment.path, as: "\(segment.rendition)/\(segment.fileName)", contentType: ContentType.transportStream)
                }
            )
            results.append(result)
        }

        onProgress(TranscodeProgress(stage: .finalizing, percent: aggregator.withLock { $0.percent }))
        let renditions = try await Self.writePlaylists(results: results, rungs: rungs, to: output)
        onProgress(TranscodeProgress(stage: .done, percent: 100))
        return TranscodeResult(probe: probe, rungs: rungs, renditions: renditions, units: units.count)
    }

    /// Joins the units' segments per rendition and writes every media playlist, then the master.
    public static func writePlaylists(results: [UnitResult], rungs: [Rung], to output: some TranscodeOutput) async throws -> [RenditionSummary] {
        var byRendition: [String: [SegmentRecord]] = [:]
        for result in results {
            for (name, segments) in result.renditions { byRendition[name, default: []] += segments }
        }
        var video: [RenditionSummary] = []
        for rung in rungs {
            guard let segments = byRendition[rung.name]?.sorted(by: { $0.sequence < $1.sequence }), !segments.isEmpty else {
                throw MediaError(.outputMissing, "rendition \(rung.name) has no segments")
            }
            try checkContiguous(segments, rendition: rung.name)
            try await output.storeText(PlaylistWriter.mediaPlaylist(segments), as: "\(rung.name)/index.m3u8", contentType: ContentType.playlist)
            video.append(RenditionSummary(name: rung.name, rung: rung, segments: segments))
        }
        var audio: RenditionSummary?
        if let segments = byRendition[audioRenditionName]?.sorted(by: { $0.sequence < $1.sequence }), !segments.isEmpty {
            try checkContiguous(segments, rendition: audioRenditionName)
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
