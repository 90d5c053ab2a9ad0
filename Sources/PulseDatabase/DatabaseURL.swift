import Foundation

/// Where the database lives, parsed from `PULSE_DATABASE_URL`.
///
/// - `sqlite:///abs/path.sqlite` (or `sqlite://relative/path.sqlite`): a file, shared safely by several
///   processes on one machine.
/// - `sqlite::memory:`: a private in-memory database, for tests.
/// - `postgres://user:pass@host:port/db[?schema=NAME]` (or `postgresql://`): a server; `schema`
///   puts every table in that schema (created by `migrate`), so tests can share one database.
public enum DatabaseURL: Sendable, Hashable, CustomStringConvertible {
    case sqliteFile(path: String)
    case sqliteMemory
    case postgres(PostgresLocation)

    /// A PostgreSQL server, database and optional schema.
    public struct PostgresLocation: Sendable, Hashable {
        public var host: String
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String
        /// The schema to use instead of `public`: a plain lowercase identifier.
        public var schema: String?
    }

    /// Parses a database URL; throws `DatabaseError.Code.invalidURL` with the reason.
    public init(_ string: String) throws {
        if string.hasPrefix("sqlite:") {
            var rest = String(string.dropFirst("sqlite:".count))
            if rest == ":memory:" {
                self = .sqliteMemory
                return
            }
            if rest.hasPrefix("//") { rest.removeFirst(2) }
            guard !rest.isEmpty else {
                throw DatabaseError(.invalidURL, message: "sqlite URL without a path")
            }
            self = .sqliteFile(path: rest)
            return
        }
        guard let components = URLComponents(string: string),
            let scheme = components.scheme, scheme == "postgres" || scheme == "postgresql"
        else {
            throw DatabaseError(.invalidURL, message: "expected sqlite:// or postgres:// URL")
        }
        guard let host = components.host, !host.isEmpty else {
            throw DatabaseError(.invalidURL, message: "postgres URL without a host")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else {
            throw DatabaseError(.invalidURL, message: "postgres URL without a database name")
        }
        let schema = components.queryItems?.first(where: { $0.name == "schema" })?.value
        if let schema, !Self.isPlainIdentifier(schema) {
            throw DatabaseError(
                .invalidURL,
                message: "schema must be lowercase letters, digits and underscores, not starting with a digit"
            )
        }
        self = .postgres(
            PostgresLocation(
                host: host,
                port: components.port ?? 5432,
                username: components.user?.removingPercentEncoding ?? "postgres",
                password: components.password?.removingPercentEncoding,
                database: database,
                schema: schema
            )
        )
    }

    /// The engine this URL selects.
    public var dialect: SQLDialect {
        switch self {
        case .sqliteFile, .sqliteMemory: return .sqlite
        case .postgres: return .postgres
        }
    }

    /// The URL without its password, for logs.
    public var description: String {
        switch self {
        case .sqliteFile(let path): return "sqlite://\(path)"
        case .sqliteMemory: return "sqlite::memory:"
        case .postgres(let location):
            let schema = location.schema.map { "?schema=\($0)" } ?? ""
            return "postgres://\(location.username)@\(location.host):\(location.port)/\(location.database)\(schema)"
        }
    }

    /// Identifiers cannot be bound as parameters, so a schema name is only accepted when it needs no
    /// quoting at all; that keeps it safe to place in `CREATE SCHEMA` and `search_path`.
    static func isPlainIdentifier(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 63 else { return false }
        func isLetter(_ byte: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || byte == UInt8(ascii: "_") }
        func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        return isLetter(first) && bytes.allSatisfy { isLetter($0) || isDigit($0) }
    }
}
