import Foundation
import Logging
import PulseJobs
import Testing

/// The engines a parameterised test runs on: SQLite always; PostgreSQL when
/// `PULSE_TEST_POSTGRES_URL` is set, or when `PULSE_REQUIRE_SERVICES=1` (then a missing URL fails).
enum Engine: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { self.rawValue }

    static let all: [Engine] = TestServices.postgresURL != nil || TestServices.required ? [.sqlite, .postgres] : [.sqlite]
    static let postgresOnly: [Engine] = TestServices.postgresURL != nil || TestServices.required ? [.postgres] : []
}

enum TestServices {
    static let postgresURL = ProcessInfo.processInfo.environment["PULSE_TEST_POSTGRES_URL"].flatMap {
        $0.isEmpty ? nil : $0
    }
    static let required = ProcessInfo.processInfo.environment["PULSE_REQUIRE_SERVICES"] == "1"
    static let logger: Logger = {
        var logger = Logger(label: "pulse-jobs-tests")
        logger.logLevel = .warning
        return logger
    }()
}

struct MissingServiceError: Error, CustomStringConvertible {
    var description: String { "PULSE_REQUIRE_SERVICES=1 but PULSE_TEST_POSTGRES_URL is not set" }
}

/// A fresh, empty place for one test: a SQLite file in its own temporary folder, or a PostgreSQL
/// schema of its own (dropped afterwards), so tests run in parallel without seeing each other.
func withTestLocation<T: Sendable>(
    _ engine: Engine,
    _ body: (DatabaseURL) async throws -> T
) async throws -> T {
    switch engine {
    case .sqlite:
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("pulse-jobs-\(UUID().uuidString.lowercased())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        return try await body(.sqliteFile(path: folder.appendingPathComponent("test.sqlite").path))
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
        try await withDatabase(url: .postgres(location), logger: TestServices.logger) { database in
            // The schema name was generated above from hex digits: a plain identifier.
            try await database.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
        }
        return try result.get()
    }
}

/// `count` independent engines (own connection or pool each) on one location, running while `body` runs.
func withEngines<T: Sendable>(
    _ url: DatabaseURL,
    count: Int,
    _ body: ([any ServiceDatabase]) async throws -> T
) async throws -> T {
    let engines = try (0..<count).map { _ in try makeDatabase(url: url, logger: TestServices.logger) }
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
func withTestDatabase<T: Sendable>(
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
func makeAsset(_ database: any Database, clock: ManualClock) async throws -> UUID {
    try await AssetRepository(database: database, clock: clock.clock)
        .create(NewAsset(status: .queued, filename: "clip.mp4", sourceKey: "uploads/x/clip.mp4"))
        .id
}

/// Runs `operation`, failing if it takes longer than `timeout`.
func withTimeout<T: Sendable>(
    _ timeout: Duration,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw TimeoutError(timeout: timeout)
        }
        return value
    }
}

struct TimeoutError: Error, CustomStringConvertible {
    let timeout: Duration
    var description: String { "timed out after \(self.timeout)" }
}
