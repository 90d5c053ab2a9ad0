public import Foundation
public import PulseDatabase
import PulseJobs
public import Testing

/// The engines a parameterised test runs on: SQLite always; PostgreSQL when
/// `PULSE_TEST_POSTGRES_URL` is set, or when `PULSE_REQUIRE_SERVICES=1` (then a missing URL fails).
public enum Engine: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    public var testDescription: String { self.rawValue }

    public static let all: [Engine] = TestServices.postgresURL != nil || TestServices.required ? [.sqlite, .postgres] : [.sqlite]
    public static let postgresOnly: [Engine] = TestServices.postgresURL != nil || TestServices.required ? [.postgres] : []
}

public struct MissingServiceError: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "PULSE_REQUIRE_SERVICES=1 but PULSE_TEST_POSTGRES_URL is not set" }
}

/// A fresh, empty place for one test: a SQLite file in its own temporary folder, or a PostgreSQL
/// schema of its own (dropped afterwards), so tests run in parallel without seeing each other.
public func withTestLocation<T: Sendable>(
    _ engine: Engine,
    _ body: (DatabaseURL) async throws -> T
) async throws -> T {
    switch engine {
    case .sqlite:
        return try await withTestFolder("pulse-jobs") { folder in try await body(.sqliteFile(path: folder + "/test.sqlite")) }
    case .postgres:
        guard let base = TestServices.postgresURL else { throw MissingServiceError() }
        let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        guard case .postgres(var location) = try DatabaseURL(base) else { throw MissingServiceError() }
        location.schema = String(schema)
        let result: Result<T, any Error>
        do {
            result = .success(try await body(.postgres(location)))
        } catch {
            result = .failure(error)
        }
        location.schema = nil
        _ = try await withDatabase(url: .postgres(location), logger: TestServices.logger) { database in
            // The schema name was generated above from hex digits: a plain identifier.
            try await database.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
        }
        return try result.get()
    }
}

/// `count` independent engines (own connection or pool each) on one location, running while `body`
/// runs; `make` opens each (the production default unless a test needs other engine settings).
public func withEngines<T: Sendable>(
    _ url: DatabaseURL,
    count: Int,
    make: (DatabaseURL) throws -> any ServiceDatabase = { try makeDatabase(url: $0, logger: TestServices.logger) },
    _ body: ([any ServiceDatabase]) async throws -> T
) async throws -> T {
    let engines = try (0..<count).map { _ in try make(url) }
    return try await withThrowingTaskGroup(of: Void.self) { group in
        for engine in engines {
            group.addTask { try await engine.run() }
            if let postgres = engine as? PostgresEngine { await postgres.waitUntilRunning() }
        }
        let result: Result<T, any Error>
        do {
            result = .success(try await body(engines))
        } catch {
            result = .failure(error)
        }
        group.cancelAll()
        while let _ = try? await group.next() {}
        return try result.get()
    }
}

/// One migrated database on a fresh location.
public func withTestDatabase<T: Sendable>(
    _ engine: Engine,
    _ body: (any Database) async throws -> T
) async throws -> T {
    try await withTestLocation(engine) { url in
        try await withEngines(url, count: 1) { engines in
            try await migrate(engines[0], logger: TestServices.logger)
            return try await body(engines[0])
        }
    }
}

/// Creates an asset to hang jobs and chunks on (foreign keys require one).
public func makeAsset(_ database: any Database, clock: ManualClock) async throws -> UUID {
    try await AssetRepository(database: database, clock: clock.clock)
        .create(NewAsset(status: .queued, filename: "clip.mp4", sourceKey: "uploads/x/clip.mp4"))
        .id
}
