import PulseDatabase

/// Who holds one leased row, and from which claim: the fence every write after the claim checks,
/// so a holder whose lease expired and was taken over cannot touch the new holder's work.
struct Lease: Sendable, Hashable {
    /// The row's id.
    var id: DatabaseValue
    /// The holder named at the claim (nil: never claimed, so no write matches).
    var owner: String?
    /// The row's attempt count after the claim: a later claim, even by the same owner, counts
    /// another, so the earlier holder no longer matches.
    var attempt: Int
}

/// A table of work taken under leases (`jobs`, `webhook_outbox`): the claim, the fence, renewal
/// and the lease's end, written once for both engines.
///
/// The table has `id`, `status`, `attempts`, `lease_owner` and `lease_expires_at` columns. Every
/// fragment of SQL here, and every one a caller passes in, is fixed text of this module; values
/// are bound parameters only.
struct LeasedTable: Sendable {
    /// The table's name.
    let name: String
    /// The columns a claim returns.
    let columns: String
    /// The status of a row while it is leased (`running` jobs, `pending` messages).
    let heldStatus: String
    /// What makes a row claimable, in terms of `$3` (now).
    let ready: String
    /// The order rows are claimed in (a unique order: ties broken by `id`).
    let order: String
    /// The column stamped with the time of every write under the lease, if the table has one.
    let updatedAt: String?
    /// Further assignments every claim makes (fixed, no binds), e.g. clearing what described the
    /// previous lease; empty for none.
    var claimed: String = ""

    /// Runs `body` as a claim must: on PostgreSQL on the pool, each statement atomic by itself
    /// (`FOR UPDATE SKIP LOCKED` keeps concurrent claimers apart without waiting, and a
    /// transaction would only add round trips); on SQLite in one `BEGIN IMMEDIATE` transaction,
    /// which admits one writer at a time.
    static func claiming<T: Sendable>(
        on database: any Database,
        _ body: @Sendable (any DatabaseExecutor) async throws -> T
    ) async throws -> T {
        switch database.dialect {
        case .postgres: try await body(database)
        case .sqlite: try await database.transaction { try await body($0) }
        }
    }

    /// Leases the first ready row (in `order`) to `owner` until `expiry`, counting one more
    /// attempt, in one `UPDATE ... WHERE id = (SELECT ... LIMIT 1) RETURNING` statement. Returns
    /// the row as claimed, or nil when none is ready.
    func claim(on executor: any DatabaseExecutor, owner: String, until expiry: Double, now: Double) async throws -> DatabaseRow? {
        let skipLocked = executor.dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        let stamp = (self.updatedAt.map { ", \($0) = $3" } ?? "") + (self.claimed.isEmpty ? "" : ", " + self.claimed)
        return try await executor.query(
            """
            UPDATE \(self.name)
            SET status = '\(self.heldStatus)', lease_owner = $1, lease_expires_at = $2, attempts = attempts + 1\(stamp)
            WHERE id = (
                SELECT id FROM \(self.name)
                WHERE \(self.ready)
                ORDER BY \(self.order)
                LIMIT 1\(skipLocked)
            )
            RETURNING \(self.columns)
            """,
            [.text(owner), .double(expiry), .double(now)]
        ).first
    }

    /// The condition that `lease` is still held, on this table's rows, its binds numbered from
    /// `$first`.
    func held(_ lease: Lease, from first: Int) -> (sql: String, binds: [DatabaseValue]) {
        (
            "id = $\(first) AND lease_owner = $\(first + 1) AND attempts = $\(first + 2) AND status = '\(self.heldStatus)'",
            [lease.id, DatabaseValue(lease.owner), .int(Int64(lease.attempt))]
        )
    }

    /// The same condition for a statement on another table, so that a write the holder makes
    /// elsewhere (a checkpoint) lands only while the lease is held, in the same statement.
    func stillHeld(_ lease: Lease, from first: Int) -> (sql: String, binds: [DatabaseValue]) {
        let held = self.held(lease, from: first)
        return ("EXISTS (SELECT 1 FROM \(self.name) WHERE \(held.sql))", held.binds)
    }

    /// `UPDATE <table> SET <assignments> WHERE <the lease is held> RETURNING <returning>`: the
    /// lease binds `$1` to `$3`, `binds` follow from `$4`, and the updated-at column (if any) is
    /// set to `now`. Returns the row as changed, or nil when the lease was lost.
    @discardableResult
    func update(
        _ lease: Lease,
        set assignments: String,
        _ binds: [DatabaseValue] = [],
        now: Double,
        returning: String = "id",
        on executor: any DatabaseExecutor
    ) async throws -> DatabaseRow? {
        let held = self.held(lease, from: 1)
        var binds = held.binds + binds
        var assignments = assignments
        if let updatedAt {
            binds.append(.double(now))
            assignments += ", \(updatedAt) = $\(binds.count)"
        }
        return try await executor.query(
            "UPDATE \(self.name) SET \(assignments) WHERE \(held.sql) RETURNING \(returning)", binds
        ).first
    }

    /// Extends the lease to `expiry`, with `assignments` (fixed, no binds) if any. False: lost.
    func renew(
        _ lease: Lease,
        until expiry: Double,
        also assignments: String = "",
        now: Double,
        on executor: any DatabaseExecutor
    ) async throws -> Bool {
        let set = "lease_expires_at = $4" + (assignments.isEmpty ? "" : ", " + assignments)
        return try await self.update(lease, set: set, [.double(expiry)], now: now, on: executor) != nil
    }

    /// Ends the lease in the same statement as `assignments` (binds from `$4`): no owner, no
    /// expiry, so the row is claimable again or finished, as `assignments` leave its status.
    /// Returns the row as changed, or nil when the lease was lost.
    @discardableResult
    func release(
        _ lease: Lease,
        set assignments: String = "",
        _ binds: [DatabaseValue] = [],
        now: Double,
        returning: String = "id",
        on executor: any DatabaseExecutor
    ) async throws -> DatabaseRow? {
        let set = (assignments.isEmpty ? "" : assignments + ", ") + "lease_owner = NULL, lease_expires_at = NULL"
        return try await self.update(lease, set: set, binds, now: now, returning: returning, on: executor)
    }
}
