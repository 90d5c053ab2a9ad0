public import Logging
import PulseSupport
public import ServiceLifecycle
import NIOCore
import SQLiteNIO
import Synchronization

/// The embedded database: one SQLite file (or memory, for tests) behind the `Database` protocol.
///
/// Each engine owns one connection and one thread, and runs one statement or transaction at a time
/// (first come, first served). Several processes may open the same file: WAL lets readers work while
/// one process writes, and `busy_timeout` makes a writer wait for another process's write lock
/// instead of failing at once. Transactions start with `BEGIN IMMEDIATE` so they hold the write lock
/// from their first statement.
///
/// The connection opens on first use; `close()` (or the end of `run()`) closes it. Statements run to
/// completion even when the calling task is cancelled (they are short), so a transaction is always
/// committed or rolled back.
public final class SQLiteEngine: Database, Service {
    public let dialect = SQLDialect.sqlite

    private let storage: SQLiteConnection.Storage
    private let busyTimeoutMilliseconds: Int
    private let logger: Logger
    private let gate = AsyncSerialLock()
    private let state = Mutex(OpenState())

    private struct OpenState {
        var connection: SQLiteConnection?
        var threadPool: NIOThreadPool?
        var isClosed = false
    }

    /// An engine for a SQLite URL (`.sqliteFile` or `.sqliteMemory`).
    /// - Parameter busyTimeout: how long a write waits for another process's write lock.
    public init(url: DatabaseURL, busyTimeout: Duration = .seconds(15), logger: Logger) throws {
        switch url {
        case .sqliteFile(let path): self.storage = .file(path: path)
        case .sqliteMemory: self.storage = .memory
        case .postgres: throw DatabaseError(.invalidURL, message: "not a sqlite URL: \(url)")
        }
        self.busyTimeoutMilliseconds = Int(busyTimeout.components.seconds * 1000)
            + Int(busyTimeout.components.attoseconds / 1_000_000_000_000_000)
        self.logger = logger
    }

    public func query(_ sql: String, _ binds: [DatabaseValue]) async throws -> [DatabaseRow] {
        try await self.withConnection { connection in
            try await Self.run(sql, binds, on: connection)
        }
    }

    @discardableResult
    public func execute(_ sql: String, _ binds: [DatabaseValue]) async throws -> Int {
        try await self.withConnection { connection in
            try await Self.runCountingChanges(sql, binds, on: connection)
        }
    }

    public func transaction<T: Sendable>(
        _ body: (any DatabaseTransaction) async throws -> T
    ) async throws -> T {
        try await self.withConnection { connection in
            _ = try await Self.run("BEGIN IMMEDIATE", [], on: connection)
            let result: T
            do {
                result = try await body(SQLiteTransaction(connection: connection))
            } catch {
                await Self.rollback(connection, logger: self.logger)
                throw error
            }
            do {
                _ = try await Self.run("COMMIT", [], on: connection)
            } catch {
                await Self.rollback(connection, logger: self.logger)
                throw error
            }
            return result
        }
    }

    /// Waits for graceful shutdown, then closes the connection. Lets the embedded database sit in a
    /// `ServiceGroup` next to the PostgreSQL one.
    public func run() async throws {
        try? await gracefulShutdown()
        try await self.close()
    }

    /// Closes the connection and its thread; later calls fail.
    public func close() async throws {
        try await self.gate.withLock {
            let (connection, pool) = self.state.withLock { state in
                state.isClosed = true
                defer { state.connection = nil; state.threadPool = nil }
                return (state.connection, state.threadPool)
            }
            try await connection?.close().get()
            if let pool { await Self.shutDown(pool) }
        }
    }

    // MARK: - Connection

    private func withConnection<T: Sendable>(
        _ body: (SQLiteConnection) async throws -> T
    ) async throws -> T {
        try await self.gate.withLock {
            let connection = try await self.openIfNeeded()
            return try await body(connection)
        }
    }

