public import Foundation
public import PulseMedia
public import PulseDatabase
public import PulseSupport

/// Typed access to `assets` and their chunk checkpoints, the same on both engines.
///
/// Every write stamps `updated_at` from the injected clock. Methods returning `Bool` say whether a
/// row changed (false: no such asset, or the guard in the statement refused the change).
public struct AssetRepository: Sendable {
    public let database: any Database
    public let clock: EpochClock

    /// A repository over a migrated database.
    public init(database: any Database, clock: EpochClock = .system) {
        self.database = database
        self.clock = clock
    }

    static let columns = """
        id, status, progress, error_code, error_message, filename, source_key, source_size, probe_json, \
        plan_json, thumbnail_key, hls_parts_json, chunk_count, duration, attempts, created_at, updated_at, \
        ready_at, source_identity, deleting_at, playable_at, passthrough, playback_policy, mp4, download_key, \
        placeholder, storyboard_key
        """

    // MARK: - Life cycle

    /// Inserts a new asset and returns it as stored.
    @discardableResult
    public func create(_ new: NewAsset) async throws -> Asset {
        try await Self.insert(new, now: self.clock.now(), on: self.database)
    }

    /// The insert of `create`, on any executor (a transaction of `IdempotencyKeys` too).
    static func insert(_ new: NewAsset, now: Double, on executor: any DatabaseExecutor) async throws -> Asset {
        let rows = try await executor.query(
            """
            INSERT INTO assets (id, status, filename, source_key, source_size, created_at, updated_at, passthrough, playback_policy, mp4)
            VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9)
            RETURNING \(Self.columns)
            """,
            [
                .text(new.id.databaseText), .text(new.status.rawValue), DatabaseValue(new.filename),
                DatabaseValue(new.sourceKey), DatabaseValue(new.sourceSize), .double(now),
                DatabaseValue(new.passthrough), .text(new.playbackPolicy.rawValue), .int(new.mp4 ? 1 : 0),
            ]
        )
        guard let row = rows.first else {
            throw DatabaseError(.queryFailed, message: "INSERT ... RETURNING gave no row")
        }
        return try Self.asset(row)
    }

    /// The asset with this id, or nil (also while it is being deleted: for everyone but the
    /// deletion itself, an asset being deleted is gone).
    public func get(_ id: UUID) async throws -> Asset? {
        try await self.database.queryFirst(
            "SELECT \(Self.columns) FROM assets WHERE id = $1 AND deleting_at IS NULL",
            [.text(id.databaseText)]
        ).map(Self.asset)
    }

    /// The assets among `ids` that exist and are not being deleted, in one query (at most
    /// ``maxIDsPerRead`` ids: every id is a bound parameter).
    public func get(_ ids: [UUID]) async throws -> [Asset] {
        precondition(ids.count <= Self.maxIDsPerRead, "at most \(Self.maxIDsPerRead) ids per read")
        guard !ids.isEmpty else { return [] }
        let placeholders = (1...ids.count).map { "$\($0)" }.joined(separator: ", ")
        return try await self.database.query(
            "SELECT \(Self.columns) FROM assets WHERE id IN (\(placeholders)) AND deleting_at IS NULL",
            ids.map { .text($0.databaseText) }
        ).map(Self.asset)
    }

    /// The most ids ``get(_:)-([UUID])`` reads at once (SQLite's oldest limit on bound parameters is 999).
    public static let maxIDsPerRead = 500

    /// The row with this id whatever its state, a deletion in progress included; nil when there
    /// is no row.
    public func row(_ id: UUID) async throws -> Asset? {
        try await self.database.queryFirst(
            "SELECT \(Self.columns) FROM assets WHERE id = $1",
            [.text(id.databaseText)]
        ).map(Self.asset)
    }

    /// Whether the asset exists and is not being deleted: what a worker checks around every object
    /// it stores, so that nothing it stores outlives a delete.
    public func isLive(_ id: UUID) async throws -> Bool {
        try await self.database.queryFirst(
            "SELECT 1 AS live FROM assets WHERE id = $1 AND deleting_at IS NULL",
            [.text(id.databaseText)]
        ) != nil
    }

