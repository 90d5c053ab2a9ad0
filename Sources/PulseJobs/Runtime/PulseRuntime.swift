import Foundation
public import Logging
public import PulseDatabase
public import PulseStorage
public import ServiceLifecycle

/// The shared parts every Pulse process needs, made from one `RuntimeConfiguration`: the database,
/// the object store and the event bus (in-process on SQLite, LISTEN/NOTIFY on PostgreSQL).
public struct PulseRuntime: Sendable {
    public let configuration: RuntimeConfiguration
    public let database: any ServiceDatabase
    public let store: any ObjectStore
    public let bus: any EventBus
    /// Signs local storage URLs (nil with S3, whose URLs are presigned by S3 itself).
    public let localURLSigner: LocalURLSigner?
    /// Long-running parts for the `ServiceGroup`, in start order (database first, so it stops last).
    public let services: [any Service]
    /// The asset operations (create, uploaded, submit, delete) on this runtime's parts.
    public let lifecycle: AssetLifecycle

    public init(configuration: RuntimeConfiguration, logger: Logger) throws {
        self.configuration = configuration
        try configuration.makeDirectories()
        // The database URL picks the engine and the bus together: NOTIFY needs PostgreSQL, and
        // SQLite's processes share no memory, so its events stay in this one.
        switch configuration.databaseURL {
        case .postgres:
            let engine = try PostgresEngine(url: configuration.databaseURL, logger: logger)
            let bus = PostgresEventBus(engine: engine, logger: logger)
            self.database = engine
            self.bus = bus
            self.services = [engine, bus]
        case .sqliteFile, .sqliteMemory:
            let engine = try SQLiteEngine(url: configuration.databaseURL, logger: logger)
            self.database = engine
            self.bus = InProcessEventBus()
            self.services = [engine]
        }
        if case .folder = configuration.storageURL {
            let secret = try configuration.persistentSecret(named: "storage-url-secret")
            self.localURLSigner = try LocalURLSigner(secret: secret, baseURL: configuration.publicURL + "/storage")
        } else {
            self.localURLSigner = nil
        }
        self.store = try makeObjectStore(url: configuration.storageURL, s3: configuration.s3, localURLSigner: localURLSigner, logger: logger)
        let queue = JobQueue(database: database)
        self.lifecycle = AssetLifecycle(
            assets: AssetRepository(database: database, clock: queue.clock), queue: queue, store: store, bus: bus, logger: logger)
    }

    /// Runs the runtime's services around `body`, for commands without a `ServiceGroup`.
    public func run<T: Sendable>(_ body: @Sendable (PulseRuntime) async throws -> T) async throws -> T {
        let services = self.services
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services { group.addTask { try await service.run() } }
            let result: Result<T, any Error>
            do { result = .success(try await body(self)) } catch { result = .failure(error) }
            group.cancelAll()
            while let _ = try? await group.next() {}
            return try result.get()
        }
    }
}
