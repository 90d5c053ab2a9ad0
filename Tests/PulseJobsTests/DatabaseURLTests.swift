@testable import PulseDatabase
@testable import PulseJobs
import Testing

extension DatabaseURL {
    /// The PostgreSQL location, or nil for SQLite: for `#require` in tests.
    var postgresLocation: PostgresLocation? {
        if case .postgres(let location) = self { return location }
        return nil
    }
}

@Suite struct DatabaseURLTests {
    @Test func parsesEveryForm() throws {
        #expect(try DatabaseURL("sqlite:///var/lib/pulse/pulse.sqlite") == .sqliteFile(path: "/var/lib/pulse/pulse.sqlite"))
        #expect(try DatabaseURL("sqlite://./data/pulse.sqlite") == .sqliteFile(path: "./data/pulse.sqlite"))
        #expect(try DatabaseURL("sqlite::memory:") == .sqliteMemory)
        let url = try DatabaseURL("postgres://pulse:p%40ss@db.local:6543/pulse_test?schema=t_abc")
        let location = try #require(url.postgresLocation, "not postgres: \(url)")
        #expect(location.host == "db.local")
        #expect(location.port == 6543)
        #expect(location.username == "pulse")
        #expect(location.password == "p@ss")
        #expect(location.database == "pulse_test")
        #expect(location.schema == "t_abc")
        #expect(url.description == "postgres://pulse@db.local:6543/pulse_test?schema=t_abc")
        let defaults = try #require(try DatabaseURL("postgresql://u@h/d").postgresLocation, "postgresql:// is not read as PostgreSQL")
        #expect(defaults.host == "h" && defaults.username == "u" && defaults.database == "d")
        #expect(defaults.port == 5432)
        #expect(defaults.password == nil)
        #expect(defaults.schema == nil)
    }

    @Test func refusesWhatItCannotUse() {
        for bad in ["mysql://x/y", "postgres://h", "postgres:///db", "sqlite:", "postgres://u@h/d?schema=a;drop", "postgres://u@h/d?schema=Upper"] {
            #expect(throws: DatabaseError.self, "\(bad)") { try DatabaseURL(bad) }
        }
    }

    @Test func rewritesPlaceholdersOutsideQuotesOnly() {
        #expect(PlaceholderRewriter.sqlite("SELECT $2, $10 WHERE a = '$1' AND \"$3\" = $1") == "SELECT ?2, ?10 WHERE a = '$1' AND \"$3\" = ?1")
    }
}
