import PulseMedia
import PulseStorage

/// What a failed job means for its asset.
enum JobFailure: Sendable, Equatable {
    /// The input itself is bad: fail the asset now, never retry.
    case permanent(code: String, message: String)
    /// A killed ffmpeg, a bug, a storage error that is not an outage: retry with backoff, each
    /// retry using up one of the job's attempts (so a poison job ends).
    case transient(code: String, message: String)
    /// Storage or the database is out of reach (refused, timed out, 5xx): wait it out for
    /// minutes, without using up attempts.
    case outage(code: String, message: String)

    static func classify(_ error: any Error) -> JobFailure {
        if let media = error as? MediaError {
            if media.isOutage { return .outage(code: media.code.rawValue, message: media.message) }
            return media.isPermanent
                ? .permanent(code: media.code.rawValue, message: media.message)
                : .transient(code: media.code.rawValue, message: media.message)
        }
        if let storage = error as? StorageError {
            let message = Redaction.redact(storage.message)
            if storage.code == .unreachable || storage.code == .serverError {
                return .outage(code: MediaError.Code.storageUnavailable.rawValue, message: "storage is unavailable: \(message)")
            }
            return .transient(code: "ERR_STORAGE", message: Redaction.redact(storage.description))
        }
        if let database = error as? DatabaseError, database.isTransient {
            return .outage(code: "ERR_DATABASE_UNAVAILABLE", message: "the database is unavailable")
        }
        return .transient(code: "ERR_PROCESSING", message: Redaction.redact(String(describing: error)))
    }

    var code: String {
        switch self {
        case .permanent(let code, _), .transient(let code, _), .outage(let code, _): code
        }
    }

    var message: String {
        switch self {
        case .permanent(_, let message), .transient(_, let message), .outage(_, let message): message
        }
    }
}

/// The lease was taken over (our heartbeat came too late): stop, someone else has the job.
struct LeaseLost: Error {}
