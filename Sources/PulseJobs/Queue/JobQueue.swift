public import Foundation
import Metrics
public import PulseDatabase
public import PulseSupport

/// The durable job queue: at-least-once delivery with leases, on both engines.
///
/// A worker `claim`s a job, which leases it until `lease_expires_at`; `heartbeat` extends the lease;
/// `complete` acknowledges it. If the worker dies, the lease expires and the next `claim` hands the
/// job to someone else (Celery's `acks_late` with `reject_on_worker_lost`).
///
/// A lost lease counts as one of the job's `max_attempts` only when it is evidence of a poison job:
/// its holder made no progress under it (no segment or checkpoint stored) and its worker lost no
/// other lease at the same instant. Any other loss is excused: a crash storm that kills workers
/// running two jobs each costs no job its attempts. Excused losses have their own bound
/// (`maxExcusedLosses`), so a job that kills its worker every time still ends, failed and reported
/// by `claim`, rather than looping forever.
public struct JobQueue: Sendable {
    public let database: any Database
    public let clock: EpochClock
    /// Waits before a job that failed transiently runs again.
    public let backoff: RetryPolicy
    /// Attempts a job gets when `enqueue` is not told otherwise.
    public let defaultMaxAttempts: Int
    /// Waits between retries while storage is out.
    public let outageBackoff: RetryPolicy
    /// Lost leases a job may have excused (progress made, or its worker lost with others) before
    /// the next loss counts against its attempts again.
    public let maxExcusedLosses: Int
    /// How often a claim settles expired leases while there is ready work.
    let sweeps: LeaseSweepSchedule

    private let metrics = QueueMetrics()

    /// A queue over a migrated database.
    public init(
        database: any Database,
        clock: EpochClock = .system,
        backoff: RetryPolicy = .jobFailure,
        outageBackoff: RetryPolicy = .storageOutage,
        defaultMaxAttempts: Int = 5,
        maxExcusedLosses: Int = 10,
        sweepIntervalSeconds: Double = 1
    ) {
        self.database = database
        self.clock = clock
        self.backoff = backoff
        self.outageBackoff = outageBackoff
        self.defaultMaxAttempts = defaultMaxAttempts
        self.maxExcusedLosses = maxExcusedLosses
        self.sweeps = LeaseSweepSchedule(interval: sweepIntervalSeconds)
    }

    static let columns = """
        id, asset_id, kind, chunk_index, status, attempts, max_attempts, run_at, lease_owner, \
        lease_expires_at, last_error, outage_since, created_at, updated_at, loss_excused, excused_losses
        """

    /// The `jobs` table as leased work. Ready means queued with `run_at <= now` (a lost lease is
    /// queued again, or failed, when `claim` settles it); the earliest `run_at` goes first. Each
    /// claim starts a lease with no excuse yet.
    static let leases = LeasedTable(
        name: "jobs",
        columns: columns,
        heldStatus: JobStatus.running.rawValue,
        ready: "status = 'queued' AND run_at <= $3",
        order: "run_at, id",
        updatedAt: "updated_at",
        claimed: "loss_excused = 0"
    )

    /// The error stored on a job failed because its lease ran out with no attempts left.
    public static let workerLostError = "lease expired on the last attempt (worker lost)"

    /// The attempts that count against `max_attempts`: claims, less the lost leases excused.
    static let countedAttempts = "attempts - excused_losses"

    // MARK: - Producing

    /// Queues a job unless one with the same `(assetID, kind, chunkIndex)` exists (whatever its
    /// status). Returns true when this call queued it.
    @discardableResult
    public func enqueue(
        assetID: UUID,
        kind: JobKind,
        chunkIndex: Int? = nil,
        runAt: Double? = nil,
        maxAttempts: Int? = nil
    ) async throws -> Bool {
        let queued = try await Self.insert(
            on: self.database,
            assetID: assetID,
            kind: kind,
            chunkIndex: chunkIndex,
            runAt: runAt ?? self.clock.now(),
            maxAttempts: maxAttempts ?? self.defaultMaxAttempts,
            now: self.clock.now()
        )
        if queued { WorkSignal.shared.signal() }
        return queued
    }

    /// Queues several jobs of one asset in one transaction (e.g. every chunk); existing ones are
    /// left alone. Returns how many were new.
    @discardableResult
    public func enqueue(
        assetID: UUID,
        kind: JobKind,
        chunkIndices: [Int],
        maxAttempts: Int? = nil
    ) async throws -> Int {
        let now = self.clock.now()
        let maxAttempts = maxAttempts ?? self.defaultMaxAttempts
        let inserted = try await self.database.transaction { transaction in
            var inserted = 0
            for index in chunkIndices {
                let new = try await Self.insert(
                    on: transaction, assetID: assetID, kind: kind, chunkIndex: index,
                    runAt: now, maxAttempts: maxAttempts, now: now
                )
                if new { inserted += 1 }
            }
            return inserted
        }
        if inserted > 0 { WorkSignal.shared.signal() }
        return inserted
    }