    /// Up to `limit` assets, newest first, starting after `cursor` (keyset paging: stable while
    /// assets are added, and as cheap on page 1000 as on page 1).
    /// Only assets with this `passthrough` and/or `status` when given.
    public func list(
        limit: Int = 50, after cursor: AssetCursor? = nil, passthrough: String? = nil, status: AssetStatus? = nil
    ) async throws -> AssetPage {
        let limit = max(1, min(limit, 1000))
        // One row more than asked tells whether another page exists.
        var binds: [DatabaseValue] = [.int(Int64(limit + 1))]
        var conditions = ["deleting_at IS NULL"]
        if let cursor {
            binds += [.double(cursor.createdAt), .text(cursor.id.databaseText)]
            conditions.append("(created_at < $2 OR (created_at = $2 AND id < $3))")
        }
        if let passthrough {
            binds.append(.text(passthrough))
            conditions.append("passthrough = $\(binds.count)")
        }
        if let status {
            binds.append(.text(status.rawValue))
            conditions.append("status = $\(binds.count)")
        }
        let rows = try await self.database.query(
            """
            SELECT \(Self.columns) FROM assets WHERE \(conditions.joined(separator: " AND "))
            ORDER BY created_at DESC, id DESC LIMIT $1
            """,
            binds
        )
        let assets = try rows.prefix(limit).map(Self.asset)
        let next = rows.count > limit ? assets.last.map(AssetCursor.init(after:)) : nil
        return AssetPage(assets: assets, next: next)
    }

    /// Up to `limit` assets due for reaping, oldest first: `failed` ones last changed before
    /// `failedBefore`, and `awaiting_upload` ones created before `abandonedBefore` (epoch seconds;
    /// nil leaves that kind out, and both nil finds nothing).
    public func reapable(failedBefore: Double?, abandonedBefore: Double?, limit: Int = 100) async throws -> [Asset] {
        var conditions: [String] = []
        var binds: [DatabaseValue] = [.int(Int64(max(1, min(limit, 1000))))]
        if let failedBefore {
            binds.append(.double(failedBefore))
            conditions.append("(status = 'failed' AND updated_at < $\(binds.count))")
        }
        if let abandonedBefore {
            binds.append(.double(abandonedBefore))
            conditions.append("(status = 'awaiting_upload' AND created_at < $\(binds.count))")
        }
        guard !conditions.isEmpty else { return [] }
        return try await self.database.query(
            """
            SELECT \(Self.columns) FROM assets
            WHERE (\(conditions.joined(separator: " OR "))) AND deleting_at IS NULL
            ORDER BY created_at, id LIMIT $1
            """,
            binds
        ).map(Self.asset)
    }

    /// Up to `limit` assets whose delete began before `before` and never finished (the process
    /// died, or storage failed midway), oldest first: the reaper finishes them.
    public func unfinishedDeletions(before: Double, limit: Int = 100) async throws -> [Asset] {
        try await self.database.query(
            """
            SELECT \(Self.columns) FROM assets
            WHERE deleting_at IS NOT NULL AND deleting_at < $1
            ORDER BY deleting_at, id LIMIT $2
            """,
            [.double(before), .int(Int64(max(1, min(limit, 1000))))]
        ).map(Self.asset)
    }

    /// Up to `limit` ready assets created before `createdBefore` whose `uploads/{id}/` was not
    /// swept yet, oldest first. Their upload URL has expired by then; an S3 presigned PUT cannot
    /// be revoked, so whatever it stored after `ready` (which deleted the original) is swept once.
    public func uploadsToSweep(createdBefore: Double, limit: Int = 100) async throws -> [Asset] {
        try await self.database.query(
            """
            SELECT \(Self.columns) FROM assets
            WHERE status = 'ready' AND created_at < $1 AND uploads_swept_at IS NULL AND deleting_at IS NULL
            ORDER BY created_at, id LIMIT $2
            """,
            [.double(createdBefore), .int(Int64(max(1, min(limit, 1000))))]
        ).map(Self.asset)
    }

    /// Records that `uploads/{id}/` was swept (maintenance: `updated_at` is left as it is).
    @discardableResult
    public func markUploadsSwept(_ id: UUID) async throws -> Bool {
        try await self.database.execute(
            "UPDATE assets SET uploads_swept_at = $2 WHERE id = $1",
            [.text(id.databaseText), .double(self.clock.now())]
        ) > 0
    }

