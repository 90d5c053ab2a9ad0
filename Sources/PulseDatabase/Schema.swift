/// The schema, in order. Times are epoch seconds in `DOUBLE PRECISION` and JSON is `TEXT` on both
/// engines, so one set of statements serves both; only the job id column differs.
let schemaMigrations: [Migration] = [
    Migration(version: 1, name: "assets, chunks, jobs") { dialect in
        let jobID = generatedID(dialect)
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
    // Playable in seconds: a first rendition is encoded and played while the ladder encodes.
    // - assets.playable_at: when the asset became playable (the first rendition's playlists and
    //   the master stored); set once, before `ready`.
    // - chunks.kind 'first': the first rendition's checkpoint row, whose result_json holds the
    //   segments stored so far while it is pending. SQLite cannot alter a CHECK constraint: the
    //   table is rebuilt there (same columns, same rows).
    Migration(version: 5, name: "assets.playable_at, chunks.kind first") { dialect in
        var statements = ["ALTER TABLE assets ADD COLUMN playable_at DOUBLE PRECISION"]
        switch dialect {
        case .postgres:
            statements += [
                "ALTER TABLE chunks DROP CONSTRAINT chunks_kind_check",
                "ALTER TABLE chunks ADD CONSTRAINT chunks_kind_check CHECK (kind IN ('video', 'audio', 'first'))",
            ]
        case .sqlite:
            statements += [
                """
                CREATE TABLE chunks_v5 (
                    asset_id TEXT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
                    kind TEXT NOT NULL CHECK (kind IN ('video', 'audio', 'first')),
                    idx INTEGER NOT NULL,
                    start_seconds DOUBLE PRECISION NOT NULL,
                    end_seconds DOUBLE PRECISION NOT NULL,
                    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
                    result_json TEXT,
                    done_at DOUBLE PRECISION,
                    PRIMARY KEY (asset_id, kind, idx)
                )
                """,
                "INSERT INTO chunks_v5 (asset_id, kind, idx, start_seconds, end_seconds, status, result_json, done_at) SELECT asset_id, kind, idx, start_seconds, end_seconds, status, result_json, done_at FROM chunks",
                "DROP TABLE chunks",
                "ALTER TABLE chunks_v5 RENAME TO chunks",
            ]
        }
        return statements
    },
    // What a chat needs of an asset (tie it to its message, keep private videos private, "save video"):
    // - passthrough: the client's own reference (at most 255 bytes), shown everywhere, filterable.
    // - playback_policy: 'public' (the id is the capability) or 'signed' (a playback token).
    // - mp4 / download_key: a download.mp4 was asked for / the key once it is stored.
    // - idempotency_keys: one row per `Idempotency-Key` of a create (24 h), so a retried create
    //   returns the same asset; the primary key makes concurrent duplicates create one asset. The
    //   row goes with its asset.
    Migration(version: 6, name: "assets.passthrough, playback_policy, mp4, download_key; idempotency_keys") { _ in
        [
            "ALTER TABLE assets ADD COLUMN passthrough TEXT",
            "ALTER TABLE assets ADD COLUMN playback_policy TEXT NOT NULL DEFAULT 'public' CHECK (playback_policy IN ('public', 'signed'))",
            "ALTER TABLE assets ADD COLUMN mp4 INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE assets ADD COLUMN download_key TEXT",
            "CREATE INDEX assets_by_passthrough ON assets (passthrough, created_at, id)",
            """
            CREATE TABLE idempotency_keys (
                idempotency_key TEXT PRIMARY KEY,
                fingerprint TEXT NOT NULL,
                asset_id TEXT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
                created_at DOUBLE PRECISION NOT NULL
            )
            """,
            "CREATE INDEX idempotency_keys_by_created ON idempotency_keys (created_at)",
        ]
    },
    // Signed webhooks: the outbox, written in the same transaction as the state change
    // it announces, and one row per delivery attempt. No foreign key to assets: an event outlives
    // a delete of its asset until it is delivered; rows are pruned by age (WebhookOutbox.prune).
    // `delivered_json` lists the endpoints that already answered 2xx, so a retry goes only to the
    // others.
    Migration(version: 7, name: "webhook_outbox, webhook_attempts") { dialect in
        let attemptID = generatedID(dialect)
        return [
            """
            CREATE TABLE webhook_outbox (
                id TEXT PRIMARY KEY,
                asset_id TEXT NOT NULL,
                event_type TEXT NOT NULL,
                asset_json TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at DOUBLE PRECISION NOT NULL,
                lease_owner TEXT,
                lease_expires_at DOUBLE PRECISION,
                delivered_json TEXT NOT NULL DEFAULT '[]',
                finished_at DOUBLE PRECISION
            )
            """,
            "CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at, id) WHERE status = 'pending'",
            "CREATE INDEX webhook_outbox_by_asset ON webhook_outbox (asset_id, created_at)",
            "CREATE INDEX webhook_outbox_by_created ON webhook_outbox (created_at)",
            """
            CREATE TABLE webhook_attempts (
                \(attemptID),
                message_id TEXT NOT NULL REFERENCES webhook_outbox (id) ON DELETE CASCADE,
                attempt INTEGER NOT NULL,
                endpoint TEXT NOT NULL,
                attempted_at DOUBLE PRECISION NOT NULL,
                duration_ms DOUBLE PRECISION NOT NULL,
                status_code INTEGER,
                outcome TEXT NOT NULL,
                error TEXT
            )
            """,
            "CREATE INDEX webhook_attempts_by_message ON webhook_attempts (message_id, id)",
        ]
    },
    // Resumable uploads: an asset created with `"upload_type": "multipart"` has one
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
    // Lost leases that are not the job's fault. `loss_excused` is set while a lease is held, once
    // its holder stored a segment or a checkpoint, or once its worker is seen to have lost other
    // leases at the same instant (the worker died, not the job); it is cleared at every claim.
    // Such a lease, when lost, does not count against `max_attempts`: it is counted in
    // `excused_losses` instead, which has a bound of its own (JobQueue), so that even a job that
    // kills its worker beside other work ends.
    Migration(version: 9, name: "jobs.loss_excused, excused_losses") { _ in
        [
            "ALTER TABLE jobs ADD COLUMN loss_excused INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE jobs ADD COLUMN excused_losses INTEGER NOT NULL DEFAULT 0",
        ]
    },
    // tus uploads: a multipart upload the server drives for a tus client. `tus_offset` is the
    // bytes stored so far (null for an upload whose client sends the parts itself), so the offset
    // outlives any one `serve`; `tus_lock_owner` / `tus_lock_expires_at` let one PATCH at a time,
    // on any process, write to it (the lease ends by itself if its holder dies).
    Migration(version: 10, name: "multipart_uploads.tus_offset, tus_lock") { _ in
        [
            "ALTER TABLE multipart_uploads ADD COLUMN tus_offset BIGINT",
            "ALTER TABLE multipart_uploads ADD COLUMN tus_lock_owner TEXT",
            "ALTER TABLE multipart_uploads ADD COLUMN tus_lock_expires_at DOUBLE PRECISION",
        ]
    },
    // Signing keys: a backend signs playback JWTs offline with a private key it was given once;
    // only the public key (PEM, SubjectPublicKeyInfo) is kept. Revoking a key deletes its row.
    Migration(version: 11, name: "signing_keys") { _ in
        [
            """
            CREATE TABLE signing_keys (
                id TEXT PRIMARY KEY,
                public_key TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL
            )
            """,
            "CREATE INDEX signing_keys_by_created ON signing_keys (created_at, id)",
        ]
    },
    // What a chat client shows before the first frame and while scrubbing:
    // - placeholder: the thumbnail's BlurHash, set with thumbnail_key (one write, one webhook).
    // - storyboard_key: the storyboard's WebVTT object once its sprite sheets are stored (finalize).
    Migration(version: 12, name: "assets.placeholder, storyboard_key") { _ in
        [
            "ALTER TABLE assets ADD COLUMN placeholder TEXT",
            "ALTER TABLE assets ADD COLUMN storyboard_key TEXT",
        ]
    },
]

/// An `id` column the database numbers itself, in each dialect's spelling.
private func generatedID(_ dialect: SQLDialect) -> String {
    switch dialect {
    case .sqlite: "id INTEGER PRIMARY KEY AUTOINCREMENT"
    case .postgres: "id BIGSERIAL PRIMARY KEY"
    }
}