    private static func insert(
        on executor: any DatabaseExecutor,
        assetID: UUID,
        kind: JobKind,
        chunkIndex: Int?,
        runAt: Double,
        maxAttempts: Int,
        now: Double
    ) async throws -> Bool {
        // -1 stands for "no chunk": NULLs never collide in a UNIQUE constraint, -1 does.
        try await executor.execute(
            """
            INSERT INTO jobs (asset_id, kind, chunk_index, status, attempts, max_attempts, run_at,
                              created_at, updated_at)
            VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $6)
            ON CONFLICT (asset_id, kind, chunk_index) DO NOTHING
            """,
            [
                .text(assetID.databaseText), .text(kind.rawValue), .int(Int64(chunkIndex ?? -1)),
                .int(Int64(max(1, maxAttempts))), .double(runAt), .double(now),
            ]
        ) > 0
    }

    // MARK: - Consuming

    /// Leases the next ready job to `workerID` for `leaseSeconds`, after settling the leases that
    /// expired (queued again, or failed and reported when they have no attempts left) when that is
    /// due: before a claim that finds no ready job, and at most once per `sweeps.interval` beside
    /// ready work (`LeaseSweepSchedule`).
    ///
    /// Ready means queued with `run_at <= now` (`LeasedTable`: one statement; `FOR UPDATE SKIP
    /// LOCKED` on PostgreSQL, one writer at a time on SQLite).
    public func claim(workerID: String, leaseSeconds: Double) async throws -> Claim {
        let now = self.clock.now()
        let (maxExcused, sweeps) = (self.maxExcusedLosses, self.sweeps)
        let claim = try await LeasedTable.claiming(on: self.database) { executor in
            let claimNext = { try await Self.leases.claim(on: executor, owner: workerID, until: now + leaseSeconds, now: now) }
            let due = sweeps.isDue(at: now)
            if !due, let row = try await claimNext() {
                return Claim(job: try Self.job(row), exhausted: [])
            }
            let settled = try await Self.settleExpiredLeases(on: executor, now: now, maxExcusedLosses: maxExcused)
            sweeps.swept(at: now)
            // After a claim that found nothing, another finds something only if a job was queued again.
            let row = due || settled.requeued > 0 ? try await claimNext() : nil
            return Claim(job: try row.map(Self.job), exhausted: settled.exhausted)
        }
        if claim.job != nil { self.metrics.claimed.increment() }
        if !claim.exhausted.isEmpty { self.metrics.exhausted.increment(by: claim.exhausted.count) }
        return claim
    }

    /// Settles every expired lease, the leases lost together excused first; returns how many jobs
    /// were queued again and those failed for want of attempts.
    private static func settleExpiredLeases(
        on executor: any DatabaseExecutor, now: Double, maxExcusedLosses: Int
    ) async throws -> (requeued: Int, exhausted: [Job]) {
        try await Self.excuseLeasesLostTogether(on: executor, now: now)
        let settled = try await Self.settleLostLeases(on: executor, now: now, maxExcusedLosses: maxExcusedLosses)
        let exhausted = settled.filter { $0.status == .failed }
        return (settled.count - exhausted.count, exhausted)
    }

    /// Excuses the leases a worker lost at one instant: when one of its leases has expired, every
    /// lease of the same holder that went silent (last written) within half a lease of it is a
    /// loss of the worker, not of the job. A live worker renews its other leases every third of
    /// one, so a job that loses its lease alone beside them is not excused. Runs before every
    /// settlement, so the leases of a dead worker that expire later are already marked when the
    /// first one is settled and handed to another worker.
    private static func excuseLeasesLostTogether(on executor: any DatabaseExecutor, now: Double) async throws {
        try await executor.execute(
            """
            UPDATE jobs SET loss_excused = 1
            WHERE status = 'running' AND loss_excused = 0 AND EXISTS (
                SELECT 1 FROM jobs AS other
                WHERE other.status = 'running' AND other.lease_owner = jobs.lease_owner AND other.id <> jobs.id
                  AND (other.lease_expires_at < $1 OR jobs.lease_expires_at < $1)
                  AND ABS(other.updated_at - jobs.updated_at) * 2 < other.lease_expires_at - other.updated_at
            )
            """,
            [.double(now)]
        )
    }

