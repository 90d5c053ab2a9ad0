import Foundation
import PulseDatabase
import PulseJobs
import PulseTestSupport
import Testing

@Suite struct AssetRepositoryTests {
    @Test(arguments: Engine.all)
    func createGetDelete(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let assets = AssetRepository(database: database, clock: clock.clock)
            let created = try await assets.create(
                NewAsset(filename: "a.mp4", sourceKey: "uploads/a/a.mp4", sourceSize: 1234)
            )
            #expect(created.status == .awaitingUpload)
            #expect(created.progress == 0)
            #expect(created.hlsParts.isEmpty)
            #expect(created.createdAt == clock.now)
            let fetched = try await assets.get(created.id)
            #expect(fetched == created)
            try await assets.createChunks(created.id, [ChunkPlan(kind: .video, index: 0, startSeconds: 0, endSeconds: 60)])
            #expect(try await assets.delete(created.id))
            #expect(try await assets.get(created.id) == nil)
            #expect(try await assets.chunks(created.id).isEmpty)
            #expect(try await assets.delete(created.id) == false)
        }
    }

    /// The relays' re-read: many assets in one query, those being deleted or gone left out.
    @Test(arguments: Engine.all)
    func getManyReadsTheLiveOnes(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let assets = AssetRepository(database: database, clock: ManualClock().clock)
            var ids: [UUID] = []
            for index in 0..<4 {
                ids.append(try await assets.create(NewAsset(filename: "\(index).mp4", sourceKey: "uploads/\(index)", sourceSize: 1)).id)
            }
            #expect(try await assets.markDeleting(ids[1]))
            #expect(try await assets.delete(ids[2]))
            let read = try await assets.get(ids + [UUID()])
            #expect(Set(read.map(\.id)) == [ids[0], ids[3]])
            #expect(try await read.first { $0.id == ids[3] } == assets.get(ids[3]))
            #expect(try await assets.get([UUID]()).isEmpty)
        }
    }

    @Test(arguments: Engine.all)
    func listPagesNewestFirstWithStableTies(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let assets = AssetRepository(database: database, clock: clock.clock)
            var expected: [Asset] = []
            for step in 0..<5 {
                // Two assets share each of the first timestamps: the id breaks the tie.
                if step % 2 == 0 { clock.advance(by: 1) }
                expected.append(try await assets.create(NewAsset()))
            }
            expected.sort { ($0.createdAt, $0.id.uuidString.lowercased()) > ($1.createdAt, $1.id.uuidString.lowercased()) }

            var seen: [Asset] = []
            var cursor: AssetCursor? = nil
            var pages = 0
            repeat {
                let page = try await assets.list(limit: 2, after: cursor)
                seen += page.assets
                cursor = page.next
                pages += 1
                // The cursor survives a trip through its string form (an API query parameter).
                if let next = cursor { cursor = AssetCursor(token: next.token) }
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen.map(\.id) == expected.map(\.id))
        }
    }

    @Test(arguments: Engine.all)
    func progressIsNeverLowered(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let assets = AssetRepository(database: database, clock: clock.clock)
            let id = try await assets.create(NewAsset()).id
            #expect(try await assets.updateProgress(id, percent: 40))
            #expect(try await assets.updateProgress(id, percent: 30) == false)
            #expect(try await assets.updateProgress(id, percent: 40) == false)
            #expect(try await assets.get(id)?.progress == 40)
            #expect(try await assets.updateProgress(id, percent: 250))
            #expect(try await assets.get(id)?.progress == 100)
        }
    }

    @Test(arguments: Engine.all)
    func processingFieldsReadyAndFailed(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let assets = AssetRepository(database: database, clock: clock.clock)
            let id = try await assets.create(NewAsset(status: .queued)).id
            #expect(try await assets.beginAttempt(id))
            try await assets.setProbe(id, json: #"{"width":1920}"#, duration: 61.5)
            try await assets.setPlan(id, json: #"["1080p","720p"]"#)
            try await assets.setChunkCount(id, 2)
            try await assets.setThumbnail(id, key: "processed/\(id)/thumbnail.jpg")
            try await assets.markHLSPart(id, rung: "1080p")
            try await assets.markHLSParts(id, rungs: ["720p", "1080p"])
            clock.advance(by: 5)
            #expect(try await assets.markReady(id))
            // A late failure from a worker that lost its lease does not undo a ready asset.
            #expect(try await assets.fail(id, code: .workerLost, message: "late") == false)

            let asset = try #require(try await assets.get(id))
            #expect(asset.status == .ready)
            #expect(asset.attempts == 1)
            #expect(asset.probeJSON == #"{"width":1920}"#)
            #expect(asset.duration == 61.5)
            #expect(asset.planJSON == #"["1080p","720p"]"#)
            #expect(asset.chunkCount == 2)
            #expect(asset.thumbnailKey == "processed/\(id)/thumbnail.jpg")
            #expect(asset.hlsParts == ["1080p": true, "720p": true])
            #expect(asset.progress == 100)
            #expect(asset.readyAt == clock.now)
            #expect(asset.updatedAt == clock.now)

            let other = try await assets.create(NewAsset(status: .processing)).id
            #expect(try await assets.fail(other, code: .malformedVideo, message: "moov atom not found"))
            let failed = try #require(try await assets.get(other))
            #expect(failed.status == .failed)
            #expect(failed.errorCode == .malformedVideo)
            #expect(failed.errorMessage == "moov atom not found")
        }
    }

    @Test(arguments: Engine.all)
    func chunkCheckpointsAreIdempotent(engine: Engine) async throws {
        try await withTestDatabase(engine) { database in
            let clock = ManualClock()
            let assets = AssetRepository(database: database, clock: clock.clock)
            let id = try await assets.create(NewAsset(status: .processing)).id
            let plans = [
                ChunkPlan(kind: .video, index: 0, startSeconds: 0, endSeconds: 60),
                ChunkPlan(kind: .video, index: 1, startSeconds: 60, endSeconds: 90),
                ChunkPlan(kind: .audio, index: 0, startSeconds: 0, endSeconds: 90),
            ]
            #expect(try await assets.createChunks(id, plans) == 3)
            #expect(try await assets.countPendingChunks(id) == 3)
            #expect(try await assets.markChunkDone(id, kind: .video, index: 1, resultJSON: "first"))
            // Planning again (a resumed prepare job) keeps the checkpoint.
            #expect(try await assets.createChunks(id, plans) == 0)
            #expect(try await assets.markChunkDone(id, kind: .video, index: 1, resultJSON: "second") == false)
            #expect(try await assets.markChunkDone(id, kind: .video, index: 7, resultJSON: "none") == false)
            #expect(try await assets.countPendingChunks(id) == 2)

            let chunks = try await assets.chunks(id)
            #expect(chunks.map { "\($0.kind.rawValue)\($0.index)" } == ["video0", "video1", "audio0"])
            #expect(chunks[1].status == .done)
            #expect(chunks[1].resultJSON == "first")
            #expect(chunks[1].doneAt == clock.now)
            #expect(chunks[1].endSeconds == 90)
            #expect(chunks[0].status == .pending)
            #expect(chunks[0].resultJSON == nil)
        }
    }
}
