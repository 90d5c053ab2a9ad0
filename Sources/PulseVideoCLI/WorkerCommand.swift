import ArgumentParser
import PulseService
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
        let configuration = try readConfiguration(runtime.flags, media.flags, options.flags)
        let logger = makeLogger("pulse.worker", configuration)
        let drain = self.drain
        let application = try await exitingOnStartupError {
            try await buildApplication(configuration, role: .worker(drain: drain), logger: logger)
        }
        // The worker ends the group itself when draining; SIGTERM/SIGINT stop it gracefully.
        let group = ServiceGroup(configuration: .init(services: application.services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
