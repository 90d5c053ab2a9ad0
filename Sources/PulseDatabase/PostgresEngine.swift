public import Logging
import Foundation
import NIOCore
public import PostgresNIO
public import ServiceLifecycle

/// The scale-out database: a PostgreSQL server behind the `Database` protocol.
///
/// It is a `Service`: `run()` runs the connection pool and must be running (in a `ServiceGroup`, or
/// through `withDatabase`) while the engine is used. Connections are only ever borrowed inside
/// `withConnection`/`withTransaction`, so they always go back to the pool.
public final class PostgresEngine: Database, Service {
    public let dialect = SQLDialect.postgres

    /// The pool, for parts that need a connection of their own (the event bus's LISTEN).
    public let client: PostgresClient
    /// The schema named in the URL, created by `migrate`; nil means the server's default.
    public let schema: String?
    let logger: Logger
    private let running = ReadinessSignal()

    /// An engine for a `postgres://` URL.
    /// - Parameter maximumConnections: the pool's size; the event bus holds one connection for LISTEN.
    public init(url: DatabaseURL, maximumConnections: Int = 10, logger: Logger) throws {
        guard case .postgres(let location) = url else {
            throw DatabaseError(.invalidURL, message: "not a postgres URL: \(url)")
        }
        // TLS would need NIOSSL's configuration types, which this target does not depend on yet.
        var configuration = PostgresClient.Configuration(
            host: location.host,
            port: location.port,
            username: location.username,
            password: location.password,
            database: location.database,
            tls: .disable
        )
        configuration.options.maximumConnections = maximumConnections
        // Named in pg_stat_activity, so an operator (or a test) can tell these connections apart.
        configuration.options.additionalStartupParameters = [("application_name", Self.applicationName(schema: location.schema))]
        if let schema = location.schema {
            // A startup parameter, so every pooled connection resolves unqualified names in the
            // schema (and `public` for extensions), with no per-connection statement to forget.
            configuration.options.additionalStartupParameters.append(("search_path", "\(schema), public"))
        }
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.schema = location.schema
        self.logger = logger
    }

    /// The `application_name` of this service's connections: `pulse-video`, followed by the schema
    /// when the URL names one.
    public static func applicationName(schema: String?) -> String {
        schema.map { "pulse-video \($0)" } ?? "pulse-video"
    }

    /// Runs the connection pool until cancelled or graceful shutdown.
    public func run() async throws {
        // Set just before the client marks itself running (synchronously, before its first
        // suspension), so waiters rarely lease before it and trigger its "run() not called" warning.
        self.running.set(true)
        await self.client.run()
    }

    /// Returns once `run()` has started (or the calling task is cancelled). Optional: leasing before
    /// then works too, it only logs a warning.
    public func waitUntilRunning() async {
        await self.running.wait()
    }

    public func query(_ sql: String, _ binds: [DatabaseValue]) async throws -> [DatabaseRow] {
        try await self.client.withConnection { connection in
            try await Self.run(sql, binds, on: connection, logger: self.logger).rows
        }
    }

    @discardableResult
    public func execute(_ sql: String, _ binds: [DatabaseValue]) async throws -> Int {
        try await self.client.withConnection { connection in
            try await Self.run(sql, binds, on: connection, logger: self.logger).affected
        }
    }

    public func transaction<T: Sendable>(
        _ body: (any DatabaseTransaction) async throws -> T
    ) async throws -> T {
        do {
            return try await self.client.withTransaction(logger: self.logger) { connection in
                try await body(PostgresTransaction(connection: connection, logger: self.logger))
            }
        } catch let error as PostgresTransactionError {
            // Surface the body's own error (e.g. a DatabaseError) rather than the wrapper.
            if let closureError = error.closureError { throw closureError }
            throw Self.map(error.beginError ?? error.commitError ?? error, sql: "transaction")
        }
    }

    // MARK: - Statements

    static func run(
        _ sql: String,
        _ binds: [DatabaseValue],
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> (rows: [DatabaseRow], affected: Int) {
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case .null: bindings.appendNull()
            case .int(let value): bindings.append(value)
            case .double(let value): bindings.append(value)
            case .text(let value): bindings.append(value)
            case .bool(let value): bindings.append(value)
            }
        }
        let query = PostgresQuery(unsafeSQL: sql, binds: bindings)
        do {
            // The future-based call is the one that hands back the command tag (rows affected).
            let result = try await connection.query(query, logger: logger).get()
            let rows = try result.rows.map(Self.row)
            return (rows, result.metadata.rows ?? rows.count)
        } catch {
            throw Self.map(error, sql: sql)
        }
    }

    private static func row(_ row: PostgresRow) throws -> DatabaseRow {
        var columns: [String] = []
        var values: [DatabaseValue] = []
        columns.reserveCapacity(row.count)
        values.reserveCapacity(row.count)
        for cell in row {
            columns.append(cell.columnName)
            values.append(try Self.value(cell))
        }
        return DatabaseRow(columns: columns, values: values)
    }

    private static func value(_ cell: PostgresCell) throws -> DatabaseValue {
        if cell.bytes == nil { return .null }
        do {
            switch cell.dataType {
            case .int2: return .int(Int64(try cell.decode(Int16.self)))
            case .int4: return .int(Int64(try cell.decode(Int32.self)))
            case .int8: return .int(try cell.decode(Int64.self))
            case .float4: return .double(Double(try cell.decode(Float.self)))
            case .float8: return .double(try cell.decode(Double.self))
            case .numeric:
                let text = try cell.decode(String.self)
                guard let number = Double(text) else { break }
                return .double(number)
            case .bool: return .bool(try cell.decode(Bool.self))
            case .uuid: return .text(try cell.decode(UUID.self).uuidString.lowercased())
            default: return .text(try cell.decode(String.self))
            }
        } catch {
            throw DatabaseError(
                .decoding,
                message: "column \(cell.columnName) of type \(cell.dataType) could not be read",
                underlying: error
            )
        }
        throw DatabaseError(.decoding, message: "column \(cell.columnName) could not be read")
    }

    static func map(_ error: any Error, sql: String) -> any Error {
        guard let error = error as? PSQLError else { return error }
        let code: DatabaseError.Code
        let message: String
        if error.code == .server, let info = error.serverInfo {
            let state = info[.sqlState] ?? ""
            message = "\(info[.message] ?? "server error") (SQLSTATE \(state)) [\(sql.prefix(120))]"
            if state.hasPrefix("23") {
                code = .constraintViolation
            } else if state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300" {
                // connection exceptions, admin shutdown / cannot connect now, too many connections
                code = .unavailable
            } else {
                code = .queryFailed
            }
        } else {
            message = "\(error.code) [\(sql.prefix(120))]"
            code = error.code == .tooManyParameters || error.code == .invalidCommandTag ? .queryFailed : .unavailable
        }
        return DatabaseError(code, message: message, underlying: error)
    }
}

/// A PostgreSQL transaction on the connection `withTransaction` lent.
struct PostgresTransaction: DatabaseTransaction {
    let connection: PostgresConnection
    let logger: Logger
    var dialect: SQLDialect { .postgres }

    func query(_ sql: String, _ binds: [DatabaseValue]) async throws -> [DatabaseRow] {
        try await PostgresEngine.run(sql, binds, on: self.connection, logger: self.logger).rows
    }

    @discardableResult
    func execute(_ sql: String, _ binds: [DatabaseValue]) async throws -> Int {
        try await PostgresEngine.run(sql, binds, on: self.connection, logger: self.logger).affected
    }
}
