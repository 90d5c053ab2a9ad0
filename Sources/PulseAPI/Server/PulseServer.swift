public import Foundation
import Hummingbird
import HummingbirdWebSocket
public import Logging
import NIOCore
public import PulseJobs
import PulseStorage
public import ServiceLifecycle

/// The HTTP side of Pulse Video: the `/v1` API, the events WebSocket, storage and media files,
/// health and metrics, and the upload page, over one `PulseRuntime`.
///
/// `makeApplication()` gives a `Service` to put last in the process's `ServiceGroup`, after the
/// runtime's services and any embedded workers, so it is the first to stop on SIGTERM.
public struct PulseServer: Sendable {
    /// The settings it was made with.
    public let configuration: APIConfiguration
    /// The address once bound (port 0 picks one).
    public let boundAddress: BoundAddress
    /// Signs and checks per-asset tokens (exposed for tests and tools).
    public let tokenSigner: AssetTokenSigner
    let dependencies: APIDependencies
    let page: PageRoutes
    let logger: Logger
    let onListening: @Sendable (String) async -> Void

    /// A server over `runtime`. Secrets for asset tokens and local storage URLs are kept in the
    /// runtime's data folder, so every process sharing it agrees on them.
    /// - Parameters:
    ///   - now: the clock for token and URL expiries.
    ///   - onListening: called once with `http://host:port` when the server is bound.
    public init(
        runtime: PulseRuntime,
        configuration: APIConfiguration,
        metrics: APIMetrics,
        logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() },
        onListening: @escaping @Sendable (String) async -> Void = { _ in }
    ) throws {
        self.configuration = configuration
        self.boundAddress = BoundAddress()
        self.tokenSigner = AssetTokenSigner(secret: try configuration.tokenSecret ?? runtime.configuration.persistentSecret(named: "asset-token-secret"))
        self.logger = logger
        self.onListening = onListening
        let isLocal = runtime.localURLSigner != nil
        let localSecret = isLocal ? try runtime.configuration.persistentSecret(named: "storage-url-secret") : nil
        let queue = JobQueue(database: runtime.database)
        self.dependencies = APIDependencies(
            configuration: configuration,
            database: runtime.database,
            assets: AssetRepository(database: runtime.database, clock: queue.clock),
            queue: queue,
            store: runtime.store,
            bus: runtime.bus,
            links: Links(configuration: configuration, store: runtime.store, localSigningSecret: localSecret, boundAddress: boundAddress),
            auth: Authenticator(apiKey: configuration.apiKey, tokens: tokenSigner, now: now),
            metrics: metrics,
            localURLSigner: runtime.localURLSigner,
            incomingDirectory: "\(runtime.configuration.dataDirectory)/incoming",
            logger: logger,
            now: now
        )
        self.page = try PageRoutes.load()
    }

    /// The HTTP server as a `Service` (Hummingbird's `Application` with WebSocket upgrades).
    public func makeApplication() -> some Service {
        let router = Router(context: BasicRequestContext.self)
        // Middleware first: routes capture the middleware added before them.
        router.add(middleware: CORSMiddleware(
            allowOrigin: .all,
            allowHeaders: [.accept, .authorization, .contentType, .origin, .range],
            allowMethods: [.get, .post, .put, .delete, .head, .options],
            exposedHeaders: ["Content-Length", "Content-Range", "Accept-Ranges", "Location"],
            maxAge: .seconds(600)
        ))
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: MetricsMiddleware())
        AssetRoutes(dependencies: dependencies).register(on: router)
        StorageRoutes(dependencies: dependencies).register(on: router)
        MediaRoutes(dependencies: dependencies).register(on: router)
        HealthRoutes(dependencies: dependencies).register(on: router)
        page.register(on: router)

        let boundAddress = self.boundAddress
        let onListening = self.onListening
        let host = configuration.host
        return Application(
            router: router,
            server: .http1WebSocketUpgrade(webSocketRouter: makeWebSocketRouter()),
            configuration: ApplicationConfiguration(address: .hostname(host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let url = "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
                boundAddress.set(url)
                await onListening(url)
            },
            logger: logger
        )
    }

    /// Only the events route lives here: a request that is not upgraded (refused, or not a
    /// WebSocket request) falls through to the main router, which answers with the reason.
    private func makeWebSocketRouter() -> Router<BasicWebSocketRequestContext> {
        let dependencies = self.dependencies
        let relay = EventRelay(
            assets: dependencies.assets, bus: dependencies.bus, links: dependencies.links,
            recheckInterval: configuration.eventRecheckInterval, metrics: dependencies.metrics
        )
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.ws("v1/assets/:id/events") { request, context in
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { return .dontUpgrade }
            guard (try? dependencies.auth.requireAccess(to: id, request)) != nil else { return .dontUpgrade }
            guard try await dependencies.assets.get(id) != nil else { return .dontUpgrade }
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            guard let id = context.requestContext.parameters.get("id").flatMap(UUID.init(uuidString:)) else { return }
            var logger = context.logger
            logger[metadataKey: "asset.id"] = "\(id)"
            try await relay.run(
                assetID: id, base: dependencies.links.base(for: context.request),
                inbound: inbound, outbound: outbound, logger: logger
            )
        }
        return router
    }
}
