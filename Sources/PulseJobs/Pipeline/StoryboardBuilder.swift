import Foundation
import Logging
import PulseMedia
import PulseStorage

/// Makes an asset's scrubbing storyboard at finalize, from the ladder's work rather than a second
/// pass over the source: the lowest rung's stored segments (cheap to decode) are joined in the
/// worker's scratch folder and drawn into sprite sheets by one ffmpeg (`StoryboardLayout`,
/// `MediaPipeline.storyboardSheets`). The sheets are stored first and the WebVTT that names them
/// last, so a stored VTT always has its sheets; a finalize run again after a crash draws it anew
/// (the same names, the same layout) until the key is recorded.
struct StoryboardBuilder: Sendable {
    let store: any ObjectStore
    let pipeline: MediaPipeline
    let logger: Logger

    /// Builds and stores the storyboard; returns the VTT's key. `staging` is a fresh scratch folder
    /// (removed here).
    func build(assetID: UUID, plan: PipelinePlan, results: [UnitResult], duration: Double, staging: String) async throws -> String {
        guard let lowest = plan.rungs.min(by: { $0.width * $0.height < $1.width * $1.height }) else {
            throw MediaError(.outputMissing, "the plan has no rungs")
        }
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let prefix = StorageKeys.processedPrefix(assetID)
        let video = "\(staging)/\(lowest.name).ts"
        try await RenditionJoiner(store: store).join(
            RenditionJoiner.segments(lowest.name, in: results), rendition: lowest.name, prefix: prefix, into: video)
        let layout = StoryboardLayout(duration: duration, width: lowest.width, height: lowest.height)
        let sheets = try await pipeline.storyboardSheets(video: video, layout: layout, duration: duration, folder: "\(staging)/sheets")
        let output = ObjectStoreOutput(store: store, prefix: prefix)
        for sheet in sheets {
            try await output.storeFile(at: sheet, as: (sheet as NSString).lastPathComponent, contentType: ContentType.jpeg)
        }
        try await output.storeText(layout.webVTT, as: StorageKeys.storyboardFile, contentType: ContentType.webVTT)
        let key = StorageKeys.storyboard(assetID)
        logger.info("storyboard stored", metadata: [
            "asset.id": "\(assetID)", "media.cues": "\(layout.cues.count)", "media.sheets": "\(sheets.count)",
        ])
        return key
    }
}
