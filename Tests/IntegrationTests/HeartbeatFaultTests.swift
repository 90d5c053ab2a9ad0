import Foundation
import Logging
import PulseDatabase
import PulseJobs
import PulseMedia
import PulseStorage
import PulseTestSupport
import Synchronization
import Testing

/// A real SQLite database whose first few lease renewals fail as a dropped connection would: the
/// one fault a test cannot otherwise place at the instant a heartbeat runs.
final class FailingHeartbeatDatabase: Database {
    let base: any Database
    private let remaining: Mutex<Int>
    private let injected = Mutex(0)

    init(_ base: any Database, failures: Int) {
        self.base = base
        self.remaining = Mutex(failures)
    }

    var dialect: SQLDialect { base.dialect }
    var injectedFailures: Int { injected.withLock { $0 } }

    private func fault(_ sql: String) throws {
        // JobQueue.heartbeat: `UPDATE jobs SET lease_expires_at = $4, updated_at = ...`.
        guard sql.contains("SET lease_expires_at = $4") else { return }
        let fail = remaining.withLock { left in
            guard left > 0 else { return false }
            left -= 1
            return true
        }
        if fail {
            injected.withLock { $0 += 1 }
            throw DatabaseError(.unavailable, message: "injected: connection dropped")
        }
    }

    func query(_ sql: String, _ binds: [DatabaseValue]) async throws -> [DatabaseRow] {
        try fault(sql)
        return try await base.query(sql, binds)
    }

    func execute(_ sql: String, _ binds: [DatabaseValue]) async throws -> Int {
        try fault(sql)
        return try await base.execute(sql, binds)
    }

    func transaction<T: Sendable>(_ body: (any DatabaseTransaction) async throws -> T) async throws -> T {
        try await base.transaction(body)
    }
}

extension IntegrationTests {
    @Suite struct HeartbeatFault {
        /// Two heartbeats in a row fail while a chunk encodes (lease 6 s, renewed every 2 s, a
        /// failed renewal retried each second): the worker renews within two thirds of the lease,
        /// the encode goes on, and no job is tried twice. The limit catches a hang: a preset-medium
        /// encode on a loaded machine took over two minutes.
        @Test(.timeLimit(.minutes(5)))
        func aFailedHeartbeatDoesNotKillAHealthyEncode() async throws {
            try await withTestFolder("pulse-heartbeat") { folder in try await withDatabase(url: "sqlite://\(folder)/pulse.sqlite", logger: TestServices.logger) { base in
                _ = try await migrate(base, logger: TestServices.logger)
                let database = FailingHeartbeatDatabase(base, failures: 2)
                // Slow enough (one chunk, preset medium) that the encode outlives several heartbeats.
                let (worker, asset) = try await clipWithInProcessWorker(
                    database: database, folder: folder, segmentSeconds: 2, chunkSeconds: 60, preset: "medium", leaseSeconds: 6)
                try await JobQueue(database: base).enqueue(assetID: asset.id, kind: .prepare)
                try await worker.run()

                #expect(database.injectedFailures == 2, "the encode ended before two heartbeats were due")
                let done = try #require(try await AssetRepository(database: base).get(asset.id))
                #expect(done.status == .ready, "\(done.status) \(done.errorCode?.rawValue ?? "") \(done.errorMessage ?? "")")
                let jobs = try await JobQueue(database: base).jobs(assetID: asset.id)
                #expect(jobs.allSatisfy { $0.attempts == 1 && $0.lastError == nil }, "jobs: \(jobs.map { "\($0.kind) x\($0.attempts) \($0.lastError ?? "")" })")
            } }
        }
    }
}
