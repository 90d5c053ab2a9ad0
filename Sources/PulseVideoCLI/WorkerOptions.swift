import ArgumentParser
import Foundation
import PulseJobs

/// How workers run, for `worker` and for the workers embedded in `serve`; each flag has an
/// environment variable.
struct WorkerOptions: ParsableArguments {
    @Option(help: "Jobs a worker runs at once (env PULSE_WORKER_CONCURRENCY, default 1).")
    var concurrency: Int?
    @Option(help: "Video chunk length in seconds, one job each (env PULSE_CHUNK_SECONDS, default 60).")
    var chunkSeconds: Double?
    @Option(help: "Job lease in seconds (env PULSE_JOB_LEASE_SECONDS, default 60).")
    var leaseSeconds: Double?

    func workerConfiguration(environment: [String: String] = ProcessInfo.processInfo.environment) -> WorkerConfiguration {
        var configuration = WorkerConfiguration()
        configuration.concurrency = max(1, concurrency ?? environment["PULSE_WORKER_CONCURRENCY"].flatMap(Int.init) ?? 1)
        configuration.leaseSeconds = leaseSeconds ?? environment["PULSE_JOB_LEASE_SECONDS"].flatMap(Double.init) ?? 60
        return configuration
    }

    func pipeline(media: MediaOptions, runtime: RuntimeConfiguration) throws -> PipelineConfiguration {
        var pipeline = PipelineConfiguration(media: try media.mediaConfiguration(), workDirectory: runtime.workDirectory)
        pipeline.chunkSeconds = chunkSeconds ?? runtime.environment["PULSE_CHUNK_SECONDS"].flatMap(Double.init) ?? 60
        return pipeline
    }
}