    /// The first step of a delete: marks the asset as being deleted (the first mark is kept).
    /// From then on `get` and `list` do not show it, it takes no more writes and workers stop
    /// storing its objects. Returns false when there is no such row.
    @discardableResult
    public func markDeleting(_ id: UUID) async throws -> Bool {
        try await self.database.execute(
            "UPDATE assets SET deleting_at = COALESCE(deleting_at, $2) WHERE id = $1",
            [.text(id.databaseText), .double(self.clock.now())]
        ) > 0
    }

    /// Deletes the asset with its chunks and jobs (cascade). Storage objects are the caller's.
    @discardableResult
    public func delete(_ id: UUID) async throws -> Bool {
        try await self.database.execute("DELETE FROM assets WHERE id = $1", [.text(id.databaseText)]) > 0
    }

    /// Marks the asset `processing` and counts one more attempt, unless it is already ready.
    @discardableResult
    public func beginAttempt(_ id: UUID) async throws -> Bool {
        try await self.update(
            id,
            set: "status = 'processing', attempts = attempts + 1",
            where: "status <> 'ready'"
        )
    }

    /// The upload arrived: `awaiting_upload` -> `queued` with its real size and, when given, its
    /// `SourceIdentity`, only from that status (a concurrent complete, or a worker's `processing`,
    /// is never moved back). True when this call made the change.
    public func markUploaded(_ id: UUID, size: Int64, identity: String? = nil) async throws -> Bool {
        try await self.update(
            id, set: "status = 'queued', source_size = $3, source_identity = $4", where: "status = 'awaiting_upload'",
            [.int(size), DatabaseValue(identity)])
    }

    /// Records the source's identity when none is recorded yet (an object submitted directly, or an
    /// asset completed before identities were recorded); a recorded one is never replaced.
    @discardableResult
    public func recordSourceIdentity(_ id: UUID, _ identity: String) async throws -> Bool {
        try await self.update(id, set: "source_identity = $3", where: "source_identity IS NULL", [.text(identity)])
    }

    /// Raises the stored progress to `percent` (clamped to 0...100); a lower or equal value changes
    /// nothing, so a late or replayed report never moves the bar back.
    @discardableResult
    public func updateProgress(_ id: UUID, percent: Double) async throws -> Bool {
        let percent = min(100, max(0, percent))
        return try await self.update(id, set: "progress = $3", where: "progress < $3", [.double(percent)])
    }

    /// Records the probe result (opaque JSON) and the duration it found.
    @discardableResult
    public func setProbe(_ id: UUID, json: String, duration: Double?) async throws -> Bool {
        try await self.update(id, set: "probe_json = $3, duration = $4", [.text(json), DatabaseValue(duration)])
    }

    /// Records the pipeline plan (opaque JSON).
    @discardableResult
    public func setPlan(_ id: UUID, json: String) async throws -> Bool {
        try await self.update(id, set: "plan_json = $3", [.text(json)])
    }

    /// Records how many video chunks the asset was cut into.
    @discardableResult
    public func setChunkCount(_ id: UUID, _ count: Int) async throws -> Bool {
        try await self.update(id, set: "chunk_count = $3", [.int(Int64(count))])
    }

    /// Records the thumbnail's object key and its BlurHash `placeholder`, and (same transaction) an
    /// `asset.thumbnail_ready` webhook unless that key was already recorded.
    @discardableResult
    public func setThumbnail(_ id: UUID, key: String, placeholder: String? = nil) async throws -> Bool {
        try await self.update(
            id, set: "thumbnail_key = $3, placeholder = $4", [.text(key), DatabaseValue(placeholder)], announcing: .thumbnailReady
        ) { $0.thumbnailKey != key }
    }

    /// Records the key of the asset's stored storyboard (its WebVTT file).
    @discardableResult
    public func setStoryboardKey(_ id: UUID, key: String) async throws -> Bool {
        try await self.update(id, set: "storyboard_key = $3", [.text(key)])
    }

    /// Marks rungs complete in `hls_parts`, keeping the ones already there.
    @discardableResult
    public func markHLSParts(_ id: UUID, rungs: [String]) async throws -> Bool {
        let now = self.clock.now()
        return try await self.database.transaction { transaction in
            // Read-modify-write of one JSON value: FOR UPDATE holds the row on PostgreSQL; on SQLite
            // the transaction already holds the write lock.
            let lock = transaction.dialect == .postgres ? " FOR UPDATE" : ""
            guard
                let row = try await transaction.queryFirst(
                    "SELECT hls_parts_json FROM assets WHERE id = $1 AND deleting_at IS NULL\(lock)",
                    [.text(id.databaseText)]
                )
            else { return false }
            var parts = try Self.decodeParts(try row.text("hls_parts_json"))
            for rung in rungs { parts[rung] = true }
            try await transaction.execute(
                "UPDATE assets SET hls_parts_json = $2, updated_at = $3 WHERE id = $1",
                [.text(id.databaseText), .text(try Self.encodeParts(parts)), .double(now)]
            )
            return true
        }
    }