    /// Ends every expired lease: the job is queued again (keeping its `run_at`, so it goes first),
    /// the loss excused (within `maxExcusedLosses`) or counted as an attempt, or failed when it has
    /// no attempts left. Returns every job it settled, as settled.
    private static func settleLostLeases(on executor: any DatabaseExecutor, now: Double, maxExcusedLosses: Int) async throws -> [Job] {
        // On PostgreSQL two concurrent claimers both wait on the row lock; the second re-checks the
        // WHERE clause after the first commits, finds the lease settled, and skips it: reported once.
        let excused = "loss_excused = 1 AND excused_losses < $3"
        let requeued = "(\(excused)) OR \(Self.countedAttempts) < max_attempts"
        return try await executor.query(
            """
            UPDATE jobs SET
                status = CASE WHEN \(requeued) THEN 'queued' ELSE 'failed' END,
                last_error = CASE WHEN \(requeued) THEN last_error ELSE $2 END,
                excused_losses = excused_losses + CASE WHEN \(excused) THEN 1 ELSE 0 END,
                lease_owner = NULL, lease_expires_at = NULL, loss_excused = 0, updated_at = $1
            WHERE status = 'running' AND lease_expires_at < $1
            RETURNING \(Self.columns)
            """,
            [.double(now), .text(Self.workerLostError), .int(Int64(maxExcusedLosses))]
        ).map(Self.job)
    }

    // MARK: - Lease holder's calls

    /// Extends the lease to `leaseSeconds` from now. False means the lease is lost (taken over after
    /// it expired, or the job was failed): stop working on the job. A job that lives to renew its
    /// lease is past any outage it waited out: the next one is a new outage, with its own budget.
    public func heartbeat(_ job: Job, leaseSeconds: Double) async throws -> Bool {
        let now = self.clock.now()
        let extended = try await Self.leases.renew(
            job.lease, until: now + leaseSeconds, also: "outage_since = NULL", now: now, on: self.database
        )
        if !extended { self.metrics.leaseLost.increment() }
        return extended
    }

    /// Records that the holder made progress under this lease (stored a segment or a checkpoint):
    /// if the lease is lost now, the loss is not evidence of a poison job. False means the lease
    /// is lost.
    @discardableResult
    public func recordProgress(_ job: Job) async throws -> Bool {
        try await Self.recordProgress(job, now: self.clock.now(), on: self.database)
    }

    /// `recordProgress` on `executor`, e.g. in the transaction of a checkpoint.
    static func recordProgress(_ job: Job, now: Double, on executor: any DatabaseExecutor) async throws -> Bool {
        try await Self.leases.update(job.lease, set: "loss_excused = 1", now: now, on: executor) != nil
    }

    /// Acknowledges the job as done. False means the lease was lost; the work may be redone by the
    /// new holder, which is why every step of a job must be idempotent.
    public func complete(_ job: Job) async throws -> Bool {
        let done = try await Self.leases.update(
            job.lease, set: "status = 'done', lease_expires_at = NULL", now: self.clock.now(), on: self.database
        ) != nil
        if done { self.metrics.completed.increment() } else { self.metrics.leaseLost.increment() }
        return done
    }

    /// Queues the job again after a transient failure, no earlier than `delay` seconds from now
    /// (default: the backoff for its attempt count), or fails it when it has no attempts left.
    /// The job's outage, if it had one, is over (unless `outageGoesOn`: one past its budget).
    public func retry(_ job: Job, error: String, delay: Double? = nil, outageGoesOn: Bool = false) async throws -> RetryOutcome {
        let now = self.clock.now()
        let runAt = now + (delay ?? self.backoff.delay(afterAttempt: job.attempts))
        let row = try await Self.leases.release(
            job.lease,
            set: """
                status = CASE WHEN \(Self.countedAttempts) >= max_attempts THEN 'failed' ELSE 'queued' END, \
                run_at = $4, last_error = $5\(outageGoesOn ? "" : ", outage_since = NULL")
                """,
            [.double(runAt), .text(error)],
            now: now,
            returning: "status",
            on: self.database
        )
        guard let row else {
            self.metrics.leaseLost.increment()
            return .leaseLost
        }
        if try row.text("status") == JobStatus.failed.rawValue {
            self.metrics.failed.increment()
            return .exhausted
        }
        self.metrics.retried.increment()
        return .scheduled(runAt: runAt)
    }

    /// Queues the job again after an outage (storage or database out of reach), giving the
    /// attempt back: an outage of minutes must not use up the attempts that stop a poison job.
    /// Waits grow with the outage (`outageBackoff`, capped). Once the outage has lasted
    /// `budget` seconds it is retried as any transient failure, attempts counted, so a store that
    /// never comes back still ends the job.
    public func retryAfterOutage(_ job: Job, error: String, budget: Double) async throws -> RetryOutcome {
        let now = self.clock.now()
        let since = job.outageSince ?? now
        guard now - since < budget else { return try await self.retry(job, error: error, outageGoesOn: true) }
        let runAt = now + self.outageBackoff.delay(afterAttempt: job.attempts, failingFor: now - since)
        let requeued = try await Self.leases.release(
            job.lease,
            set: """
                status = 'queued', attempts = attempts - 1, run_at = $4, last_error = $5, \
                outage_since = COALESCE(outage_since, $6)
                """,
            [.double(runAt), .text(error), .double(since)],
            now: now,
            on: self.database
        ) != nil
        guard requeued else {
            self.metrics.leaseLost.increment()
            return .leaseLost
        }
        self.metrics.retried.increment()
        return .scheduled(runAt: runAt)
    }

