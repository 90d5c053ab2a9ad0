import Foundation
import Logging
import PulseDatabase
import PulseJobs
import PulseMedia
import PulseStorage
import PulseTestSupport
import Synchronization
import Testing

/// A `Database` that counts the statements that write an asset's progress, and their values.
final class ProgressCountingDatabase: Database {
    let base: any Database
    private let writes = Mutex<[Double]>([])

    init(_ base: any Database) { self.base = base }

    var dialect: SQLDialect { base.dialect }
    /// The percent of every `UPDATE assets SET progress` statement, in order.
    var progressWrites: [Double] { writes.withLock { $0 } }

    func record(_ sql: String, _ binds: [DatabaseValue]) {
        let statement = sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        guard statement.hasPrefix("UPDATE assets SET progress") else { return }
        // AssetRepository.updateProgress: $1 id, $2 updated_at, $3 percent.
        let percent = binds.count > 2 ? binds[2].doubleValue ?? -1 : -1
        writes.withLock { $0.append(percent) }
    }

    func query(_ sql: String, _ binds: [DatabaseValue]) async throws -> [DatabaseRow] {
        record(sql, binds)
        return try await base.query(sql, binds)
    }

    func execute(_ sql: String, _ binds: [DatabaseValue]) async throws -> Int {
        record(sql, binds)
        return try await base.execute(sql, binds)
    }

    func transaction<T: Sendable>(_ body: (any DatabaseTransaction) async throws -> T) async throws -> T {
        try await base.transaction { transaction in
            try await body(CountingTransaction(base: transaction, counter: self))
        }
    }

    private struct CountingTransaction: DatabaseTransaction {
        let base: any DatabaseTransaction
        let counter: ProgressCountingDatabase
        var dialect: SQLDialect { base.dialect }

        func query(_ sql: String, _ binds: [DatabaseValue]) async throws -> [DatabaseRow] {
            counter.record(sql, binds)
            return try await base.query(sql, binds)
        }

        func execute(_ sql: String, _ binds: [DatabaseValue]) async throws -> Int {
            counter.record(sql, binds)
            return try await base.execute(sql, binds)
        }
    }
}

/// What one in-process run of an asset showed.
struct ThrottleObservation: Sendable {
    var events: [AssetEvent]
    var progressWrites: [Double]
    var asset: Asset?
}

/// Queues the 6 s clip on `base` (through the counting decorator), runs a draining `Worker` with the
/// in-process bus and local storage under `folder`, and collects the asset's events up to `ready`.
func runThrottledAsset(base: any Database, folder: String) async throws -> ThrottleObservation {
    _ = try await migrate(base, logger: TestServices.logger)
    let database = ProgressCountingDatabase(base)
    let bus = InProcessEventBus()
    let (worker, asset) = try await clipWithInProcessWorker(
        database: database, folder: folder, bus: bus, segmentSeconds: 1, chunkSeconds: 1, preset: "ultrafast", leaseSeconds: 30)
    let stream = bus.subscribe(assetID: asset.id)
    try await JobQueue(database: database).enqueue(assetID: asset.id, kind: .prepare)
    let events = try await collectEvents(stream, whileRunning: worker, timeout: .seconds(90))
    return ThrottleObservation(events: events, progressWrites: database.progressWrites, asset: try await AssetRepository(database: base).get(asset.id))
}

/// Runs `worker` (draining) and reads `stream` up to a terminal event; returns once both are done.
func collectEvents(_ stream: AsyncStream<AssetEvent>, whileRunning worker: Worker, timeout: Duration) async throws -> [AssetEvent] {
    try await withThrowingTaskGroup(of: [AssetEvent]?.self) { group in
        group.addTask {
            try await worker.run()
            return nil
        }
        group.addTask {
            var events: [AssetEvent] = []
            for await event in stream {
                events.append(event)
                if event.type == .ready || event.type == .failed { break }
            }
            return events
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TimeoutError(timeout: timeout, what: "the asset's terminal event and the worker to drain")
        }
        var events: [AssetEvent]?
        var workerDone = false
        while events == nil || !workerDone {
            guard let next = try await group.next() else { break }
            if let next { events = next } else { workerDone = true }
        }
        group.cancelAll()
        return events ?? []
    }
}

extension IntegrationTests {
    @Suite struct Throttle {
        /// The progress throttle, end to end through `Worker` and the in-process bus: subscribers hear
        /// every >= 2 point change and never a step back, the database is written every >= 10
        /// points (counted at the SQL), the thumbnail goes out before the transcode progresses,
        /// and the last event is `ready`.
        @Test(.timeLimit(.minutes(2)), arguments: Engine.all)
        func progressIsThrottledForSubscribersAndTheDatabase(engine: Engine) async throws {
            let observed = try await withTestFolder("pulse-it-throttle") { folder in
                try await withTestLocation(engine) { url in
                    try await withDatabase(url: url, logger: TestServices.logger) { base in
                        try await runThrottledAsset(base: base, folder: folder)
                    }
                }
            }
            let events = observed.events
            let writes = observed.progressWrites

            print("[throttle \(engine)] events: \(events.map { $0.type == .progress ? "\($0.percent ?? -1)" : $0.type.rawValue }); database writes: \(writes)")
            let stored = try #require(observed.asset)
            #expect(stored.status == .ready && stored.progress == 100)
            #expect(events.allSatisfy { $0.assetID == stored.id })
            #expect(events.last?.type == .ready, "last event: \(String(describing: events.last?.type))")
            #expect(events.filter { $0.type == .ready }.count == 1)

            // Subscribers: every change of >= 2 points, never backwards (100 comes once, exactly).
            let progress = events.filter { $0.type == .progress }.compactMap(\.percent)
            #expect(progress.count >= 5, "too few progress events to judge the throttle: \(progress)")
            for (previous, next) in zip(progress, progress.dropFirst()) {
                #expect(next > previous, "progress went from \(previous) to \(next): \(progress)")
                if next < 100 { #expect(next - previous >= 2, "progress events \(previous) -> \(next) are less than 2 points apart: \(progress)") }
            }
            #expect(progress.filter { $0 == 100 }.count == 1, "100 %: \(progress)")
            #expect(events.contains { $0.type == .progress && $0.etaSeconds != nil }, "no progress event carries an ETA")

            // The thumbnail is announced at once: before the transcode makes any real progress.
            let thumbnail = try #require(events.firstIndex { $0.type == .thumbnailReady }, "no thumbnail_ready event")
            if let firstPast10 = events.firstIndex(where: { $0.type == .progress && ($0.percent ?? 0) > 10 }) {
                #expect(thumbnail < firstPast10, "thumbnail_ready came after progress above 10 %")
            }

            // The database: every >= 10 points, so at most 11 writes (0 -> 10 -> ... -> 100).
            #expect(!writes.isEmpty && writes.count <= 11, "\(writes.count) progress writes: \(writes)")
            #expect(writes.filter { $0 == 100 }.count == 1, "100 must be written once: \(writes)")
            for (previous, next) in zip([0.0] + writes, writes) where next < 100 {
                #expect(next - previous >= 10, "progress written at \(previous) then \(next): \(writes)")
            }
        }
    }
}