    /// Marks the asset failed with a code a product can act on. A ready asset stays ready: a late
    /// failure report from a worker that lost its lease must not undo finished work.
    /// An `asset.failed` webhook is recorded in the same transaction unless it was failed already.
    @discardableResult
    public func fail(_ id: UUID, code: FailureCode, message: String) async throws -> Bool {
        try await self.update(
            id,
            set: "status = 'failed', error_code = $3, error_message = $4",
            where: "status <> 'ready'",
            [.text(code.rawValue), .text(message)],
            announcing: .failed
        ) { $0.status != .failed }
    }

    /// Records the key of the asset's stored `download.mp4`.
    @discardableResult
    public func setDownloadKey(_ id: UUID, key: String) async throws -> Bool {
        try await self.update(id, set: "download_key = $3", [.text(key)])
    }

    /// Marks the asset ready at 100 % and stamps `ready_at`; clears any earlier error. An
    /// `asset.ready` webhook is recorded in the same transaction unless it was ready already.
    /// True when the asset is ready now; false when it is being deleted or gone.
    @discardableResult
    public func markReady(_ id: UUID) async throws -> Bool {
        try await self.makeReady(id) != .gone
    }

    /// What `makeReady` found.
    enum ReadyChange: Sendable {
        /// This call made the asset ready (and recorded the webhook): announce it.
        case made
        /// It was ready already: nothing changed, nothing to announce.
        case already
        /// Being deleted, or gone.
        case gone
    }

    /// `markReady`, telling whether this call made the asset ready: of two finalizes that both
    /// read the asset before it was ready, only one announces it.
    func makeReady(_ id: UUID) async throws -> ReadyChange {
        let made = try await self.update(
            id,
            set: "status = 'ready', progress = 100, ready_at = $2, error_code = NULL, error_message = NULL",
            where: "status <> 'ready'",
            announcing: .ready
        ) { _ in true }
        if made { return .made }
        return try await self.get(id)?.status == .ready ? .already : .gone
    }

    /// Stamps `playable_at` once, while the asset is processing, and records the `asset.playable`
    /// webhook in the same transaction. Returns true when this call set it: the caller then
    /// announces `playable`, exactly once.
    @discardableResult
    public func markPlayable(_ id: UUID) async throws -> Bool {
        try await self.update(
            id, set: "playable_at = $2", where: "playable_at IS NULL AND status IN ('queued', 'processing')", announcing: .playable
        ) { $0.playableAt == nil }
    }

    // MARK: - Chunk checkpoints

    /// Plans chunks; chunks already planned are left as they are (done ones stay done). Returns how
    /// many were new.
    @discardableResult
    public func createChunks(_ assetID: UUID, _ plans: [ChunkPlan]) async throws -> Int {
        guard !plans.isEmpty else { return 0 }
        return try await self.database.transaction { transaction in
            var created = 0
            for plan in plans {
                created += try await transaction.execute(
                    """
                    INSERT INTO chunks (asset_id, kind, idx, start_seconds, end_seconds, status)
                    VALUES ($1, $2, $3, $4, $5, 'pending')
                    ON CONFLICT (asset_id, kind, idx) DO NOTHING
                    """,
                    [
                        .text(assetID.databaseText), .text(plan.kind.rawValue), .int(Int64(plan.index)),
                        .double(plan.startSeconds), .double(plan.endSeconds),
                    ]
                )
            }
            return created
        }
    }

