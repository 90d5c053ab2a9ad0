import ArgumentParser
import Foundation
import Logging
import PulseJobs
import ServiceLifecycle

/// `pulse-video worker`: processes queued jobs until SIGTERM (or, with --drain, until the queue is empty).
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "worker", abstract: "Process queued jobs.")

    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var media: MediaOptions
    @Option(help: "Jobs run at once (env PULSE_WORKER_CONCURRENCY, default 1).")
    var concurrency: Int?
    @Option(help: "Video chunk length in seconds, one job each (env PULSE_CHUNK_SECONDS, default 60).")
    var chunkSeconds: Double?
    @Option(help: "Job lease in seconds (env PULSE_JOB_LEASE_SECONDS, default 60).")
    var leaseSeconds: Double?
    @Flag(help: "Exit when the queue is empty (nothing queued, now or later, and nothing running).")
    var drain = false

    func run() async throws {
        let logger = makeLogger("pulse.worker")
        let environment = ProcessInfo.processInfo.environment
        let configuration = try runtime.configuration
        // Migrate on a short-lived connection: the runtime's database may run only once, in the group.
        _ = try await withDatabase(url: configuration.databaseURL, logger: logger) { try await migrate($0, logger: logger) }
        let runtime = try PulseRuntime(configuration: configuration, logger: logger)
        var workerConfiguration = WorkerConfiguration()
        workerConfiguration.concurrency = max(1, concurrency ?? environment["PULSE_WORKER_CONCURRENCY"].flatMap(Int.init) ?? 1)
        workerConfiguration.leaseSeconds = leaseSeconds ?? environment["PULSE_JOB_LEASE_SECONDS"].flatMap(Double.init) ?? 60
        workerConfiguration.drain = drain
        var pipeline = PipelineConfiguration(media: try media.mediaConfiguration(), workDirectory: configuration.workDirectory)
        pipeline.chunkSeconds = chunkSeconds ?? environment["PULSE_CHUNK_SECONDS"].flatMap(Double.init) ?? 60

        let worker = Worker(database: runtime.database, store: runtime.store, bus: runtime.bus, pipeline: pipeline, configuration: workerConfiguration, logger: logger)
        // The worker ends the group itself when draining; SIGTERM/SIGINT stop it gracefully.
        let group = ServiceGroup(configuration: .init(
            services: runtime.services.map { .init(service: $0) }
                + [.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
    }
}
