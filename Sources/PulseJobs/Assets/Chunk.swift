public import PulseMedia

/// The checkpoint row planned for a work unit: a time range of one stream.
public struct ChunkPlan: Sendable, Hashable, Codable {
    public var kind: WorkUnit.Kind
    public var index: Int
    public var startSeconds: Double
    public var endSeconds: Double

    /// A plan for chunk `index` of `kind`, covering `startSeconds..<endSeconds`.
    public init(kind: WorkUnit.Kind, index: Int, startSeconds: Double, endSeconds: Double) {
        self.kind = kind
        self.index = index
        self.startSeconds = startSeconds
        self.endSeconds = endSeconds
    }
}

/// Whether a chunk's output is safely stored.
public enum ChunkStatus: String, Codable, Sendable {
    case pending
    case done
}

/// A chunk checkpoint as stored: once `done`, its segments are uploaded and it is never encoded again.
public struct Chunk: Sendable, Hashable, Codable {
    public var kind: WorkUnit.Kind
    public var index: Int
    public var startSeconds: Double
    public var endSeconds: Double
    public var status: ChunkStatus
    /// What the pipeline recorded when the chunk finished (its segment list), opaque here.
    public var resultJSON: String?
    public var doneAt: Double?
}

extension ChunkPlan {
    /// The checkpoint of `unit`, for a source of `duration` seconds.
    public init(_ unit: WorkUnit, duration: Double) {
        self.init(kind: unit.id.kind, index: unit.id.index, startSeconds: unit.range.start, endSeconds: unit.range.end ?? duration)
    }
}

extension Chunk {
    /// The unit this checkpoint is for.
    public var unit: WorkUnit.ID { WorkUnit.ID(kind: kind, index: index) }
}
