/// Which stream a chunk encodes.
public enum ChunkKind: String, Codable, Sendable, CaseIterable {
    case video
    case audio
}

/// A planned unit of encoding work: a time range of one stream.
public struct ChunkPlan: Sendable, Hashable, Codable {
    public var kind: ChunkKind
    public var index: Int
    public var startSeconds: Double
    public var endSeconds: Double

    /// A plan for chunk `index` of `kind`, covering `startSeconds..<endSeconds`.
    public init(kind: ChunkKind, index: Int, startSeconds: Double, endSeconds: Double) {
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
    public var kind: ChunkKind
    public var index: Int
    public var startSeconds: Double
    public var endSeconds: Double
    public var status: ChunkStatus
    /// What the pipeline recorded when the chunk finished (its segment list), opaque here.
    public var resultJSON: String?
    public var doneAt: Double?
}