    /// Fails the job for good (a media error: retrying cannot help). False means the lease was lost.
    public func fail(_ job: Job, error: String) async throws -> Bool {
        let failed = try await Self.leases.update(
            job.lease, set: "status = 'failed', last_error = $4, lease_expires_at = NULL", [.text(error)],
            now: self.clock.now(), on: self.database
        ) != nil
        if failed { self.metrics.failed.increment() }
        return failed
    }

    /// Gives the job back at once without counting the attempt (graceful shutdown), so another worker
    /// resumes it now instead of after the lease expires. False means the lease was lost.
    public func release(_ job: Job) async throws -> Bool {
        let now = self.clock.now()
        return try await Self.leases.release(
            job.lease, set: "status = 'queued', run_at = $4, attempts = attempts - 1", [.double(now)], now: now,
            on: self.database
        ) != nil
    }

    // MARK: - Inspection

    /// Jobs not finished yet: queued (now or later) or running.
    public func pendingCount() async throws -> Int {
        try await self.count("status IN ('queued', 'running')", [])
    }

    /// An asset's jobs, oldest first.
    public func jobs(assetID: UUID) async throws -> [Job] {
        try await self.database.query(
            "SELECT \(Self.columns) FROM jobs WHERE asset_id = $1 ORDER BY id",
            [.text(assetID.databaseText)]
        ).map(Self.job)
    }

    /// The job with this id, or nil.
    public func job(id: Int64) async throws -> Job? {
        try await self.database.queryFirst("SELECT \(Self.columns) FROM jobs WHERE id = $1", [.int(id)])
            .map(Self.job)
    }

    /// Deletes an asset's jobs (to reprocess it from scratch); returns how many.
    @discardableResult
    public func deleteJobs(assetID: UUID) async throws -> Int {
        try await self.database.execute("DELETE FROM jobs WHERE asset_id = $1", [.text(assetID.databaseText)])
    }

    // MARK: - Helpers

    private func count(_ condition: String, _ binds: [DatabaseValue]) async throws -> Int {
        let row = try await self.database.queryFirst("SELECT COUNT(*) AS n FROM jobs WHERE \(condition)", binds)
        return Int(try row?.int("n") ?? 0)
    }

    static func job(_ row: DatabaseRow) throws -> Job {
        let assetText = try row.text("asset_id")
        guard let assetID = UUID(uuidString: assetText) else {
            throw DatabaseError(.decoding, message: "job asset_id \(assetText) is not a UUID")
        }
        let chunkIndex = Int(try row.int("chunk_index"))
        return Job(
            id: try row.int("id"),
            assetID: assetID,
            kind: JobKind(rawValue: try row.text("kind")),
            chunkIndex: chunkIndex < 0 ? nil : chunkIndex,
            status: try AssetRepository.enumValue(JobStatus.self, row, "status"),
            attempts: Int(try row.int("attempts")),
            maxAttempts: Int(try row.int("max_attempts")),
            runAt: try row.double("run_at"),
            leaseOwner: try row.optionalText("lease_owner"),
            leaseExpiresAt: try row.optionalDouble("lease_expires_at"),
            lastError: try row.optionalText("last_error"),
            outageSince: try row.optionalDouble("outage_since"),
            createdAt: try row.double("created_at"),
            updatedAt: try row.double("updated_at"),
            lossExcused: try row.int("loss_excused") != 0,
            excusedLosses: Int(try row.int("excused_losses"))
        )
    }
}

extension Job {
    /// The lease this job, as claimed, stands for.
    var lease: Lease { Lease(id: .int(self.id), owner: self.leaseOwner, attempt: self.attempts) }
}

/// Counters for the queue, exported by whatever metrics backend the process bootstrapped.
struct QueueMetrics: Sendable {
    let claimed = Counter(label: "pulse_jobs_claimed_total")
    let completed = Counter(label: "pulse_jobs_completed_total")
    let retried = Counter(label: "pulse_jobs_retried_total")
    let failed = Counter(label: "pulse_jobs_failed_total")
    let exhausted = Counter(label: "pulse_jobs_worker_lost_total")
    let leaseLost = Counter(label: "pulse_jobs_lease_lost_total")
}