    /// Called with the gate held, so at most one open runs.
    private func openIfNeeded() async throws -> SQLiteConnection {
        let (existing, isClosed) = self.state.withLock { ($0.connection, $0.isClosed) }
        if isClosed { throw DatabaseError(.unavailable, message: "the SQLite engine is closed") }
        if let existing { return existing }

        // One thread of our own: a statement waiting out busy_timeout blocks its thread, and on a
        // shared pool it could block the thread the lock holder needs to commit.
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let connection: SQLiteConnection
        do {
            let opening: EventLoopFuture<SQLiteConnection> = SQLiteConnection.open(
                storage: self.storage,
                threadPool: pool,
                logger: self.logger,
                on: MultiThreadedEventLoopGroup.singleton.any()
            )
            connection = try await opening.get()
        } catch {
            await Self.shutDown(pool)
            throw Self.map(error, sql: "open")
        }
        do {
            // PRAGMA values cannot be bound; the timeout is an integer from our own configuration.
            _ = try await Self.run("PRAGMA busy_timeout = \(self.busyTimeoutMilliseconds)", [], on: connection)
            if case .file = self.storage {
                _ = try await Self.run("PRAGMA journal_mode = WAL", [], on: connection)
            }
            // FULL: a committed checkpoint survives power loss, which the queue promises.
            _ = try await Self.run("PRAGMA synchronous = FULL", [], on: connection)
            _ = try await Self.run("PRAGMA foreign_keys = ON", [], on: connection)
        } catch {
            try? await connection.close().get()
            await Self.shutDown(pool)
            throw error
        }
        self.state.withLock {
            $0.connection = connection
            $0.threadPool = pool
        }
        self.logger.debug("opened SQLite database", metadata: ["db.storage": "\(self.storage)"])
        return connection
    }

    /// Waits for the pool's thread to stop, whether or not the calling task is cancelled.
    private static func shutDown(_ pool: NIOThreadPool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            pool.shutdownGracefully { _ in continuation.resume() }
        }
    }

    private static func rollback(_ connection: SQLiteConnection, logger: Logger) async {
        do {
            _ = try await Self.run("ROLLBACK", [], on: connection)
        } catch {
            // SQLite may already have rolled back (e.g. after SQLITE_FULL); nothing more to do.
            logger.debug("rollback failed", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - Statements

    static func run(_ sql: String, _ binds: [DatabaseValue], on connection: SQLiteConnection) async throws
        -> [DatabaseRow]
    {
        let statement = PlaceholderRewriter.sqlite(sql)
        do {
            // The future-based call on purpose: the async one is dropped from the thread pool when
            // the task is cancelled, which could leave a transaction open or a ROLLBACK unrun.
            // Statements are short, so a cancelled task simply finishes them.
            let pending: EventLoopFuture<[SQLiteRow]> = connection.query(statement, binds.map(Self.sqliteData))
            let rows = try await pending.get()
            return rows.map(Self.row)
        } catch {
            throw Self.map(error, sql: sql)
        }
    }

    /// `changes()` belongs to the connection, and the gate guarantees no other statement ran between.
    static func runCountingChanges(
        _ sql: String,
        _ binds: [DatabaseValue],
        on connection: SQLiteConnection
    ) async throws -> Int {
        _ = try await Self.run(sql, binds, on: connection)
        let rows = try await Self.run("SELECT changes() AS n", [], on: connection)
        return Int(try rows.first?.int("n") ?? 0)
    }

    private static func sqliteData(_ value: DatabaseValue) -> SQLiteData {
        switch value {
        case .null: return .null
        case .int(let value): return .integer(SQLiteInt64(value))
        case .double(let value): return .float(value)
        case .text(let value): return .text(value)
        case .bool(let value): return .integer(value ? 1 : 0)
        }
    }

    private static func row(_ row: SQLiteRow) -> DatabaseRow {
        let columns = row.columns
        return DatabaseRow(
            columns: columns.map(\.name),
            values: columns.map { column in
                switch column.data {
                case .null: return .null
                case .integer(let value): return .int(Int64(value))
                case .float(let value): return .double(value)
                case .text(let value): return .text(value)
                case .blob(let buffer): return .text(String(buffer: buffer))
                }
            }
        )
    }

    private static func map(_ error: any Error, sql: String) -> any Error {
        guard let error = error as? SQLiteError else { return error }
        let code: DatabaseError.Code
        switch error.reason {
        case .busy, .busyTimeout, .busyInRecovery, .busyInSnapshot, .locked:
            code = .busy
        case .constraint, .constraintCheckFailed, .constraintForeignKeyFailed, .constraintNotNullFailed,
            .constraintPrimaryKeyFailed, .constraintUniqueFailed, .constraintUniqueRowIDFailed:
            code = .constraintViolation
        case .cantOpen, .cantOpenDirectory, .cantOpenInvalidPath, .ioError, .full, .readOnly:
            code = .unavailable
        default:
            code = .queryFailed
        }
        return DatabaseError(code, message: "\(error.message) [\(sql.prefix(120))]", underlying: error)
    }
}

/// A SQLite transaction: statements go straight to the connection the engine's gate already holds.
struct SQLiteTransaction: DatabaseTransaction {
    let connection: SQLiteConnection
    var dialect: SQLDialect { .sqlite }

    func query(_ sql: String, _ binds: [DatabaseValue]) async throws -> [DatabaseRow] {
        try await SQLiteEngine.run(sql, binds, on: self.connection)
    }

    @discardableResult
    func execute(_ sql: String, _ binds: [DatabaseValue]) async throws -> Int {
        try await SQLiteEngine.runCountingChanges(sql, binds, on: self.connection)
    }
}
