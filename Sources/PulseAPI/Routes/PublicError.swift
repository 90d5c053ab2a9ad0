/// What clients may read of a processing failure. The worker's messages for media problems are
/// written for people ("the video is 5 hours long; the limit is 4"); for infrastructure failures
/// (storage, ffmpeg crashes) they can carry internal detail, so those get a fixed message.
enum PublicError {
    /// Codes whose stored message is meant for the person who uploaded the file.
    static let userFacing: Set<String> = [
        "ERR_NON_VIDEO", "ERR_NO_VIDEO_STREAM", "ERR_MALFORMED_VIDEO", "ERR_DURATION_TOO_SHORT",
        "ERR_DURATION_EXCEED_CONSTRAINT", "ERR_RESOLUTION_EXCEED_CONSTRAINT", "ERR_UPLOAD_TOO_LARGE",
        "ERR_ASSET_DELETED", "ERR_WORKER_LOST", "ERR_SOURCE_NOT_FOUND",
    ]

    static func detail(code: String?, message: String?) -> AssetResource.ErrorDetail {
        let code = code ?? "ERR_INTERNAL"
        if userFacing.contains(code), let message, !message.isEmpty {
            return AssetResource.ErrorDetail(code: code, message: message)
        }
        let generic = switch code {
        case "ERR_INPUT_NOT_ALLOWED": "the upload could not be read from storage"
        case "ERR_STORAGE", "ERR_STORAGE_UNAVAILABLE", "ERR_DATABASE_UNAVAILABLE": "storage failed while processing; try again later"
        case "ERR_TOOL_TIMEOUT": "reading the video took too long"
        case "ERR_ENCODER_STALLED": "encoding stopped making progress"
        default: "processing failed"
        }
        return AssetResource.ErrorDetail(code: code, message: generic)
    }
}