    /// Checkpoints a chunk whose output is uploaded. Returns true when this call recorded it; false
    /// when it was already done (the first result is kept), was never planned, the asset is being
    /// deleted (or gone), or `lease` is given and no longer held: a worker whose job was taken over
    /// must not write the checkpoint. A checkpoint is progress under `lease` (`recordProgress`).
    @discardableResult
    public func markChunkDone(
        _ assetID: UUID,
        kind: WorkUnit.Kind,
        index: Int,
        resultJSON: String,
        lease: Job? = nil
    ) async throws -> Bool {
        var binds: [DatabaseValue] = [
            .text(assetID.databaseText), .text(kind.rawValue), .int(Int64(index)), .text(resultJSON),
            .double(self.clock.now()),
        ]
        var leaseHeld = ""
        if let lease {
            let held = JobQueue.leases.stillHeld(lease.lease, from: 6)
            leaseHeld = "\n  AND " + held.sql
            binds += held.binds
        }
        return try await self.checkpoint(
            """
            UPDATE chunks SET status = 'done', result_json = $4, done_at = $5
            WHERE asset_id = $1 AND kind = $2 AND idx = $3 AND status = 'pending'
              AND EXISTS (SELECT 1 FROM assets WHERE id = $1 AND deleting_at IS NULL)\(leaseHeld)
            """,
            binds,
            lease: lease
        )
    }

    /// Records what a progressive unit (the first rendition) has stored so far, while it is
    /// pending: the checkpoint it resumes from. Fenced like `markChunkDone`.
    @discardableResult
    public func recordStoredSegments(_ assetID: UUID, kind: WorkUnit.Kind, index: Int, json: String, lease: Job) async throws -> Bool {
        let held = JobQueue.leases.stillHeld(lease.lease, from: 5)
        return try await self.checkpoint(
            """
            UPDATE chunks SET result_json = $4
            WHERE asset_id = $1 AND kind = $2 AND idx = $3 AND status = 'pending'
              AND EXISTS (SELECT 1 FROM assets WHERE id = $1 AND deleting_at IS NULL)
              AND \(held.sql)
            """,
            [.text(assetID.databaseText), .text(kind.rawValue), .int(Int64(index)), .text(json)] + held.binds,
            lease: lease
        )
    }

    /// Runs a checkpoint's `update` of `chunks` and, when it recorded something under `lease`,
    /// records the progress on the job in the same transaction: a lease lost after a checkpoint
    /// is not evidence of a poison job.
    private func checkpoint(_ update: String, _ binds: [DatabaseValue], lease: Job?) async throws -> Bool {
        guard let lease else { return try await self.database.execute(update, binds) > 0 }
        let now = self.clock.now()
        return try await self.database.transaction { transaction in
            guard try await transaction.execute(update, binds) > 0 else { return false }
            _ = try await JobQueue.recordProgress(lease, now: now, on: transaction)
            return true
        }
    }

    /// Every chunk of the asset, video first, by index.
    public func chunks(_ assetID: UUID) async throws -> [Chunk] {
        try await self.database.query(
            """
            SELECT kind, idx, start_seconds, end_seconds, status, result_json, done_at
            FROM chunks WHERE asset_id = $1
            ORDER BY CASE kind WHEN 'video' THEN 0 ELSE 1 END, idx
            """,
            [.text(assetID.databaseText)]
        ).map { row in
            Chunk(
                kind: try Self.enumValue(WorkUnit.Kind.self, row, "kind"),
                index: Int(try row.int("idx")),
                startSeconds: try row.double("start_seconds"),
                endSeconds: try row.double("end_seconds"),
                status: try Self.enumValue(ChunkStatus.self, row, "status"),
                resultJSON: try row.optionalText("result_json"),
                doneAt: try row.optionalDouble("done_at")
            )
        }
    }

    /// How many of the asset's chunks are not done yet.
    public func countPendingChunks(_ assetID: UUID) async throws -> Int {
        let row = try await self.database.queryFirst(
            "SELECT COUNT(*) AS n FROM chunks WHERE asset_id = $1 AND status = 'pending'",
            [.text(assetID.databaseText)]
        )
        return Int(try row?.int("n") ?? 0)
    }

    // MARK: - Helpers

    /// `UPDATE assets SET <set>, updated_at = $2 WHERE id = $1 AND <not being deleted> [AND <guard>]`;
    /// extra binds start at $3. `set` and `guard` are fixed SQL written in this file, never caller data.
    /// A row being deleted takes no more writes: a late report cannot mark it ready or failed.
    private func update(
        _ id: UUID,
        set assignments: String,
        where guardClause: String? = nil,
        _ binds: [DatabaseValue] = []
    ) async throws -> Bool {
        let condition = guardClause.map { " AND (\($0))" } ?? ""
        return try await self.database.execute(
            "UPDATE assets SET \(assignments), updated_at = $2 WHERE id = $1 AND deleting_at IS NULL\(condition)",
            [.text(id.databaseText), .double(self.clock.now())] + binds
        ) > 0
    }

