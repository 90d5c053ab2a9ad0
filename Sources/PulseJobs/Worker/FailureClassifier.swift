import PulseMedia
import PulseStorage

/// What a failed job means for its asset.
enum JobFailure: Sendable, Equatable {
    /// The input itself is bad: fail the asset now, never retry.
    case permanent(code: String, message: String)
    /// Storage, database, a killed ffmpeg: retry with backoff.
    case transient(code: String, message: String)

    static func classify(_ error: any Error) -> JobFailure {
        if let media = error as? MediaError {
            return media.isPermanent
                ? .permanent(code: media.code.rawValue, message: media.message)
                : .transient(code: media.code.rawValue, message: media.message)
        }
        if let storage = error as? StorageError {
            return .transient(code: "ERR_STORAGE", message: Redaction.redact(storage.description))
        }
        return .transient(code: "ERR_PROCESSING", message: Redaction.redact(String(describing: error)))
    }

    var code: String {
        switch self {
        case .permanent(let code, _), .transient(let code, _): code
        }
    }

    var message: String {
        switch self {
        case .permanent(_, let message), .transient(_, let message): message
        }
    }
}

/// The lease was taken over (our heartbeat came too late): stop, someone else has the job.
struct LeaseLost: Error {}
