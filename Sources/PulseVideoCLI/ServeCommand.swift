import ArgumentParser
import Foundation
import PulseAPI
import PulseService
import ServiceLifecycle

/// `pulse-video serve`: the API, the events WebSocket, playback files and the upload page, with
/// embedded workers unless `--no-worker`, all in one `ServiceGroup` (runtime services first, the HTTP
/// server last) that shuts down gracefully on SIGTERM or SIGINT. Put together by `buildApplication`.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP API, the upload page and embedded workers.")

    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var media: MediaOptions
    @Option(help: "Address to listen on (default \(defaults.api.host)).")
    var host: String?
    @Option(help: "Port to listen on, default \(defaults.api.port); 0 picks a free one (the bound address is printed).")
    var port: String?
    @Option(help: "Embedded workers (env PULSE_WORKERS, default \(defaults.embeddedWorkers)).")
    var workers: String?
    @Flag(help: "Run the API alone, beside separate `pulse-video worker` processes.")
    var noWorker = false
    @OptionGroup var workerOptions: WorkerOptions

    func run() async throws {
        let serveFlags = ["--host": host, "--port": port, "--workers": workers, "--no-worker": noWorker ? "1" : nil].compactMapValues { $0 }
        let configuration = try readConfiguration(runtime.flags, media.flags, workerOptions.flags, serveFlags)
        let logger = makeLogger("pulse.serve", configuration)
        let application = try await exitingOnStartupError {
            try await buildApplication(
                configuration, role: .serve, logger: logger, metrics: APIMetrics.bootstrappingSwiftMetrics(),
                onListening: { url in
                    // One line scripts and tests can wait for; unbuffered.
                    FileHandle.standardOutput.write(Data("pulse-video listening on \(url)\n".utf8))
                }
            )
        }
        if let server = application.server, server.apiKeyWasGenerated {
            FileHandle.standardOutput.write(Data(
                "API key (stored in \(configuration.runtime.dataDirectory)/\(APIKeyFile.fileName), shown only now): \(server.apiKey)\n".utf8))
        }
        let group = ServiceGroup(configuration: .init(services: application.services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        // The server's bind is the last start-up check: a taken address ends the group with a
        // `StartupError` before any other service has started.
        try await exitingOnStartupError { try await group.run() }
    }
}
