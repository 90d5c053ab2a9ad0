import PulseDatabase
import PulseMedia
import PulseStorage
public import PulseSupport

/// The one translation of an error into the service's terms: its `FailureCode` (whose table
/// row says how a job retries it and which HTTP status answers it) and a message for the
/// operator, redacted of secrets (it is recorded on the asset and logged; clients see
/// `FailureCode.publicMessage(recorded:)`). Jobs classify their failures with it; the API
/// answers with it.
public enum FailureTranslator {
    /// The code and the message to record for `error`.
    public static func translate(_ error: any Error) -> (code: FailureCode, message: String) {
        if let media = error as? MediaError {
            return (media.code, media.message)
        }
        if let fault = error as? InternalFault {
            return (.internalFault, fault.message)
        }
        if let storage = error as? StorageError {
            switch storage.code {
            case .unreachable, .serverError:
                return (.storageUnavailable, "storage is unavailable: \(Redaction.redact(storage.message))")
            case .notFound, .invalidKey:
                return (.notFound, Redaction.redact(storage.description))
            default:
                return (.storage, Redaction.redact(storage.description))
            }
        }
        if let database = error as? DatabaseError, database.isTransient {
            return (.databaseUnavailable, "the database is unavailable")
        }
        return (.processing, Redaction.redact(String(describing: error)))
    }
}

/// The pipeline found its own state inconsistent (`ERR_INTERNAL_FAULT`): a job of an unknown
/// kind, a unit its plan lacks, a step before the one it needs. Retried like any transient
/// failure, within the job's attempts, but never reported as a problem of the input.
struct InternalFault: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { "\(FailureCode.internalFault): \(message)" }
}

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
        let (code, message) = FailureTranslator.translate(error)
        switch code.retry {
        case .never: return .permanent(code: code, message: message)
        case .outage: return .outage(code: code, message: message)
        case .counted, .notApplicable: return .transient(code: code, message: message)
        }
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
