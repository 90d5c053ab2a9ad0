import ArgumentParser
import Foundation
import PulseDatabase
import PulseJobs
import PulseService
import PulseStorage

/// `pulse-video bench ...`: measurements that print figures (never run as tests).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks that print figures.",
        subcommands: [QueueBench.self, ThumbnailBench.self])
}

/// Claims + acknowledgements per second with no-op work: the queue's own overhead.
struct QueueBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "queue", abstract: "Queue overhead: claims and acknowledgements per second.")
    @Option(help: "Concurrent claimers.") var workers = 8
    @Option(help: "Jobs to enqueue and process.") var jobs = 2000
    @OptionGroup var runtime: RuntimeOptions

    func run() async throws {
        let (workers, jobs) = (self.workers, self.jobs)
        let configuration = try readConfiguration(runtime.flags)
        let logger = makeLogger("pulse.bench", configuration)
        try configuration.runtime.makeDirectories()
        let url = configuration.runtime.databaseURL
        try await withDatabase(url: url, logger: logger) { database in
            _ = try await migrate(database, logger: logger)
            let queue = JobQueue(database: database)
            let assets = AssetRepository(database: database)
            // Jobs hang off assets; one asset per 1000 jobs keeps the unique key (asset, kind, index) free.
            let enqueueStart = ContinuousClock.now
            for batch in 0..<((jobs + 999) / 1000) {
                let asset = try await assets.create(NewAsset(status: .queued, filename: "bench-\(batch)"))
                for index in 0..<min(1000, jobs - batch * 1000) {
                    try await queue.enqueue(assetID: asset.id, kind: .chunk, chunkIndex: index)
                }
            }
            let enqueueSeconds = seconds(ContinuousClock.now - enqueueStart)
            let start = ContinuousClock.now
            let processed = try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in 0..<workers {
                    group.addTask {
                        var count = 0
                        while let job = try await queue.claim(workerID: "bench-\(worker)", leaseSeconds: 60).job {
                            _ = try await queue.complete(job)
                            count += 1
                        }
                        return count
                    }
                }
                return try await group.reduce(0, +)
            }
            let elapsed = seconds(ContinuousClock.now - start)
            print("database: \(url)")  // the description leaves the password out
            print(String(format: "enqueue: %d jobs in %.2f s (%.0f/s)", jobs, enqueueSeconds, Double(jobs) / enqueueSeconds))
            print(String(format: "claim+ack: %d jobs by %d workers in %.2f s = %.0f jobs/s", processed, workers, elapsed, Double(processed) / elapsed))
        }
    }
}

/// Time from queueing an asset to its `thumbnail_ready` event, with an idle worker waiting.
struct ThumbnailBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "thumbnail", abstract: "Time from job start to the thumbnail event.")
    @Argument(help: "A local source video.") var source: String
    @Option(help: "Runs.") var runs = 5
    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var media: MediaOptions

    func run() async throws {
        var configuration = try readConfiguration(runtime.flags, media.flags)
        let logger = makeLogger("pulse.bench", configuration)
        // One idle worker with the default worker settings and one chunk per video, whatever
        // the environment says: the figure is the latency to the thumbnail, not the encode.
        configuration.pipeline.chunkSeconds = 60
        configuration.worker = WorkerConfiguration()
        let application = try await buildApplication(configuration, role: .worker(drain: false), logger: logger)
        let pulse = application.runtime
        let (source, runs) = (self.source, self.runs)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in application.services { group.addTask { try await service.service.run() } }
            // As a client would: create, upload, then complete (timed from there).
            let lifecycle = pulse.lifecycle
            let size = Int64((try FileManager.default.attributesOfItem(atPath: source)[.size] as? Int) ?? 0)
            var latencies: [Double] = []
            for run in 0..<runs {
                let asset = try await lifecycle.create(filename: "bench-\(run).mp4")
                try await pulse.store.put(fileAt: source, key: asset.sourceKey ?? "", contentType: nil, mode: .copy)
                let events = pulse.bus.subscribe(assetID: asset.id)
                let start = ContinuousClock.now
                try await lifecycle.uploaded(asset.id, size: size)
                var thumbnailAt: Double?
                for await event in events {
                    if event.type == .thumbnailReady, thumbnailAt == nil { thumbnailAt = seconds(ContinuousClock.now - start) }
                    if event.type == .ready || event.type == .failed { break }
                }
                if let thumbnailAt { latencies.append(thumbnailAt) }
            }
            latencies.sort()
            print(String(format: "thumbnail event after queueing: median %.3f s, max %.3f s over %d runs (worker poll interval 0.25 s included)",
                         latencies[latencies.count / 2], latencies.last ?? 0, latencies.count))
            group.cancelAll()
        }
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
