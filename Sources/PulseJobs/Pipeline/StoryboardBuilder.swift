import Foundation
import Logging
import PulseMedia
import PulseStorage

/// Makes an asset's scrubbing storyboard at finalize with the pipeline's own step
/// (`MediaPipeline.storyboard`, the one `transcode` runs too): the lowest rung's stored segments
/// are read back from the store and drawn into sprite sheets, the WebVTT stored last. A finalize
/// run again after a crash draws it anew (the same names, the same layout) until the key is
/// recorded.
struct StoryboardBuilder: Sendable {
    let store: any ObjectStore
    let pipeline: MediaPipeline
    let logger: Logger

    /// Builds and stores the storyboard; returns the VTT's key. `staging` is a fresh scratch folder
    /// (removed here).
    func build(assetID: UUID, plan: PipelinePlan, results: [UnitResult], duration: Double, staging: String) async throws -> String {
        let output = ObjectStoreOutput(store: store, prefix: StorageKeys.processedPrefix(assetID))
        let layout = try await pipeline.storyboard(of: plan, results: results, duration: duration, output: output, staging: staging)
        let key = StorageKeys.storyboard(assetID)
        logger.info("storyboard stored", metadata: [
            "asset.id": "\(assetID)", "media.cues": "\(layout.cues.count)", "media.sheets": "\(layout.sheetCount)",
        ])
        return key
    }
}
