import PulseDatabase
import PulseMedia
import PulseStorage
import PulseSupport

/// What a failed job means for its asset: the code's retry class (`FailureCode.table`) decides.
enum JobFailure: Sendable, Equatable {
    /// The input itself is bad (`.never`): fail the asset now, never retry.
    case permanent(code: FailureCode, message: String)
    /// A killed ffmpeg, a bug, a storage error that is not an outage (`.counted`): retry with
    /// backoff, each retry using up one of the job's attempts (so a poison job ends).
    case transient(code: FailureCode, message: String)
    /// Storage or the database is out of reach (refused, timed out, 5xx; `.outage`): wait it out
    /// for minutes, without using up attempts.
    case outage(code: FailureCode, message: String)

    static func classify(_ error: any Error) -> JobFailure {
        let (code, message) = describe(error)
        switch code.retry {
        case .never: return .permanent(code: code, message: message)
        case .outage: return .outage(code: code, message: message)
        case .counted, .notApplicable: return .transient(code: code, message: message)
        }
    }

    /// The code and the message to record for an error.
    private static func describe(_ error: any Error) -> (FailureCode, String) {
        if let media = error as? MediaError {
            return (media.code, media.message)
        }
        if let storage = error as? StorageError {
            if storage.code == .unreachable || storage.code == .serverError {
                return (.storageUnavailable, "storage is unavailable: \(Redaction.redact(storage.message))")
            }
            return (.storage, Redaction.redact(storage.description))
        }
        if let database = error as? DatabaseError, database.isTransient {
            return (.databaseUnavailable, "the database is unavailable")
        }
        return (.processing, Redaction.redact(String(describing: error)))
    }

    var code: FailureCode {
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

/// A heartbeat that did not answer within a third of the lease.
struct HeartbeatTimeout: Error {}
