import Foundation
import PulseDatabase
import PulseJobs
import PulseMedia
import PulseStorage
import PulseTestSupport

/// The setup the in-process worker tests share: the 6 s 1080p clip stored under `folder` (local
/// storage) as a new queued asset on `database`, and a draining `Worker` for it with `bus`. The
/// caller queues the asset's `prepare` (after subscribing, if it follows the events) and runs it.
func clipWithInProcessWorker(
    database: any Database,
    folder: String,
    bus: any EventBus = InProcessEventBus(),
    segmentSeconds: Double,
    chunkSeconds: Double,
    preset: String,
    leaseSeconds: Double
) async throws -> (worker: Worker, asset: Asset) {
    let store = try makeObjectStore(url: .folder("\(folder)/storage"), logger: TestServices.logger)
    let sourceKey = "uploads/clip/source.mp4"
    try await store.put(fileAt: try await Clips.hd6s(), key: sourceKey, contentType: "video/mp4", mode: .copy)

    var media = MediaConfiguration()
    media.encoding.segmentSeconds = segmentSeconds
    media.encoding.preset = preset
    var pipeline = PipelineConfiguration(media: media, workDirectory: "\(folder)/work")
    pipeline.chunkSeconds = chunkSeconds
    var configuration = WorkerConfiguration()
    configuration.drain = true
    configuration.leaseSeconds = leaseSeconds
    configuration.pollInterval = .milliseconds(50)
    let worker = Worker(database: database, store: store, bus: bus, pipeline: pipeline, configuration: configuration, logger: TestServices.logger)
    let asset = try await AssetRepository(database: database).create(NewAsset(status: .queued, filename: "source.mp4", sourceKey: sourceKey))
    return (worker, asset)
}
