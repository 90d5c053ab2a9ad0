import Foundation
import Logging
import PulseMedia
import PulseStorage

/// Makes `processed/{id}/download.mp4` for an asset created with `mp4: true`, at finalize: the top
/// rung's and the audio's stored segments (already encoded) are fetched from the store into the
/// worker's scratch folder, each rendition joined into one MPEG-TS file (segments of one encoder
/// are contiguous packet streams), and remuxed (`MediaPipeline.remuxDownload`: `-c copy`). The
/// same for local and S3 storage; scratch holds one copy of the two renditions at most.
struct DownloadBuilder: Sendable {
    let store: any ObjectStore
    let pipeline: MediaPipeline
    let logger: Logger

    /// Builds and stores the MP4; returns its key. `staging` is a fresh scratch folder (removed here).
    func build(assetID: UUID, plan: PipelinePlan, results: [UnitResult], duration: Double, staging: String) async throws -> String {
        guard let top = plan.rungs.first else { throw MediaError(.outputMissing, "the plan has no rungs") }
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let joiner = RenditionJoiner(output: ObjectStoreOutput(store: store, prefix: StorageKeys.processedPrefix(assetID)))
        let video = "\(staging)/video.ts"
        try await joiner.join(results.segments(of: top.name), rendition: top.name, into: video)
        let audioSegments = results.segments(of: audioRenditionName)
        var audio: String?
        if !audioSegments.isEmpty {
            audio = "\(staging)/audio.ts"
            try await joiner.join(audioSegments, rendition: audioRenditionName, into: audio!)
        }
        let output = "\(staging)/download.mp4"
        try await pipeline.remuxDownload(video: video, audio: audio, duration: duration, to: output)
        let key = StorageKeys.download(assetID)
        try await store.put(fileAt: output, key: key, contentType: "video/mp4", mode: .move)
        return key
    }
}
