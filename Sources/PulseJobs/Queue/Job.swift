public import Foundation
public import PulseMedia

/// What a job does. Opaque to the queue; the pipeline defines the meanings.
public struct JobKind: RawRepresentable, Hashable, Sendable, Codable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { self.rawValue }

    /// Probe, thumbnail, ladder, chunk plan.
    public static let prepare: JobKind = "prepare"
    /// Write playlists, mark ready, delete the original.
    public static let finalize: JobKind = "finalize"

    /// The job that encodes units of `kind`: the one mapping between the pipeline's units and the
    /// queue's kinds, read both ways. The names are stored in job rows; a video range's is `chunk`.
    public init(encoding kind: WorkUnit.Kind) {
        self.init(rawValue: kind == .video ? "chunk" : kind.rawValue)
    }

    /// Encode one video range (every rung; with the audio when the plan says so).
    public static let chunk = JobKind(encoding: .video)
    /// Encode the audio unit.
    public static let audio = JobKind(encoding: .audio)
    /// Encode and publish the first rendition (with the audio), segment by segment.
    public static let first = JobKind(encoding: .first)

    /// The kind of unit this job encodes; nil for prepare and finalize.
    public var unitKind: WorkUnit.Kind? { WorkUnit.Kind.allCases.first { JobKind(encoding: $0) == self } }

    /// The job that encodes `unit`, with its chunk index (only video ranges are numbered).
    public static func encoding(_ unit: WorkUnit.ID) -> (kind: JobKind, chunkIndex: Int?) {
        (JobKind(encoding: unit.kind), unit.kind == .video ? unit.index : nil)
    }
}

/// Where a job is.
public enum JobStatus: String, Codable, Sendable {
    case queued
    case running
    case done
    case failed
}

/// A job as stored. A job returned by `claim` is also the lease: pass it back to `heartbeat`,
/// `complete`, `retry`, `fail` and `release`, which act only while `(id, leaseOwner, attempts)` still
/// match, so a worker whose lease expired and was taken over cannot touch the new holder's job.
public struct Job: Sendable, Hashable, Codable, Identifiable {
    public var id: Int64
    public var assetID: UUID
    public var kind: JobKind
    /// The chunk this job encodes, for `chunk` jobs.
    public var chunkIndex: Int?
    public var status: JobStatus
    /// Claims so far, this one included.
    public var attempts: Int
    public var maxAttempts: Int
    public var runAt: Double
    public var leaseOwner: String?
    public var leaseExpiresAt: Double?
    public var lastError: String?
    /// When the storage outage this job is waiting out began (nil: none).
    public var outageSince: Double?
    public var createdAt: Double
    public var updatedAt: Double
    /// True when this lease, if lost, does not count against `maxAttempts`: its holder stored a
    /// segment or a checkpoint under it, or its worker lost other leases at the same instant.
    public var lossExcused: Bool = false
    /// Lost leases excused so far: `attempts` less these is what counts against `maxAttempts`.
    public var excusedLosses: Int = 0

    /// The unit an encoding job is for (nil for prepare and finalize).
    public var unit: WorkUnit.ID? { kind.unitKind.map { WorkUnit.ID(kind: $0, index: chunkIndex ?? 0) } }
}

/// What `claim` found.
public struct Claim: Sendable, Hashable {
    /// The job now leased to the caller, if any was ready.
    public var job: Job?
    /// Jobs whose lease expired with no attempts left (their worker died every time): now `failed`.
    /// Each is reported once, to one caller, which should fail the asset (`ERR_WORKER_LOST`).
    public var exhausted: [Job]
}

/// What `retry` did.
public enum RetryOutcome: Sendable, Hashable {
    /// Queued again; runs no earlier than `runAt`.
    case scheduled(runAt: Double)
    /// No attempts left: the job is now `failed`.
    case exhausted
    /// The caller no longer holds the lease; nothing changed.
    case leaseLost
}
