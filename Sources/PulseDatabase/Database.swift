/// Which SQL engine a `Database` talks to, for the few statements that differ between them.
public enum SQLDialect: String, Sendable, Hashable {
    case sqlite
    case postgres
}

/// Runs SQL statements. Statements use `$1, $2, ...` placeholders on both engines; values are always
/// bound, never spliced into the text.
public protocol DatabaseExecutor: Sendable {
    /// The engine behind this executor.
    var dialect: SQLDialect { get }

    /// Runs a statement and returns its rows (use `RETURNING` to read what a write changed).
    func query(_ sql: String, _ binds: [DatabaseValue]) async throws -> [DatabaseRow]

    /// Runs a statement and returns how many rows it inserted, updated or deleted.
    @discardableResult
    func execute(_ sql: String, _ binds: [DatabaseValue]) async throws -> Int
}

/// A transaction in progress, lent to the body of `Database.transaction`. It must not escape the body.
public protocol DatabaseTransaction: DatabaseExecutor {}

/// A database: statements outside a transaction, and transactions.
///
/// On SQLite a transaction is `BEGIN IMMEDIATE` (it holds the write lock from the start, so a read
/// followed by a write cannot fail on a stale snapshot); on PostgreSQL it is `BEGIN` at READ COMMITTED.
/// Inside a transaction body use only the transaction it is given: calling the database itself from
/// there waits for the transaction on SQLite, which never ends.
public protocol Database: DatabaseExecutor {
    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    func transaction<T: Sendable>(
        _ body: (any DatabaseTransaction) async throws -> T
    ) async throws -> T
}

extension DatabaseExecutor {
    /// Runs a statement without binds.
    public func query(_ sql: String) async throws -> [DatabaseRow] {
        try await self.query(sql, [])
    }

    /// Runs a statement without binds, returning the number of rows changed.
    @discardableResult
    public func execute(_ sql: String) async throws -> Int {
        try await self.execute(sql, [])
    }

    /// Runs a statement and returns its first row, if any.
    public func queryFirst(_ sql: String, _ binds: [DatabaseValue] = []) async throws -> DatabaseRow? {
        try await self.query(sql, binds).first
    }
}