    /// `update` that also records `event` in the webhook outbox, in one transaction, when the row
    /// changed and `isNews(row before the change)` says the change is news (a repeated call, e.g. a
    /// retried job, announces nothing again). The outbox gets the row as it is after the change.
    private func update(
        _ id: UUID,
        set assignments: String,
        where guardClause: String? = nil,
        _ binds: [DatabaseValue] = [],
        announcing event: WebhookEventType,
        when isNews: @escaping @Sendable (Asset) -> Bool
    ) async throws -> Bool {
        let now = self.clock.now()
        let condition = guardClause.map { " AND (\($0))" } ?? ""
        return try await self.database.transaction { transaction in
            // The row before the change: FOR UPDATE holds it on PostgreSQL; on SQLite the
            // transaction already holds the write lock.
            let lock = transaction.dialect == .postgres ? " FOR UPDATE" : ""
            guard
                let before = try await transaction.queryFirst(
                    "SELECT \(Self.columns) FROM assets WHERE id = $1 AND deleting_at IS NULL\(lock)", [.text(id.databaseText)])
            else { return false }
            guard
                let after = try await transaction.queryFirst(
                    """
                    UPDATE assets SET \(assignments), updated_at = $2 WHERE id = $1 AND deleting_at IS NULL\(condition)
                    RETURNING \(Self.columns)
                    """,
                    [.text(id.databaseText), .double(now)] + binds)
            else { return false }
            if isNews(try Self.asset(before)) {
                try await WebhookOutbox.record(event, asset: try Self.asset(after), on: transaction, now: now)
            }
            return true
        }
    }

    static func asset(_ row: DatabaseRow) throws -> Asset {
        let idText = try row.text("id")
        guard let id = UUID(uuidString: idText) else {
            throw DatabaseError(.decoding, message: "asset id \(idText) is not a UUID")
        }
        return Asset(
            id: id,
            status: try enumValue(AssetStatus.self, row, "status"),
            progress: try row.double("progress"),
            errorCode: try row.optionalText("error_code").map(FailureCode.init),
            errorMessage: try row.optionalText("error_message"),
            filename: try row.optionalText("filename"),
            sourceKey: try row.optionalText("source_key"),
            sourceSize: try row.optionalInt("source_size"),
            sourceIdentity: try row.optionalText("source_identity"),
            probeJSON: try row.optionalText("probe_json"),
            planJSON: try row.optionalText("plan_json"),
            thumbnailKey: try row.optionalText("thumbnail_key"),
            placeholder: try row.optionalText("placeholder"),
            storyboardKey: try row.optionalText("storyboard_key"),
            hlsParts: try decodeParts(try row.text("hls_parts_json")),
            chunkCount: try row.optionalInt("chunk_count").map { Int($0) },
            duration: try row.optionalDouble("duration"),
            attempts: Int(try row.int("attempts")),
            createdAt: try row.double("created_at"),
            updatedAt: try row.double("updated_at"),
            readyAt: try row.optionalDouble("ready_at"),
            playableAt: try row.optionalDouble("playable_at"),
            deletingAt: try row.optionalDouble("deleting_at"),
            passthrough: try row.optionalText("passthrough"),
            playbackPolicy: try enumValue(PlaybackPolicy.self, row, "playback_policy"),
            mp4: try row.int("mp4") != 0,
            downloadKey: try row.optionalText("download_key")
        )
    }

    static func enumValue<T: RawRepresentable>(_ type: T.Type, _ row: DatabaseRow, _ column: String) throws -> T
    where T.RawValue == String {
        let text = try row.text(column)
        guard let value = T(rawValue: text) else {
            throw DatabaseError(.decoding, message: "\(column) has unknown value \(text)")
        }
        return value
    }

    private static func decodeParts(_ json: String) throws -> [String: Bool] {
        do {
            return try JSONDecoder().decode([String: Bool].self, from: Data(json.utf8))
        } catch {
            throw DatabaseError(.decoding, message: "hls_parts_json is not an object of booleans", underlying: error)
        }
    }

    private static func encodeParts(_ parts: [String: Bool]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(parts), as: UTF8.self)
    }
}
