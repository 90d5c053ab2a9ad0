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
    /// The units of work, the first rendition first.
    public var units: [WorkUnit]
    public var segmentSeconds: Double
    /// The rung published first, segment by segment, with the audio (nil: the plan has no first
    /// rendition).
    public var firstRendition: String?
    /// Where segments begin (nil: uniform `segmentSeconds`, and playlists state the measured
    /// target duration).
    public var schedule: SegmentSchedule?

    public init(rungs: [Rung], units: [WorkUnit], segmentSeconds: Double, firstRendition: String? = nil, schedule: SegmentSchedule? = nil) {
        self.rungs = rungs
        self.units = units
        self.segmentSeconds = segmentSeconds
        self.firstRendition = firstRendition
        self.schedule = schedule
    }

    /// The plan for a probed source: the ladder from its display size; the first rendition (the
    /// highest rung no larger than 360p) with the audio, then the rest of the ladder from the
    /// measured duration cut into chunks of about `chunkSeconds` (nil: one range).
    /// `firstRendition: false` plans the ladder alone (nothing is published before `ready`), in
    /// uniform segments whose playlists state their measured target duration.
    public init(probe: ProbeResult, chunkSeconds: Double?, settings: EncodingSettings, firstRendition: Bool = true) {
        let rungs = LadderPlanner.plan(for: probe.video)
        let schedule = firstRendition ? SegmentSchedule(settings: settings) : .uniform(settings.segmentSeconds)
        let units = WorkPlanner.plan(
            duration: probe.duration, hasAudio: probe.audio != nil, schedule: schedule, chunkSeconds: chunkSeconds,
            firstRendition: firstRendition, ladder: rungs.count > 1)
        let first = firstRendition ? (rungs.first { min($0.width, $0.height) <= 360 } ?? rungs[rungs.count - 1]).name : nil
        self.init(
            rungs: rungs, units: units, segmentSeconds: settings.segmentSeconds, firstRendition: first,
            schedule: firstRendition ? schedule : nil)
    }

    public func unit(_ id: WorkUnit.ID) -> WorkUnit? { units.first { $0.id == id } }

    /// The rungs `unit` encodes: the first rendition's alone, or every other rung.
    public func rungs(for unit: WorkUnit) -> [Rung] {
        guard let firstRendition else { return rungs }
        return unit.kind == .first ? rungs.filter { $0.name == firstRendition } : rungs.filter { $0.name != firstRendition }
    }

    /// The segment schedule in force (uniform when the plan names none).
    public var segmentSchedule: SegmentSchedule { schedule ?? .uniform(segmentSeconds) }

    /// One percent for the whole plan: thumbnail 0-5 %, then every unit by its share of the work.
    /// `done` units (checkpointed before) count as finished.
    public func progress(duration: Double, thumbnailDone: Bool, done: Set<WorkUnit.ID> = []) -> ProgressAggregator {
        var aggregator = ProgressAggregator(units: Dictionary(uniqueKeysWithValues: units.map { ($0.id, WorkPlanner.weight(of: $0, duration: duration)) }))
        if thumbnailDone { _ = aggregator.thumbnailDone() }
        for id in done where unit(id) != nil { aggregator.alreadyDone(id) }
        return aggregator
    }
}
