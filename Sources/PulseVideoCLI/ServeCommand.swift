import ArgumentParser
import Foundation
import Logging
import PulseAPI
import PulseJobs
import ServiceLifecycle

/// `pulse-video serve`: the API, the events WebSocket, playback files and the upload page, with
/// embedded workers unless `--no-worker`, all in one `ServiceGroup` (runtime services first, the HTTP
/// server last) that shuts down gracefully on SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP API, the upload page and embedded workers.")

    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var media: MediaOptions
    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free one (the bound address is printed).")
    var port = 8080
    @Option(help: "Embedded workers (env PULSE_WORKERS, default 1).")
    var workers: Int?
    @Flag(help: "Run the API alone, beside separate `pulse-video worker` processes.")
    var noWorker = false
    @OptionGroup var workerOptions: WorkerOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        if let workers, workers < 0 { throw ValidationError("--workers must not be negative") }
    }

    func run() async throws {
        let logger = makeLogger("pulse.serve")
        let environment = ProcessInfo.processInfo.environment
        var configuration = try runtime.configuration
        let reaper: ReaperConfiguration
        do { reaper = try ReaperConfiguration(environment: environment) } catch let error as ReaperConfigurationError {
            throw ValidationError(error.description)
        }
        // Storage URLs of the local store are built on the public URL: without PULSE_PUBLIC_URL,
        // the address we listen on (the API itself builds them on the request's Host).
        if environment["PULSE_PUBLIC_URL"] == nil, port != 0 {
            configuration.publicURL = "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(port)"
        }
        let runtime = try await migratedRuntime(configuration, logger: logger)

        var api = APIConfiguration(apiKey: try apiKey(configuration: configuration, environment: environment))
        api.host = host
        api.port = port
        api.publicURL = environment["PULSE_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 }
        api.publicMediaURL = environment["PULSE_PUBLIC_MEDIA_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if let bytes = try positive(environment, "PULSE_MAX_UPLOAD_BYTES").map(Int64.init) { api.maxUploadBytes = bytes }
        if let seconds = try positive(environment, "PULSE_TOKEN_TTL_SECONDS") { api.tokenLifetime = .seconds(seconds) }
        if let seconds = try positive(environment, "PULSE_UPLOAD_URL_TTL_SECONDS") { api.uploadURLLifetime = .seconds(seconds) }
        if let secret = environment["PULSE_TOKEN_SECRET"], !secret.isEmpty {
            guard secret.utf8.count >= 32 else { throw ValidationError("PULSE_TOKEN_SECRET must be at least 32 bytes") }
            api.tokenSecret = Array(secret.utf8)
        }
        // An abandoned asset is one whose upload URL has expired: reaping sooner would delete assets
        // whose upload may still arrive.
        let uploadURLSeconds = Int(api.uploadURLLifetime.components.seconds)
        if reaper.abandonedAfterSeconds > 0, reaper.abandonedAfterSeconds < uploadURLSeconds {
            throw ValidationError(
                "\(ReaperConfiguration.abandonedAfterVariable) (\(reaper.abandonedAfterSeconds)) must be at least the upload URL lifetime (\(uploadURLSeconds) s, PULSE_UPLOAD_URL_TTL_SECONDS), or 0"
            )
        }

        let server = try PulseServer(
            runtime: runtime, configuration: api, metrics: APIMetrics.bootstrappingSwiftMetrics(), logger: logger,
            onListening: { url in
                // One line scripts and tests can wait for; unbuffered.
                FileHandle.standardOutput.write(Data("pulse-video listening on \(url)\n".utf8))
            }
        )

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = runtime.services.map { .init(service: $0) }
        let workerCount = noWorker ? 0 : (workers ?? environment["PULSE_WORKERS"].flatMap(Int.init) ?? 1)
        if workerCount > 0 {
            let pipeline = try workerOptions.pipeline(media: media, runtime: configuration)
            let workerConfiguration = try workerOptions.workerConfiguration(environment: environment)
            for index in 0..<workerCount {
                var perWorker = workerConfiguration
                perWorker.workerID += "-\(index)"
                let worker = Worker(
                    database: runtime.database, store: runtime.store, bus: runtime.bus,
                    pipeline: pipeline, configuration: perWorker, logger: logger
                )
                services.append(.init(service: worker))
            }
        }
        // Failed and abandoned assets are deleted on a schedule by every API process (several at
        // once are harmless); separate `pulse-video worker` processes do not run it.
        if reaper.isEnabled {
            services.append(.init(service: Reaper(
                database: runtime.database, store: runtime.store, bus: runtime.bus, configuration: reaper, logger: logger
            )))
        }
        services.append(.init(service: server.makeApplication()))
        logger.info("starting", metadata: [
            "serve.workers": "\(workerCount)", "serve.storage": "\(configuration.storageURL.hasPrefix("s3://") ? "s3" : "local")",
        ])
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// `PULSE_API_KEY`, or the key kept in the data folder (generated and printed on first start).
    private func apiKey(configuration: RuntimeConfiguration, environment: [String: String]) throws -> String {
        if let key = environment["PULSE_API_KEY"], !key.isEmpty { return key }
        let (key, created) = try APIKeyFile.loadOrCreate(dataDirectory: configuration.dataDirectory)
        if created {
            print("API key (stored in \(configuration.dataDirectory)/\(APIKeyFile.fileName), shown only now): \(key)")
        }
        return key
    }

    private func positive(_ environment: [String: String], _ name: String) throws -> Int? {
        guard let text = environment[name], !text.isEmpty else { return nil }
        guard let value = Int(text), value > 0 else { throw ValidationError("\(name) must be a positive whole number") }
        return value
    }
}
