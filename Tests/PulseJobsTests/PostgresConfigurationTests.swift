import Foundation
@testable import PulseDatabase
@testable import PulseJobs
import PulseTestSupport
import Testing

/// Makes a missing PostgreSQL visible in the test report instead of silently running SQLite only
/// (skipped, with the reason, when `PULSE_TEST_POSTGRES_URL` is unset on a local run). When it is set
/// or required (`PULSE_REQUIRE_SERVICES=1`), checks that PostgreSQL is really what the parameterised
/// tests get: the URL names a PostgreSQL server, every `Engine.all` test has its PostgreSQL case, and
/// a test location on it answers, on its own schema, with the migrations applied.
@Suite struct PostgresConfigurationTests {
    @Test(
        "PostgreSQL tests are configured and reach a server",
        .enabled(
            if: TestServices.postgresURL != nil || TestServices.required,
            "PULSE_TEST_POSTGRES_URL unset: PostgreSQL cases skipped"
        ),
        .timeLimit(.minutes(1))
    )
    func configured() async throws {
        let url = try #require(TestServices.postgresURL, "\(MissingServiceError())")
        let location = try #require(try DatabaseURL(url).postgresLocation, "PULSE_TEST_POSTGRES_URL is not a postgres:// URL")
        #expect(Engine.all == [.sqlite, .postgres])
        #expect(Engine.postgresOnly == [.postgres])

        try await withTestDatabase(.postgres) { database in
            #expect(database.dialect == .postgres)
            let row = try #require(
                try await database.queryFirst(
                    "SELECT version()::text AS version, current_user::text AS who, current_schema()::text AS schema, $1::bigint + 1 AS answer",
                    [.int(41)]
                ),
                "no row from PostgreSQL"
            )
            let version = try row.text("version")
            let schema = try row.text("schema")
            #expect(version.hasPrefix("PostgreSQL"), "version(): \(version)")
            #expect(try row.text("who") == location.username)
            // withTestLocation gives each test a schema of its own ("t_" + hex), never `public`.
            #expect(schema.hasPrefix("t_"), "current schema: \(schema)")
            #expect(try row.int("answer") == 42)
            let applied = try #require(try await database.queryFirst("SELECT COUNT(*) AS n FROM schema_migrations"))
            #expect(try applied.int("n") == Int64(schemaMigrations.count))
        }
    }
}
