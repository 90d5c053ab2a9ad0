import Foundation
import PulseMedia

/// One progress per asset in this worker, shared by its jobs on that asset that run at once (the
/// first rendition beside a ladder chunk): one aggregator that knows every unit in flight here and
/// one throttle, so what subscribers and the database hear from this process only rises, in the
/// throttle's steps. (Jobs in other processes still interleave; the WebSocket and the
/// database never go back.)
actor ProgressBoard {
    private struct Entry {
        var aggregator: ProgressAggregator
        let publisher: ProgressPublisher
        var jobs: Int
    }
    private var entries: [UUID: Entry] = [:]
    /// Assets whose jobs here have all ended, oldest first.
    private var idle: [UUID] = []
    static let idleEntriesKept = 256

    /// Joins the asset's board (made with `make` if no job here has it; units checkpointed since,
    /// `done`, count as finished), for the length of `body`.
    func withAsset<T: Sendable>(
        _ assetID: UUID,
        done: Set<WorkUnit.ID>,
        make: @Sendable () -> (ProgressAggregator, ProgressPublisher),
        _ body: @Sendable (ProgressPublisher) async throws -> T
    ) async throws -> T {
        let publisher = join(assetID, done: done, make: make)
        defer { leave(assetID) }
        return try await body(publisher)
    }

    /// A unit of the asset reported `fraction` done: the asset's percent (short of 100, which
    /// finalize announces once the playlists exist) goes to the publisher.
    func report(_ assetID: UUID, unit: WorkUnit.ID, fraction: Double, speed: Double?) async {
        guard var entry = entries[assetID] else { return }
        let percent = min(entry.aggregator.update(unit, fraction: fraction), 99.9)
        let eta = entry.aggregator.etaSeconds()
        entries[assetID] = entry
        await entry.publisher.progress(percent, eta: eta, speed: speed)
    }

    private func join(_ assetID: UUID, done: Set<WorkUnit.ID>, make: () -> (ProgressAggregator, ProgressPublisher)) -> ProgressPublisher {
        if var entry = entries[assetID] {
            for unit in done { entry.aggregator.alreadyDone(unit) }
            if entry.jobs == 0 { idle.removeAll { $0 == assetID } }
            entry.jobs += 1
            entries[assetID] = entry
            return entry.publisher
        }
        let (aggregator, publisher) = make()
        entries[assetID] = Entry(aggregator: aggregator, publisher: publisher, jobs: 1)
        return publisher
    }

    /// The entry outlives its jobs: the asset's next job here goes on from what this process has
    /// already announced (the database holds progress only every 10 points, and a new throttle
    /// started from it would announce some percents again). Idle entries beyond
    /// `idleEntriesKept` are forgotten, oldest first.
    private func leave(_ assetID: UUID) {
        guard var entry = entries[assetID] else { return }
        entry.jobs -= 1
        entries[assetID] = entry
        if entry.jobs == 0 { idle.append(assetID) }
        while idle.count > Self.idleEntriesKept {
            let oldest = idle.removeFirst()
            if entries[oldest]?.jobs == 0 { entries[oldest] = nil }
        }
    }
}
