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
    /// The thumbnail's BlurHash, as the service puts in the asset (`placeholder`).
    public var placeholder: String
    /// The storyboard's WebVTT in the output (`storyboard.vtt`), its sprite sheets beside it.
    public var storyboard: String
}

/// Runs the pipeline (`PipelinePlan`) in one process: prepare (probe, thumbnail and its
/// placeholder, plan), every unit in turn, finish (playlists, storyboard). The job system runs
/// the same steps as leased jobs, so both make the same files.
public struct Transcoder: Sendable {
    public var configuration: MediaConfiguration
    var logger: Logger

    public init(configuration: MediaConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// - Parameters:
    ///   - chunkSeconds: cut the video into ranges of this length (nil: one range).
    ///   - firstRendition: plan a first rendition as the service does (one extra decode). Off by
    ///     default: nobody plays a `transcode` output before it is finished.
    ///   - workDirectory: local scratch space (removed at the end, whatever happens).
    public func transcode(
        input: MediaInput,
        output: some TranscodeOutput,
        chunkSeconds: Double? = nil,
        firstRendition: Bool = false,
        workDirectory: String,
        onProgress: @escaping @Sendable (TranscodeProgress) -> Void = { _ in }
    ) async throws -> TranscodeResult {
        try FileSystem.makeDirectory(workDirectory)
        defer { FileSystem.remove(workDirectory) }
        let pipeline = MediaPipeline(configuration: configuration, logger: logger)

        onProgress(TranscodeProgress(stage: .probing, percent: 0))
        let (probe, thumbnail) = try await pipeline.probe(input, thumbnailTo: "\(workDirectory)/thumbnail.jpg")
        try await output.storeFile(at: thumbnail.path, as: "thumbnail.jpg", contentType: ContentType.jpeg)
        let plan = pipeline.plan(probe, chunkSeconds: chunkSeconds, firstRendition: firstRendition)
        let progress = Mutex(plan.progress(duration: probe.duration, thumbnailDone: true))
        var event = TranscodeProgress(stage: .thumbnail, percent: progress.withLock { $0.percent })
        event.thumbnailReady = true
        onProgress(event)

        var results: [UnitResult] = []
        for unit in plan.units {
            let result = try await pipeline.encode(
                unit, of: plan, probe: probe, input: input, staging: "\(workDirectory)/\(unit.id)",
                onProgress: { fraction, speed in
                    let (percent, eta) = progress.withLock { ($0.update(unit.id, fraction: fraction), $0.etaSeconds()) }
                    onProgress(TranscodeProgress(stage: .transcoding, percent: percent, speed: speed, etaSeconds: eta))
                },
                onSegment: { segment in
                    try await output.storeFile(at: segment.path, as: "\(segment.rendition)/\(segment.fileName)", contentType: ContentType.transportStream)
                }
            )
            results.append(result)
        }

        onProgress(TranscodeProgress(stage: .finalizing, percent: progress.withLock { $0.percent }))
        // The storyboard before the playlists: the master, written last, marks a finished output.
        _ = try await pipeline.storyboard(of: plan, results: results, duration: probe.duration, output: output, staging: "\(workDirectory)/storyboard")
        let renditions = try await pipeline.finish(results, of: plan, to: output)
        onProgress(TranscodeProgress(stage: .done, percent: 100))
        return TranscodeResult(
            probe: probe, rungs: plan.rungs, renditions: renditions, units: plan.units.count,
            placeholder: thumbnail.placeholder, storyboard: StoryboardLayout.fileName)
    }
}
