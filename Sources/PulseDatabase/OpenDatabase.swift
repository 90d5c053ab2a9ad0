public import Logging
public import ServiceLifecycle

/// A database that is also a `Service`: put it first in the `ServiceGroup` so it stops last.
public typealias ServiceDatabase = Database & Service

/// Makes the engine a URL names, without connecting: the PostgreSQL pool needs `run()` running,
/// SQLite opens its file on first use.
public func makeDatabase(url: DatabaseURL, logger: Logger) throws -> any ServiceDatabase {
    switch url {
    case .sqliteFile, .sqliteMemory: return try SQLiteEngine(url: url, logger: logger)
    case .postgres: return try PostgresEngine(url: url, logger: logger)
    }
}

/// Opens the database a URL names for the length of `body`, for short-lived commands (`migrate`,
/// `submit`, `status`) that have no `ServiceGroup`: the engine's `run()` goes in a child task that is
/// cancelled (closing the pool or the file) when `body` ends.
public func withDatabase<T: Sendable>(
    url: DatabaseURL,
    logger: Logger,
    _ body: (any Database) async throws -> T
) async throws -> T {
    let database = try makeDatabase(url: url, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await database.run() }
        if let postgres = database as? PostgresEngine { await postgres.waitUntilRunning() }
        let result: Result<T, any Error>
        do {
            result = .success(try await body(database))
        } catch {
            result = .failure(error)
        }
        group.cancelAll()
        // Let run() finish (SQLite closes its file there) before returning.
        while let _ = try? await group.next() {}
        return try result.get()
    }
}

/// `withDatabase` for a URL string such as `PULSE_DATABASE_URL`.
public func withDatabase<T: Sendable>(
    url: String,
    logger: Logger,
    _ body: (any Database) async throws -> T
) async throws -> T {
    try await withDatabase(url: try DatabaseURL(url), logger: logger, body)
}
