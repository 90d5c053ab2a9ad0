/// The schema, in order. Times are epoch seconds in `DOUBLE PRECISION` and JSON is `TEXT` on both
/// engines, so one set of statements serves both; only the job id column differs.
let schemaMigrations: [Migration] = [
    Migration(version: 1, name: "assets, chunks, jobs") { dialect in
        let jobID =
            switch dialect {
            case .sqlite: "id INTEGER PRIMARY KEY AUTOINCREMENT"
            case .postgres: "id BIGSERIAL PRIMARY KEY"
            }
        return [
            """
            CREATE TABLE assets (
                id TEXT PRIMARY KEY,
                status TEXT NOT NULL
                    CHECK (status IN ('awaiting_upload', 'queued', 'processing', 'ready', 'failed')),
                progress DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 100),
                error_code TEXT,
                error_message TEXT,
                filename TEXT,
                source_key TEXT,
                source_size BIGINT,
                probe_json TEXT,
                ladder_json TEXT,
                thumbnail_key TEXT,
                hls_parts_json TEXT NOT NULL DEFAULT '{}',
                chunk_count INTEGER,
                duration DOUBLE PRECISION,
                attempts INTEGER NOT NULL DEFAULT 0,
                created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL,
                ready_at DOUBLE PRECISION
            )
            """,
            // Keyset paging, newest first.
            "CREATE INDEX assets_by_created ON assets (created_at, id)",
            """
            CREATE TABLE chunks (
                asset_id TEXT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
                kind TEXT NOT NULL CHECK (kind IN ('video', 'audio')),
                idx INTEGER NOT NULL,
                start_seconds DOUBLE PRECISION NOT NULL,
                end_seconds DOUBLE PRECISION NOT NULL,
                status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
                result_json TEXT,
                done_at DOUBLE PRECISION,
                PRIMARY KEY (asset_id, kind, idx)
            )
            """,
            """
            CREATE TABLE jobs (
                \(jobID),
                asset_id TEXT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                chunk_index INTEGER NOT NULL DEFAULT -1,
                status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
                attempts INTEGER NOT NULL DEFAULT 0,
                max_attempts INTEGER NOT NULL,
                run_at DOUBLE PRECISION NOT NULL,
                lease_owner TEXT,
                lease_expires_at DOUBLE PRECISION,
                last_error TEXT,
                created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL,
                UNIQUE (asset_id, kind, chunk_index)
            )
            """,
            // Claiming reads ready jobs in run_at order and expired leases; partial indexes keep
            // both small however many finished jobs pile up.
            "CREATE INDEX jobs_ready ON jobs (run_at, id) WHERE status = 'queued'",
            "CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE status = 'running'",
        ]
    },
    // When a job's current storage outage began: outage retries give their attempt back, and
    // stop doing so once the outage has lasted longer than the worker's outage budget.
    Migration(version: 2, name: "jobs.outage_since") { _ in
        ["ALTER TABLE jobs ADD COLUMN outage_since DOUBLE PRECISION"]
    },
    // The column holds the whole pipeline plan (rungs, units, segment length), not a ladder.
    Migration(version: 3, name: "assets.plan_json") { _ in
        ["ALTER TABLE assets RENAME COLUMN ladder_json TO plan_json"]
    },
    // The upload is a one-time door, and DELETE means gone:
    // - source_identity: the object `complete` accepted (size with its ETag, or its modification
    //   time where the store has no ETag); the worker checks it before probing and around each
    //   unit, so a source replaced afterwards fails with ERR_SOURCE_CHANGED.
    // - deleting_at: set first by a delete; a row being deleted takes no more writes, is not
    //   shown, and fences the workers (they check it around every object they store).
    // - uploads_swept_at: when the reaper last swept `uploads/{id}/` of a ready asset whose upload
    //   URL had expired (an S3 presigned PUT cannot be revoked: one sweep after expiry suffices).
    // A column, not a status: SQLite cannot alter the status CHECK constraint.
    Migration(version: 4, name: "assets.source_identity, deleting_at, uploads_swept_at") { _ in
        [
            "ALTER TABLE assets ADD COLUMN source_identity TEXT",
            "ALTER TABLE assets ADD COLUMN deleting_at DOUBLE PRECISION",
            "ALTER TABLE assets ADD COLUMN uploads_swept_at DOUBLE PRECISION",
        ]
    },
    // Resumable uploads (issue 12): an asset created with `"upload_type": "multipart"` has one
    // multipart upload in the store (S3's, or the local store's own), bound to it here: its id, the
    // part size and the declared size the part plan was made from. Its own table, so it goes with
    // the asset (cascade) and the assets columns stay as they are.
    Migration(version: 8, name: "multipart_uploads") { _ in
        [
            """
            CREATE TABLE multipart_uploads (
                asset_id TEXT PRIMARY KEY REFERENCES assets (id) ON DELETE CASCADE,
                upload_id TEXT NOT NULL,
                part_size BIGINT NOT NULL,
                size BIGINT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL
            )
            """,
        ]
    },
]
