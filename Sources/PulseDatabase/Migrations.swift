public import Logging

/// One step of the schema, applied once and recorded in `schema_migrations`.
public struct Migration: Sendable {
    /// Increasing number; never reuse or change an applied one, add a new step instead.
    public let version: Int
    /// A short description, stored with the version.
    public let name: String
    /// The statements, one per string (SQLite runs one statement per call), for an engine.
    public let statements: @Sendable (SQLDialect) -> [String]
}

/// Applies every migration not yet applied, in order, and returns the versions it applied.
///
/// Idempotent, and safe when several processes start at once: everything runs in one transaction
/// that first takes a PostgreSQL advisory lock (on SQLite, `BEGIN IMMEDIATE` already excludes every
/// other writer), so a second process waits and then finds nothing left to do. With a `?schema=`
/// URL the schema is created here too.
@discardableResult
public func migrate(
    _ database: any Database,
    clock: EpochClock = .system,
    logger: Logger
) async throws -> [Int] {
    let schema = (database as? PostgresEngine)?.schema
    do {
        let applied = try await database.transaction { transaction in
            try await applyPending(in: transaction, schema: schema, now: clock.now())
        }
        for version in applied {
            logger.info("applied migration", metadata: ["db.migration.version": "\(version)"])
        }
        return applied
    } catch let error as DatabaseError {
        throw DatabaseError(.migrationFailed, message: error.message, underlying: error)
    }
}

/// What the advisory lock that serializes migrations is named by: one lock per schema, since
/// migrations of different schemas touch nothing in common (and many test schemas, migrated at
/// once, would otherwise all queue behind one lock).
func migrationLockName(schema: String?) -> String {
    "pulse-video migrations " + (schema ?? "public")
}

private func applyPending(
    in transaction: any DatabaseTransaction,
    schema: String?,
    now: Double
) async throws -> [Int] {
    if transaction.dialect == .postgres {
        // Released at commit or rollback.
        _ = try await transaction.query(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [.text(migrationLockName(schema: schema))])
        if let schema {
            // Identifiers cannot be bound; DatabaseURL only accepts plain lowercase identifiers.
            precondition(DatabaseURL.isPlainIdentifier(schema))
            try await transaction.execute("CREATE SCHEMA IF NOT EXISTS \(schema)")
        }
    }
    try await transaction.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at DOUBLE PRECISION NOT NULL
        )
        """
    )
    let done = Set(
        try await transaction.query("SELECT version FROM schema_migrations").map { Int(try $0.int("version")) }
    )
    var applied: [Int] = []
    for migration in schemaMigrations where !done.contains(migration.version) {
        for statement in migration.statements(transaction.dialect) {
            try await transaction.execute(statement)
        }
        try await transaction.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            [.int(Int64(migration.version)), .text(migration.name), .double(now)]
        )
        applied.append(migration.version)
    }
    return applied
}
