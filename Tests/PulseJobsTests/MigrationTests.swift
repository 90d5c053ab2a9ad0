import Foundation
@testable import PulseDatabase
@testable import PulseJobs
import PulseTestSupport
import Testing

@Suite struct MigrationTests {
    @Test(arguments: Engine.all)
    func migratingTwiceAppliesEachStepOnce(engine: Engine) async throws {
        try await withTestLocation(engine) { url in
            try await withEngines(url, count: 1) { engines in
                let first = try await migrate(engines[0], logger: TestServices.logger)
                let second = try await migrate(engines[0], logger: TestServices.logger)
                #expect(first == schemaMigrations.map(\.version))
                #expect(second.isEmpty)
                let rows = try await engines[0].query("SELECT COUNT(*) AS n FROM schema_migrations")
                #expect(try rows[0].int("n") == Int64(schemaMigrations.count))
            }
        }
    }

    @Test(arguments: Engine.all)
    func concurrentMigrationsFromSeparateConnectionsApplyOnce(engine: Engine) async throws {
        try await withTestLocation(engine) { url in
            // SQLite's writers queue on the file lock for busy_timeout; with the whole suite starting
            // at once on two cores, three migrations in a row can take longer than its 15 s default.
            let patient: (DatabaseURL) throws -> any ServiceDatabase = { url in
                if case .postgres = url { return try makeDatabase(url: url, logger: TestServices.logger) }
                return try SQLiteEngine(url: url, busyTimeout: .seconds(120), logger: TestServices.logger)
            }
            try await withEngines(url, count: 3, make: patient) { engines in
                let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                    for engine in engines {
                        group.addTask { try await migrate(engine, logger: TestServices.logger) }
                    }
                    return try await group.reduce(into: [Int]()) { $0 += $1 }
                }
                #expect(applied.sorted() == schemaMigrations.map(\.version))
            }
        }
    }

    @Test(arguments: Engine.all)
    func transactionRollsBackWhenTheBodyThrows(engine: Engine) async throws {
        struct Boom: Error {}
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            await #expect(throws: Boom.self) {
                try await database.transaction { transaction in
                    try await transaction.execute(
                        "INSERT INTO assets (id, status, created_at, updated_at) VALUES ($1, 'queued', $2, $2)",
                        [.text(UUID().uuidString.lowercased()), .double(clock.now)]
                    )
                    throw Boom()
                }
            }
            let rows = try await database.query("SELECT COUNT(*) AS n FROM assets")
            #expect(try rows[0].int("n") == 0)
        }
    }

    @Test(arguments: Engine.all)
    func valuesRoundTripWithPlaceholdersInAnyOrder(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let row = try #require(
                try await database.queryFirst(
                    "SELECT $2 AS b, $1 AS a, $3 AS c, $4 AS d, $2 || '$1' AS e",
                    [.int(7), .text("x"), .double(1.5), .null]
                )
            )
            #expect(try row.int("a") == 7)
            #expect(try row.text("b") == "x")
            #expect(try row.double("c") == 1.5)
            #expect(row["d"].isNull)
            #expect(try row.text("e") == "x$1")
        }
    }

    @Test(arguments: Engine.all)
    func constraintViolationsHaveTheirCode(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let id = UUID().uuidString.lowercased()
            let insert = "INSERT INTO assets (id, status, created_at, updated_at) VALUES ($1, 'queued', 1, 1)"
            try await database.execute(insert, [.text(id)])
            do {
                try await database.execute(insert, [.text(id)])
                Issue.record("duplicate id accepted")
            } catch let error as DatabaseError {
                #expect(error.code == .constraintViolation)
            }
        }
    }

    @Test(arguments: Engine.all)
    func cancellationMidTransactionLeavesItAtomicAndTheEngineUsable(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let insert = "INSERT INTO assets (id, status, created_at, updated_at) VALUES ($1, 'queued', 1, 1)"
            let task = Task {
                try await database.transaction { transaction in
                    try await transaction.execute(insert, [.text(UUID().uuidString.lowercased())])
                    withUnsafeCurrentTask { $0?.cancel() }
                    try await transaction.execute(insert, [.text(UUID().uuidString.lowercased())])
                }
            }
            _ = await task.result
            let count = try await database.query("SELECT COUNT(*) AS n FROM assets")[0].int("n")
            #expect(count == 0 || count == 2)
            try await database.transaction { transaction in
                try await transaction.execute(insert, [.text(UUID().uuidString.lowercased())])
            }
            #expect(try await database.query("SELECT COUNT(*) AS n FROM assets")[0].int("n") == count + 1)
        }
    }

    @Test func withDatabaseOpensMigratesAndClosesASQLiteFile() async throws {
        try await withTestLocation(.sqlite) { url in
            let id = try await withDatabase(url: url, logger: TestServices.logger) { database in
                try await migrate(database, logger: TestServices.logger)
                return try await AssetRepository(database: database).create(NewAsset(filename: "kept.mp4")).id
            }
            // A second opening (as a second process would) sees the committed asset.
            let asset = try await withDatabase(url: "sqlite://\(url.description.dropFirst("sqlite://".count))", logger: TestServices.logger) { database in
                try await AssetRepository(database: database).get(id)
            }
            #expect(asset?.filename == "kept.mp4")
            let memory = try await withDatabase(url: "sqlite::memory:", logger: TestServices.logger) { database in
                try await migrate(database, logger: TestServices.logger)
            }
            #expect(memory == schemaMigrations.map(\.version))
        }
    }
}
