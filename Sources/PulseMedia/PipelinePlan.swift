/// The pipeline, described once: what a source becomes and in which pieces.
///
/// Three steps. `prepare`: probe, thumbnail, and this plan. Then every unit of `units`, each
/// independent of the others (any order, any process, any machine, or again after a crash).
/// Then `finish`: the playlists, from the units' results. `MediaPipeline` does each step;
/// `Transcoder` runs them in one process, the job system as leased jobs (prepare, one job per
/// unit, finalize). A new kind of unit is a change here and in `MediaPipeline`, nowhere else.
///
/// Stored with the asset, so that every later job, on any worker, encodes exactly these units.
public struct PipelinePlan: Codable, Sendable, Equatable {
    /// The video ladder, highest first.
    public var rungs: [Rung]
    /// The units of work, video ranges first.
    public var units: [WorkUnit]
    public var segmentSeconds: Double

    public init(rungs: [Rung], units: [WorkUnit], segmentSeconds: Double) {
        self.rungs = rungs
        self.units = units
        self.segmentSeconds = segmentSeconds
    }

    /// The plan for a probed source: the ladder from its display size, the units from its
    /// measured duration cut into chunks of about `chunkSeconds` (nil: one range).
    public init(probe: ProbeResult, chunkSeconds: Double?, settings: EncodingSettings) {
        self.init(
            rungs: LadderPlanner.plan(for: probe.video),
            units: WorkPlanner.plan(duration: probe.duration, hasAudio: probe.audio != nil, chunkSeconds: chunkSeconds, settings: settings),
            segmentSeconds: settings.segmentSeconds)
    }

    public func unit(_ id: WorkUnit.ID) -> WorkUnit? { units.first { $0.id == id } }

    /// One percent for the whole plan: thumbnail 0-5 %, then every unit by its share of the work.
    /// `done` units (checkpointed before) count as finished.
    public func progress(duration: Double, thumbnailDone: Bool, done: Set<WorkUnit.ID> = []) -> ProgressAggregator {
        var aggregator = ProgressAggregator(units: Dictionary(uniqueKeysWithValues: units.map { ($0.id, WorkPlanner.weight(of: $0, duration: duration)) }))
        if thumbnailDone { _ = aggregator.thumbnailDone() }
        for id in done where unit(id) != nil { aggregator.alreadyDone(id) }
        return aggregator
    }
}
