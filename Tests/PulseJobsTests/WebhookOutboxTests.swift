import Foundation
import PulseDatabase
import PulseJobs
import PulseSupport
import PulseTestSupport
import Testing

/// The webhook outbox: written in the transaction of the state change it announces, leased to
/// one deliverer at a time, retried on the policy's schedule.
@Suite struct WebhookOutboxTests {
    private func outboxRows(_ database: any Database, _ id: UUID) async throws -> [(type: String, asset: Asset)] {
        try await WebhookOutbox(database: database).deliveries(assetID: id, limit: 100).reversed().map { ($0.message.type.rawValue, $0.message.asset) }
    }

    @Test(arguments: Engine.all)
    func eachStateChangeWritesOneEventWithTheRowAfterIt(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let assets = AssetRepository(database: database, clock: clock.clock)
            let id = try await makeAsset(database, clock: clock)
            #expect(try await outboxRows(database, id).isEmpty)

            clock.advance(by: 1)
            #expect(try await assets.setThumbnail(id, key: "processed/x/thumbnail.jpg"))
            // The same key again (a retried prepare) changes nothing and announces nothing.
            #expect(try await assets.setThumbnail(id, key: "processed/x/thumbnail.jpg"))
            clock.advance(by: 1)
            #expect(try await assets.markReady(id))
            #expect(try await assets.markReady(id))  // a retried finalize: no second event

            let rows = try await outboxRows(database, id)
            #expect(rows.map(\.type) == ["asset.thumbnail_ready", "asset.ready"])
            #expect(rows[0].asset.thumbnailKey == "processed/x/thumbnail.jpg")
            #expect(rows[0].asset.status == .queued)
            #expect(rows[1].asset.status == .ready)
            #expect(rows[1].asset.readyAt == clock.now)
            // A ready asset is never failed, so nothing is announced either.
            #expect(try await assets.fail(id, code: .internalError, message: "late") == false)
            #expect(try await outboxRows(database, id).count == 2)

            let other = try await makeAsset(database, clock: clock)
            #expect(try await assets.fail(other, code: .malformedVideo, message: "broken"))
            #expect(try await assets.fail(other, code: .malformedVideo, message: "broken again"))
            let failed = try await outboxRows(database, other)
            #expect(failed.map(\.type) == ["asset.failed"])
            #expect(failed[0].asset.errorCode == .malformedVideo)
            #expect(failed[0].asset.errorMessage == "broken")
        }
    }

    /// The proof that it is one transaction: when the outbox insert fails, the state change is
    /// rolled back with it (a crash between the two cannot leave one without the other).
    @Test(arguments: Engine.all)
    func aFailedOutboxWriteRollsTheStateChangeBack(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let assets = AssetRepository(database: database, clock: clock.clock)
            let id = try await makeAsset(database, clock: clock)
            try await database.execute("ALTER TABLE webhook_outbox RENAME TO webhook_outbox_away")
            await #expect(throws: (any Error).self) { try await assets.setThumbnail(id, key: "processed/x/thumbnail.jpg") }
            await #expect(throws: (any Error).self) { try await assets.markReady(id) }
            await #expect(throws: (any Error).self) { try await assets.fail(id, code: .internalError, message: "x") }
            let asset = try #require(try await assets.get(id))
            #expect(asset.thumbnailKey == nil)
            #expect(asset.status == .queued)
            #expect(asset.errorCode == nil)
            try await database.execute("ALTER TABLE webhook_outbox_away RENAME TO webhook_outbox")
            #expect(try await assets.markReady(id))
            #expect(try await outboxRows(database, id).map(\.type) == ["asset.ready"])
        }
    }

    /// `record` is usable inside any transaction (the lead's `asset.playable` is one line).
    @Test(arguments: Engine.all)
    func recordJoinsTheCallersTransaction(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let id = try await makeAsset(database, clock: clock)
            let asset = try #require(try await AssetRepository(database: database, clock: clock.clock).get(id))
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await database.transaction { transaction in
                    try await WebhookOutbox.record(.playable, asset: asset, on: transaction, now: clock.now)
                    throw Abort()
                }
            }
            #expect(try await outboxRows(database, id).isEmpty)
            let messageID = try await database.transaction { transaction in
                try await WebhookOutbox.record(.playable, asset: asset, on: transaction, now: clock.now)
            }
            #expect(messageID.hasPrefix("msg_") && messageID.count == 36)
            #expect(try await outboxRows(database, id).map(\.type) == ["asset.playable"])
        }
    }

    @Test(arguments: Engine.all)
    func claimLeasesOneMessageAndFinishIsFencedByTheLease(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let outbox = WebhookOutbox(database: database, clock: clock.clock)
            let id = try await makeAsset(database, clock: clock)
            #expect(try await AssetRepository(database: database, clock: clock.clock).markReady(id))

            let first = try #require(try await outbox.claim(owner: "a", leaseSeconds: 30))
            #expect(first.attempts == 1 && first.type == .ready && first.assetID == id)
            // Leased: nobody else gets it until the lease runs out.
            #expect(try await outbox.claim(owner: "b", leaseSeconds: 30) == nil)
            clock.advance(by: 31)
            let second = try #require(try await outbox.claim(owner: "b", leaseSeconds: 30))
            #expect(second.id == first.id && second.attempts == 2)
            // The first holder lost its lease: its result is not written.
            #expect(try await outbox.finish(first, deliveredTo: ["k1"], result: .delivered) == false)
            #expect(try await outbox.finish(second, deliveredTo: ["k1"], result: .retry(at: clock.now + 5)))
            #expect(try await outbox.claim(owner: "c", leaseSeconds: 30) == nil)
            clock.advance(by: 5)
            let third = try #require(try await outbox.claim(owner: "c", leaseSeconds: 30))
            #expect(third.id == first.id && third.attempts == 3 && third.deliveredTo == ["k1"])
            try await outbox.recordAttempt(third, WebhookAttempt(
                attempt: 3, endpoint: "http://example.com/hook", attemptedAt: clock.now, durationMilliseconds: 12.5,
                statusCode: 503, outcome: .failed, error: "http_status"))
            #expect(try await outbox.finish(third, deliveredTo: ["k1"], result: .gaveUp))
            #expect(try await outbox.claim(owner: "d", leaseSeconds: 30) == nil)
            let listed = try #require(try await outbox.deliveries(assetID: id).first)
            #expect(listed.status == "failed" && listed.finishedAt == clock.now && listed.nextAttemptAt == nil)
            #expect(listed.attempts.map(\.statusCode) == [503])

            // Pruned by age, attempts with it.
            #expect(try await outbox.prune(createdBefore: clock.now - 1000) == 0)
            #expect(try await outbox.prune(createdBefore: clock.now + 1) == 1)
            #expect(try await outbox.deliveries(assetID: id).isEmpty)
        }
    }

    @Test(arguments: Engine.postgresOnly)
    func concurrentDeliverersNeverShareAMessage(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let assets = AssetRepository(database: database, clock: clock.clock)
            for _ in 0..<20 { _ = try await assets.markReady(try await makeAsset(database, clock: clock)) }
            let outbox = WebhookOutbox(database: database, clock: clock.clock)
            let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
                for owner in 0..<4 {
                    group.addTask {
                        var mine: [String] = []
                        while let message = try await outbox.claim(owner: "d\(owner)", leaseSeconds: 60) { mine.append(message.id) }
                        return mine
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(claimed.count == 20)
            #expect(Set(claimed).count == 20)
        }
    }

    @Test func retryScheduleStartsWithinFiveSecondsAndCoversADay() {
        // The largest draw everywhere: the ceilings themselves.
        var highest = RetryPolicy.webhookDelivery
        highest.random = { 1 }
        #expect(highest.nextAttempt(afterAttempt: 1, startedAt: 0, now: 0) == 5)
        #expect(highest.nextAttempt(afterAttempt: 2, startedAt: 0, now: 100) == 110)
        #expect(highest.nextAttempt(afterAttempt: 20, startedAt: 0, now: 100) == 3700)
        // The smallest draw everywhere still retries until a failure at 24 h or later.
        var lowest = RetryPolicy.webhookDelivery
        lowest.random = { 0 }
        #expect(lowest.nextAttempt(afterAttempt: 1, startedAt: 0, now: 0) == 0)
        #expect(lowest.nextAttempt(afterAttempt: 500, startedAt: 0, now: 86_399) == 86_399)
        #expect(lowest.nextAttempt(afterAttempt: 500, startedAt: 0, now: 86_400) == nil)
        // Simulated with real jitter: the last attempt is at or after 24 h, never much later than
        // a day plus one cap.
        let policy = RetryPolicy.webhookDelivery
        for _ in 0..<50 {
            var now = 0.0, attempt = 1, last = 0.0
            while let next = policy.nextAttempt(afterAttempt: attempt, startedAt: 0, now: now) {
                #expect(next >= now && next - now <= 3600)
                if attempt == 1 { #expect(next <= 5) }
                now = next; last = next; attempt += 1
            }
            #expect(last >= 86_400 - 3600 && now >= 86_400 && now < 86_400 + 3600)
        }
    }
}
