import Foundation
import PulseDatabase
@testable import PulseJobs
import PulseStorage
import PulseSupport
import PulseTestSupport
import Synchronization
import Testing

/// A finalize past `ready` finishes: a shutdown arriving then does not leave the original behind,
/// and a finalize that runs again after `ready` announces nothing a second time. On both engines,
/// with a real local store and real ffmpeg (`UploadDoorAndDeleteFenceTests`' fixture).
@Suite struct ShutdownAfterReadyTests {
    /// An in-process bus that runs a hook right after it delivers an asset's `ready` event.
    final class ReadyHookBus: EventBus {
        let base = InProcessEventBus()
        private let hook = Mutex<(@Sendable () -> Void)?>(nil)

        func onReady(_ body: @escaping @Sendable () -> Void) { hook.withLock { $0 = body } }

        func publish(_ event: AssetEvent) async throws {
            try await base.publish(event)
            if event.type == .ready, let body = hook.withLock({ $0 }) { body() }
        }

        func subscribe(assetID: UUID) -> AsyncStream<AssetEvent> { base.subscribe(assetID: assetID) }

        func subscribe(assetID: UUID, receive: @escaping @Sendable (AssetEvent?) -> Void) -> EventSubscription {
            base.subscribe(assetID: assetID, receive: receive)
        }
    }

    @Test(
        "a worker shut down right after ready deletes the original and acknowledges the finalize",
        .enabled(if: TestServices.mediaEnabled), .timeLimit(.minutes(3)), arguments: Engine.all)
    func shutdownRightAfterReady(engine: Engine) async throws {
        try await UploadDoorAndDeleteFenceTests().withFixture(engine) { f in
            let asset = try await f.completedAsset("sd_480p.mp4")
            let source = try #require(asset.sourceKey)
            let bus = ReadyHookBus()
            var configuration = WorkerConfiguration()
            configuration.pollInterval = .milliseconds(50)
            configuration.leaseSeconds = 30
            let worker = Worker(
                database: f.database, store: f.store, bus: bus, pipeline: f.pipeline, configuration: configuration,
                queue: f.queue, logger: TestServices.logger)
            // The shutdown (what SIGTERM does to the worker: its loop and jobs are cancelled)
            // arrives the moment `ready` is announced, before the original is deleted.
            let running = Mutex<Task<Void, any Error>?>(nil)
            bus.onReady { running.withLock { $0?.cancel() } }
            let task = Task { try await worker.run() }
            running.withLock { $0 = task }
            try await task.value

            #expect(try await f.assets.get(asset.id)?.status == .ready)
            #expect(try await f.local.head(key: source) == nil, "the original outlived the shutdown")
            let finalize = try #require(try await f.queue.jobs(assetID: asset.id).first { $0.kind == .finalize })
            #expect(finalize.status == .done, "the finalize is \(finalize.status) x\(finalize.attempts): given back after ready")
        }
    }

    @Test(
        "a finalize that read the asset before another made it ready announces nothing again",
        .enabled(if: TestServices.mediaEnabled), .timeLimit(.minutes(3)), arguments: Engine.all)
    func finalizeAfterReadyAnnouncesNothing(engine: Engine) async throws {
        try await UploadDoorAndDeleteFenceTests().withFixture(engine) { f in
            let asset = try await f.completedAsset("sd_480p.mp4")
            let source = try #require(asset.sourceKey)
            let bus = InProcessEventBus()
            let processor = AssetProcessor(
                assets: f.assets, queue: f.queue, store: f.store, bus: bus, configuration: f.pipeline, logger: TestServices.logger)
            var job = try await f.claim()
            while job.kind != .finalize {
                try await processor.process(job)
                #expect(try await f.queue.complete(job))
                job = try await f.claim()
            }
            let events = bus.subscribe(assetID: asset.id)
            // While this finalize writes its first playlist, another one (a run of the same job
            // whose lease it took over) marks the asset ready and announces it.
            let (assets, store) = (f.assets, f.store)
            store.onPut { key in
                guard key.hasSuffix(".m3u8") else { return }
                store.onPut(nil)
                #expect(try await assets.markReady(asset.id))
                try await bus.publish(AssetEvent(assetID: asset.id, type: .ready, percent: 100, status: .ready, at: 0))
            }
            try await processor.process(job)
            #expect(try await f.queue.complete(job))
            try await bus.publish(AssetEvent(assetID: asset.id, type: .status, status: .ready, at: 0))

            var readies = 0
            for await event in events {
                if event.type == .ready { readies += 1 }
                if event.type == .status { break }
            }
            #expect(readies == 1, "`ready` was announced \(readies) times")
            let webhooks = try await f.database.query(
                "SELECT event_type FROM webhook_outbox WHERE asset_id = $1 AND event_type = 'asset.ready'",
                [.text(asset.id.uuidString.lowercased())])
            #expect(webhooks.count == 1, "\(webhooks.count) asset.ready webhooks")
            #expect(try await f.local.head(key: source) == nil, "the original was not deleted")
        }
    }
}
