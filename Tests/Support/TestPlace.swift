public import Foundation
public import PulseDatabase
public import PulseJobs
public import PulseStorage

/// Everything a test of assets and jobs stands on: a migrated database, a store, the repositories
/// over them on one clock, an in-process event bus, and the lifecycle that writes asset state.
/// The same setup for the jobs' unit tests (SQLite or PostgreSQL, a local folder) and the process
/// tests (PostgreSQL, an S3 bucket).
public struct TestPlace: Sendable {
    /// The migrated database.
    public let database: any Database
    /// The clock the repositories stamp rows with (a `ManualClock`'s, to move time by hand).
    public let clock: EpochClock
    /// The store the code under test writes to.
    public let store: any ObjectStore
    /// Where the lifecycle and the reaper announce changes; subscribe to hear them.
    public let bus: InProcessEventBus
    /// The assets' rows, on `clock`.
    public let assets: AssetRepository
    /// The jobs' rows, on `clock`.
    public let queue: JobQueue
    /// The one writer of asset state, over this place's repositories, store and bus.
    public let lifecycle: AssetLifecycle

    /// A place over `database` (already migrated) and `store`.
    public init(database: any Database, store: any ObjectStore, clock: EpochClock = .system, bus: InProcessEventBus = InProcessEventBus()) {
        self.database = database
        self.clock = clock
        self.store = store
        self.bus = bus
        self.assets = AssetRepository(database: database, clock: clock)
        self.queue = JobQueue(database: database, clock: clock)
        self.lifecycle = AssetLifecycle(assets: assets, queue: queue, store: store, bus: bus, logger: TestServices.logger)
    }

    /// A reaper over this place, with `configuration`.
    public func reaper(_ configuration: ReaperConfiguration = ReaperConfiguration()) -> Reaper {
        Reaper(database: database, store: store, bus: bus, configuration: configuration, queue: queue, logger: TestServices.logger)
    }

    /// Waits until asset `id` is `ready` or `failed`; the asset then.
    public func waitForTerminal(_ id: UUID, timeout: Duration, context: () -> String = { "" }) async throws -> Asset {
        try await waitFor("asset \(id) to be ready or failed", timeout: timeout, interval: .milliseconds(100), context: context) {
            guard let asset = try await assets.get(id), asset.status.isTerminal else { return nil }
            return asset
        }
    }
}

/// A new empty folder under the temporary directory, named `prefix` and a random part, removed
/// after `body`.
public func withTestFolder<T: Sendable>(_ prefix: String, _ body: (String) async throws -> T) async throws -> T {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.lowercased())").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    return try await body(folder)
}

/// A place on a fresh database of `engine` (`withTestDatabase`) with a local store in a folder of
/// its own, both removed afterwards.
public func withTestPlace<T: Sendable>(
    _ engine: Engine,
    clock: EpochClock = .system,
    _ body: (TestPlace) async throws -> T
) async throws -> T {
    try await withTestDatabase(engine) { database in
        try await withTestFolder("pulse-place") { folder in
            let store = try LocalStore(root: folder, logger: TestServices.logger)
            return try await body(TestPlace(database: database, store: store, clock: clock))
        }
    }
}
