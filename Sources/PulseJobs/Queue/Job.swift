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
    /// Encode one video unit (every rung; with the audio when the video is one range).
    public static let chunk: JobKind = "chunk"
    /// Encode the audio unit.
    public static let audio: JobKind = "audio"
    /// Encode and publish the first rendition (with the audio), segment by segment.
    public static let first: JobKind = "first"

    /// The job that encodes `unit`, with its chunk index: the one mapping between the pipeline's
    /// units and the queue's job kinds.
    public static func encoding(_ unit: WorkUnit.ID) -> (kind: JobKind, chunkIndex: Int?) {
        switch unit.stream {
        case .video: (.chunk, unit.index)
        case .audio: (.audio, nil)
        case .first: (.first, nil)
        }
    }
    /// Write playlists, mark ready, delete the original.
    public static let finalize: JobKind = "finalize"
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

    /// The unit an encoding job is for (nil for prepare and finalize).
    public var unit: WorkUnit.ID? {
        switch kind {
        case .chunk: WorkUnit.ID(stream: .video, index: chunkIndex ?? 0)
        case .audio: WorkUnit.ID(stream: .audio, index: 0)
        case .first: WorkUnit.ID(stream: .first, index: 0)
        default: nil
        }
    }
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
