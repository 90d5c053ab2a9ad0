public import Logging
public import PulseAPI
import PulseDatabase
public import PulseJobs
public import ServiceLifecycle

/// What a process made by ``buildApplication(_:role:logger:metrics:onListening:)`` does.
public enum PulseRole: Sendable {
    /// `serve`: the HTTP API, `embeddedWorkers` workers, the reaper and the webhook deliverer.
    case serve
    /// `worker`: one worker and no HTTP; with `drain`, it ends the group once the queue is empty.
    case worker(drain: Bool)
}

/// A Pulse process's parts, made from one `PulseConfiguration`, and the services to run them.
public struct PulseApplication: Sendable {
    /// The configuration it was built from.
    public let configuration: PulseConfiguration
    /// Database, store and event bus.
    public let runtime: PulseRuntime
    /// The HTTP server (nil for a worker process).
    public let server: PulseServer?
    /// The workers, embedded (`serve`) or the process's one (`worker`).
    public let workers: [Worker]
    /// For a `ServiceGroup`, in start order: the runtime's services (database first, so it stops
    /// last), the workers, the reaper, and the HTTP server last (the first to stop on SIGTERM);
    /// in `serve`, the workers, the reaper and the webhook deliverer wait until the server is bound.
    public let services: [ServiceGroupConfiguration.ServiceConfiguration]
}

/// The one place a Pulse process is put together (the shape of hummingbird-examples'
/// `buildApplication`): `serve`, `worker`, the API tests and the thumbnail benchmark all call it.
/// Checks what the process needs (see `StartupChecks`; a failure throws a `StartupError`), applies
/// migrations on a short-lived connection of their own (the runtime's database may run only once,
/// inside the group), then builds the runtime, the workers, the reaper and the HTTP
/// application from `configuration`, which it takes as read (it reads no environment).
/// - Parameters:
///   - role: what the process runs.
///   - logger: passed to every part.
///   - metrics: the API's metrics (`serve`; `APIMetrics.bootstrappingSwiftMetrics()` once per process).
///   - onListening: called with `http://host:port` once the HTTP server is bound (`serve`).
public func buildApplication(
    _ configuration: PulseConfiguration,
    role: PulseRole = .serve,
    logger: Logger,
    metrics: APIMetrics? = nil,
    onListening: @escaping @Sendable (String) async -> Void = { _ in }
) async throws -> PulseApplication {
    // Everything that would stop the process later is checked first, each failure a
    // `StartupError` that names its subject: tools for a process that runs workers, the data
    // folder, then the database within its deadline. The address is the server's own bind, which
    // every other service of `serve` waits for (`ListeningServer`, `StartsOnceListening`).
    let runsWorkers: Bool
    switch role {
    case .serve:
        runsWorkers = configuration.embeddedWorkers > 0
    case .worker:
        runsWorkers = true
    }
    if runsWorkers { try StartupChecks.requireTools(configuration.pipeline.media) }
    try StartupChecks.makeDataFolders(configuration.runtime)
    try await StartupChecks.migrate(configuration.runtime.databaseURL, within: configuration.startupTimeout, logger: logger)
    let runtime = try PulseRuntime(configuration: configuration.runtime, logger: logger)
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = runtime.services.map { .init(service: $0) }
    let pipeline = configuration.pipeline

    func worker(_ workerConfiguration: WorkerConfiguration) -> Worker {
        Worker(database: runtime.database, store: runtime.store, bus: runtime.bus, pipeline: pipeline, configuration: workerConfiguration, logger: logger)
    }
    func webhooks(boundAddress: BoundAddress?, prunes: Bool) throws -> WebhookDeliverer {
        try WebhookDeliverer.make(
            api: configuration.api, webhooks: configuration.webhooks, runtime: runtime, boundAddress: boundAddress, prunes: prunes, logger: logger)
    }

    switch role {
    case .worker(let drain):
        var workerConfiguration = configuration.worker
        workerConfiguration.drain = drain
        let worker = worker(workerConfiguration)
        // A draining worker ends the group itself; SIGTERM/SIGINT stop it gracefully.
        services.append(.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup))
        // Any process may deliver webhooks; a worker does so only with URLs (serve prunes).
        if !configuration.webhooks.endpoints.isEmpty {
            services.append(.init(service: try webhooks(boundAddress: nil, prunes: false)))
        }
        return PulseApplication(configuration: configuration, runtime: runtime, server: nil, workers: [worker], services: services)

    case .serve:
        let media = configuration.pipeline.media
        let server = try PulseServer(
            runtime: runtime, configuration: configuration.api, metrics: metrics ?? APIMetrics(), logger: logger,
            missingTools: runsWorkers ? { @Sendable in StartupChecks.toolProblems(media).map(\.name) } : nil, onListening: onListening)
        let workers = (0..<configuration.embeddedWorkers).map { index in
            var perWorker = configuration.worker
            perWorker.workerID += "-\(index)"
            return worker(perWorker)
        }
        // Nothing claims a job, deletes an asset or sends a webhook before the server listens: a
        // process that cannot bind ends having done nothing.
        func onceListening(_ service: any Service) -> ServiceGroupConfiguration.ServiceConfiguration {
            .init(service: StartsOnceListening(service: service, address: server.boundAddress))
        }
        services += workers.map { onceListening($0) }
        // Failed and abandoned assets are deleted on a schedule by every API process (several at
        // once are harmless); separate `pulse-video worker` processes do not run it.
        if configuration.reaper.isEnabled {
            services.append(onceListening(Reaper(
                database: runtime.database, store: runtime.store, bus: runtime.bus, configuration: configuration.reaper, logger: logger)))
        }
        // Always: with no URLs it only prunes the outbox, which every event is written to.
        services.append(onceListening(try webhooks(boundAddress: server.boundAddress, prunes: true)))
        services.append(.init(service: ListeningServer(server)))
        let storageKind = if case .s3 = configuration.runtime.storageURL { "s3" } else { "local" }
        logger.info("starting", metadata: [
            "serve.workers": "\(workers.count)",
            "serve.storage": "\(storageKind)",
        ])
        return PulseApplication(configuration: configuration, runtime: runtime, server: server, workers: workers, services: services)
    }
}
