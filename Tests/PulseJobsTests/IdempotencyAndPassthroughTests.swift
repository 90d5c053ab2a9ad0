import Foundation
import PulseDatabase
import PulseJobs
import PulseTestSupport
import Testing

/// Create options in the database: `Idempotency-Key` rows (one asset per key and request, 24 h,
/// concurrent duplicates create one asset) and the create options an asset keeps.
@Suite struct IdempotencyAndPassthroughTests {
    func new(_ passthrough: String? = nil, policy: PlaybackPolicy = .public, mp4: Bool = false) -> NewAsset {
        AssetLifecycle.newUpload(filename: "clip.mp4", passthrough: passthrough, playbackPolicy: policy, mp4: mp4)
    }

    func assetCount(_ database: any Database) async throws -> Int64 {
        try await database.queryFirst("SELECT COUNT(*) AS n FROM assets")!.int("n")
    }

    @Test(arguments: Engine.all)
    func sameKeySameRequestIsTheSameAssetAnotherRequestIsRefused(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let keys = IdempotencyKeys(database: database, clock: clock.clock)
            guard case .created(let first) = try await keys.create(new("msg-1", policy: .signed, mp4: true), key: "k1", fingerprint: "f1") else {
                Issue.record("the first create with a key did not create")
                return
            }
            #expect(first.passthrough == "msg-1" && first.playbackPolicy == .signed && first.mp4)
            clock.advance(by: 3600)
            #expect(try await keys.create(new("msg-1"), key: "k1", fingerprint: "f1") == .replayed(first))
            #expect(try await keys.create(new("msg-2"), key: "k1", fingerprint: "f2") == .reused)
            #expect(try await assetCount(database) == 1)
            // Another key is another asset.
            guard case .created(let second) = try await keys.create(new("msg-1"), key: "k2", fingerprint: "f1") else {
                Issue.record("another key did not create")
                return
            }
            #expect(second.id != first.id)
        }
    }

    @Test(arguments: Engine.all)
    func aKeyIsForgottenAfter24HoursAndWithItsAsset(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let keys = IdempotencyKeys(database: database, clock: clock.clock)
            guard case .created(let first) = try await keys.create(new(), key: "k", fingerprint: "f") else {
                Issue.record("no create")
                return
            }
            clock.advance(by: IdempotencyKeys.lifetime - 1)
            #expect(try await keys.create(new(), key: "k", fingerprint: "other") == .reused)
            clock.advance(by: 1)
            guard case .created(let later) = try await keys.create(new(), key: "k", fingerprint: "other") else {
                Issue.record("an expired key was not free again")
                return
            }
            #expect(later.id != first.id)
            // Deleting the asset deletes its key.
            #expect(try await AssetRepository(database: database, clock: clock.clock).delete(later.id))
            let rows = try await database.query("SELECT idempotency_key FROM idempotency_keys", [])
            #expect(rows.isEmpty)
        }
    }

    @Test(arguments: Engine.all)
    func concurrentDuplicatesCreateOneAsset(engine: Engine) async throws {
        try await withTestLocation(engine) { url in
            try await withEngines(url, count: 3) { engines in
                try await migrate(engines[0], logger: TestServices.logger)
                // 12 requests with one key over three engines (own connections each), all at once.
                let outcomes = try await withThrowingTaskGroup(of: IdempotencyKeys.Outcome.self) { group in
                    for index in 0..<12 {
                        let database = engines[index % engines.count]
                        group.addTask { try await IdempotencyKeys(database: database).create(new("m"), key: "same", fingerprint: "f") }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                var created: [UUID] = []
                var replayed: [UUID] = []
                for outcome in outcomes {
                    switch outcome {
                    case .created(let asset): created.append(asset.id)
                    case .replayed(let asset?): replayed.append(asset.id)
                    default: Issue.record("unexpected \(outcome)")
                    }
                }
                #expect(created.count == 1)
                #expect(replayed.count == 11)
                #expect(Set(replayed) == Set(created))
                #expect(try await assetCount(engines[0]) == 1)
            }
        }
    }

    @Test(arguments: Engine.all)
    func listFiltersByPassthroughAndStatus(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let assets = AssetRepository(database: database, clock: clock.clock)
            var ids: [String: UUID] = [:]
            for name in ["a", "b", "a2"] {
                clock.advance(by: 1)
                ids[name] = try await assets.create(new(name == "b" ? "msg-b" : "msg-a")).id
            }
            #expect(try await assets.markUploaded(ids["a2"]!, size: 10))
            let a = try await assets.list(limit: 10, passthrough: "msg-a")
            #expect(a.assets.map(\.id) == [ids["a2"]!, ids["a"]!])
            #expect(try await assets.list(limit: 10, passthrough: "msg-a", status: .queued).assets.map(\.id) == [ids["a2"]!])
            #expect(try await assets.list(limit: 10, status: .awaitingUpload).assets.map(\.id) == [ids["b"]!, ids["a"]!])
            #expect(try await assets.list(limit: 10, passthrough: "nobody").assets.isEmpty)
            // Paging with a filter: the cursor and the filter together.
            let first = try await assets.list(limit: 1, passthrough: "msg-a")
            let second = try await assets.list(limit: 1, after: first.next, passthrough: "msg-a")
            #expect(first.assets.map(\.id) == [ids["a2"]!] && second.assets.map(\.id) == [ids["a"]!] && second.next == nil)
            // Stored as given: the options and the download key round-trip.
            #expect(try await assets.setDownloadKey(ids["a"]!, key: StorageKeys.download(ids["a"]!)))
            let stored = try #require(try await assets.get(ids["a"]!))
            #expect(stored.downloadKey == "processed/\(StorageKeys.text(ids["a"]!))/download.mp4" && stored.playbackPolicy == .public && !stored.mp4)
        }
    }
}
