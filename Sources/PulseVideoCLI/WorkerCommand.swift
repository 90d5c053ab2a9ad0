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
    @OptionGroup var options: WorkerOptions
    @Flag(help: "Exit when the queue is empty (nothing queued, now or later, and nothing running).")
    var drain = false

    func run() async throws {
        let logger = makeLogger("pulse.worker")
        let configuration = try runtime.configuration
        let runtime = try await migratedRuntime(configuration, logger: logger)
        var workerConfiguration = try options.workerConfiguration()
        workerConfiguration.drain = drain
        let pipeline = try options.pipeline(media: media, runtime: configuration)

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
