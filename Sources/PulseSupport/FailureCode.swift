/// A failure code: the one set of stable strings the service records on an asset, sends in a
/// `failed` event and answers in an HTTP error body (`{"error": {"code": "ERR_…", ...}}`).
///
/// What each code means is written once, in `FailureCode.table`: how a job that fails with it is
/// retried, what clients are told when the recorded message may carry internal detail, and the HTTP
/// status it is answered with. The raw strings are public contract (clients and the upload page
/// match on them): never change one.
public struct FailureCode: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The wire form, e.g. `ERR_NON_VIDEO`.
    public let rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    /// Encoded and decoded as the plain string.
    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

// MARK: - The codes

extension FailureCode {
    // The input itself (the pipeline): retrying cannot help.

    /// The input is not a media file we can read (text, image, playlist, unknown container).
    public static let nonVideo = FailureCode("ERR_NON_VIDEO")
    /// The input is media but holds no video stream (audio only, cover art only).
    public static let noVideoStream = FailureCode("ERR_NO_VIDEO_STREAM")
    /// The input is a video but truncated or undecodable.
    public static let malformedVideo = FailureCode("ERR_MALFORMED_VIDEO")
    /// The video is shorter than the configured minimum.
    public static let durationTooShort = FailureCode("ERR_DURATION_TOO_SHORT")
    /// The video is longer than the configured maximum.
    public static let durationExceedConstraint = FailureCode("ERR_DURATION_EXCEED_CONSTRAINT")
    /// The video is larger than the configured maximum resolution.
    public static let resolutionExceedConstraint = FailureCode("ERR_RESOLUTION_EXCEED_CONSTRAINT")
    /// The source does not exist or may not be read (missing file, 404, 403).
    public static let sourceNotFound = FailureCode("ERR_SOURCE_NOT_FOUND")
    /// The source's location is one we refuse to open (plain http to a host nobody configured,
    /// an unknown scheme).
    public static let inputNotAllowed = FailureCode("ERR_INPUT_NOT_ALLOWED")
    /// The declared or uploaded size is above the limit (an HTTP answer, and recorded on the asset
    /// when an upload turns out larger than declared).
    public static let uploadTooLarge = FailureCode("ERR_UPLOAD_TOO_LARGE")
    /// The uploaded object is no longer the one `complete` accepted (another upload replaced it,
    /// e.g. through an S3 presigned PUT that cannot be revoked): never processed, never retried.
    public static let sourceChanged = FailureCode("ERR_SOURCE_CHANGED")

    // The tools (the pipeline): transient.

    /// ffprobe or ffmpeg did not finish within its deadline.
    public static let toolTimeout = FailureCode("ERR_TOOL_TIMEOUT")
    /// ffmpeg stopped reporting progress for longer than the watchdog allows.
    public static let stalled = FailureCode("ERR_ENCODER_STALLED")
    /// ffmpeg was killed by a signal or failed for a reason outside the input.
    public static let encoderFailed = FailureCode("ERR_ENCODER_FAILED")
    /// ffmpeg exited 0 but did not write what it should have (e.g. output folder vanished).
    public static let outputMissing = FailureCode("ERR_OUTPUT_MISSING")
    /// ffmpeg or ffprobe is not installed or cannot be started.
    public static let toolMissing = FailureCode("ERR_TOOL_MISSING")

    // Outages: waited out without using up attempts.

    /// Storage is out of reach for now (connection refused or reset, a timeout, a 5xx): a job
    /// waits it out; an HTTP request is answered 503.
    public static let storageUnavailable = FailureCode("ERR_STORAGE_UNAVAILABLE")
    /// The database is out of reach for now.
    public static let databaseUnavailable = FailureCode("ERR_DATABASE_UNAVAILABLE")

    // The jobs: transient.

    /// The job's worker died on every attempt (a source that kills ffmpeg or the machine).
    public static let workerLost = FailureCode("ERR_WORKER_LOST")
    /// A storage error that is not an outage.
    public static let storage = FailureCode("ERR_STORAGE")
    /// Any other error while processing.
    public static let processing = FailureCode("ERR_PROCESSING")
    /// The pipeline found its own state inconsistent (a job of a kind it does not know, a unit
    /// its plan lacks, a step run before the one it needs): a fault of ours, not of the input.
    public static let internalFault = FailureCode("ERR_INTERNAL_FAULT")

    // The asset's end.

    /// The asset was deleted (the terminal event that ends open event streams).
    public static let assetDeleted = FailureCode("ERR_ASSET_DELETED")

    // HTTP answers.

    /// No or unknown credentials.
    public static let unauthorized = FailureCode("ERR_UNAUTHORIZED")
    /// An asset token whose lifetime is over.
    public static let tokenExpired = FailureCode("ERR_TOKEN_EXPIRED")
    /// Valid credentials that do not allow this (an asset token for another asset or endpoint).
    public static let forbidden = FailureCode("ERR_FORBIDDEN")
    /// A storage URL whose signature does not match.
    public static let invalidSignature = FailureCode("ERR_INVALID_SIGNATURE")
    /// A storage URL past its expiry.
    public static let urlExpired = FailureCode("ERR_URL_EXPIRED")
    /// No such asset, object or route.
    public static let notFound = FailureCode("ERR_NOT_FOUND")
    /// `complete` was called before the upload arrived in storage.
    public static let uploadNotFound = FailureCode("ERR_UPLOAD_NOT_FOUND")
    /// The body is not JSON, or not the JSON this endpoint takes.
    public static let invalidJSON = FailureCode("ERR_INVALID_JSON")
    /// JSON that parses but has a missing or invalid field or parameter.
    public static let invalidRequest = FailureCode("ERR_INVALID_REQUEST")
    /// The asset is in a state that does not allow this.
    public static let conflict = FailureCode("ERR_CONFLICT")
    /// This method is not served on this path.
    public static let methodNotAllowed = FailureCode("ERR_METHOD_NOT_ALLOWED")
    /// The events endpoint was called without a WebSocket upgrade.
    public static let upgradeRequired = FailureCode("ERR_UPGRADE_REQUIRED")
    /// A `Range` header outside the object.
    public static let rangeNotSatisfiable = FailureCode("ERR_RANGE_NOT_SATISFIABLE")
    /// The process cannot take this right now: it has as many events WebSockets open, or uploads
    /// being received, as it allows.
    public static let unavailable = FailureCode("ERR_UNAVAILABLE")
    /// One asset token already has as many events WebSockets open as it may.
    public static let tooManyConnections = FailureCode("ERR_TOO_MANY_CONNECTIONS")
    /// Anything unexpected; the detail is in the server's log. Also what a failure with no code shows as.
    public static let internalError = FailureCode("ERR_INTERNAL")
    /// `passthrough` is not 1 to 255 bytes of UTF-8 without control characters.
    public static let invalidPassthrough = FailureCode("ERR_INVALID_PASSTHROUGH")
    /// An `Idempotency-Key` header that is not 1 to 255 printable ASCII characters.
    public static let invalidIdempotencyKey = FailureCode("ERR_INVALID_IDEMPOTENCY_KEY")
    /// An `Idempotency-Key` used before (within 24 h) with another request body.
    public static let idempotencyKeyReused = FailureCode("ERR_IDEMPOTENCY_KEY_REUSED")
    /// A signed asset's media requested without a playback token, or with one that is not valid for it.
    public static let playbackTokenRequired = FailureCode("ERR_PLAYBACK_TOKEN_REQUIRED")

    // Multipart uploads (HTTP answers).

    /// `complete` of a multipart upload whose list lacks a part, or names one not uploaded yet.
    public static let partMissing = FailureCode("ERR_PART_MISSING")
    /// A part that does not fit the upload's plan: a number outside 1...part_count, named twice or
    /// out of order, or a stored part of the wrong size.
    public static let partInvalid = FailureCode("ERR_PART_INVALID")
    /// `complete` names a part with an ETag other than the stored part's.
    public static let partETagMismatch = FailureCode("ERR_PART_ETAG_MISMATCH")
    /// The multipart upload's time (`expires_at`) is over: create a new asset.
    public static let uploadExpired = FailureCode("ERR_UPLOAD_EXPIRED")

    // tus uploads (HTTP answers).

    /// A request without `Tus-Resumable: 1.0.0`, the one tus version served.
    public static let tusVersion = FailureCode("ERR_TUS_VERSION")
    /// A PATCH whose body is not `application/offset+octet-stream`.
    public static let unsupportedMediaType = FailureCode("ERR_UNSUPPORTED_MEDIA_TYPE")
}

// MARK: - What each code means

extension FailureCode {
    /// How a job that fails with a code is treated.
    public enum Retry: String, Sendable, Hashable, CaseIterable {
        /// The input is bad: fail the asset at once, never retry.
        case never
        /// Transient: retry with backoff, each retry using one of the job's attempts (so a poison
        /// job ends).
        case counted
        /// Something outside us is out of reach: wait it out without using up attempts (until the
        /// outage budget is spent).
        case outage
        /// Not a job failure: answered over HTTP, or the end of an event stream.
        case notApplicable
    }

    /// One row of the table.
    public struct Meaning: Sendable {
        public let code: FailureCode
        /// How a job that fails with this code is retried.
        public let retry: Retry
        /// The fixed sentence clients see for a recorded failure with this code, because the
        /// recorded message may carry internal detail (storage responses, ffmpeg output); nil when
        /// the recorded message is written for the person who uploaded the file and is shown as it is.
        public let publicMessage: String?
        /// The HTTP status an `APIError` with this code is answered with; nil for codes that are
        /// only recorded on assets and sent in events.
        public let httpStatus: Int?

        init(_ code: FailureCode, _ retry: Retry, shown publicMessage: String?, http httpStatus: Int? = nil) {
            self.code = code
            self.retry = retry
            self.publicMessage = publicMessage
            self.httpStatus = httpStatus
        }
    }

    /// What a recorded failure shows when nothing more specific may be said.
    public static let genericPublicMessage = "processing failed"
    private static let storageFailed = "storage failed while processing; try again later"

    /// Every code the service records or sends, and what it means. The one place to add a code.
    ///
    /// `shown: nil` means the worker's own message (e.g. "the video is 5 hours long; the limit is
    /// 4") is shown to clients; a sentence replaces a message that may carry internal detail.
    public static let table: [Meaning] = [
        // The input: fail at once; the message is written for the uploader.
        Meaning(.nonVideo, .never, shown: nil),
        Meaning(.noVideoStream, .never, shown: nil),
        Meaning(.malformedVideo, .never, shown: nil),
        Meaning(.durationTooShort, .never, shown: nil),
        Meaning(.durationExceedConstraint, .never, shown: nil),
        Meaning(.resolutionExceedConstraint, .never, shown: nil),
        Meaning(.sourceNotFound, .never, shown: nil),
        Meaning(.inputNotAllowed, .never, shown: "the upload could not be read from storage"),
        Meaning(.uploadTooLarge, .never, shown: nil, http: 413),
        Meaning(.sourceChanged, .never, shown: "the uploaded file was replaced after the upload was completed; upload it again as a new video"),
        // The tools: transient.
        Meaning(.toolTimeout, .counted, shown: "reading the video took too long"),
        Meaning(.stalled, .counted, shown: "encoding stopped making progress"),
        Meaning(.encoderFailed, .counted, shown: genericPublicMessage),
        Meaning(.outputMissing, .counted, shown: genericPublicMessage),
        Meaning(.toolMissing, .counted, shown: genericPublicMessage),
        // Outages: waited out.
        Meaning(.storageUnavailable, .outage, shown: storageFailed, http: 503),
        Meaning(.databaseUnavailable, .outage, shown: storageFailed),
        // The jobs: transient (a lost worker used its attempts dying).
        Meaning(.workerLost, .counted, shown: nil),
        Meaning(.storage, .counted, shown: storageFailed),
        Meaning(.processing, .counted, shown: genericPublicMessage),
        Meaning(.internalFault, .counted, shown: genericPublicMessage),
        // The asset's end.
        Meaning(.assetDeleted, .notApplicable, shown: nil),
        // HTTP answers: their messages are written for the client where they are thrown; never
        // recorded on an asset (if one were, it would show the generic sentence).
        Meaning(.unauthorized, .notApplicable, shown: genericPublicMessage, http: 401),
        Meaning(.tokenExpired, .notApplicable, shown: genericPublicMessage, http: 401),
        Meaning(.forbidden, .notApplicable, shown: genericPublicMessage, http: 403),
        Meaning(.invalidSignature, .notApplicable, shown: genericPublicMessage, http: 403),
        Meaning(.urlExpired, .notApplicable, shown: genericPublicMessage, http: 403),
        Meaning(.notFound, .notApplicable, shown: genericPublicMessage, http: 404),
        Meaning(.uploadNotFound, .notApplicable, shown: genericPublicMessage, http: 404),
        Meaning(.invalidJSON, .notApplicable, shown: genericPublicMessage, http: 400),
        Meaning(.invalidRequest, .notApplicable, shown: genericPublicMessage, http: 400),
        Meaning(.conflict, .notApplicable, shown: genericPublicMessage, http: 409),
        Meaning(.methodNotAllowed, .notApplicable, shown: genericPublicMessage, http: 405),
        Meaning(.upgradeRequired, .notApplicable, shown: genericPublicMessage, http: 426),
        Meaning(.rangeNotSatisfiable, .notApplicable, shown: genericPublicMessage, http: 416),
        Meaning(.unavailable, .notApplicable, shown: genericPublicMessage, http: 503),
        Meaning(.tooManyConnections, .notApplicable, shown: genericPublicMessage, http: 429),
        Meaning(.internalError, .notApplicable, shown: genericPublicMessage, http: 500),
        Meaning(.invalidPassthrough, .notApplicable, shown: genericPublicMessage, http: 400),
        Meaning(.invalidIdempotencyKey, .notApplicable, shown: genericPublicMessage, http: 400),
        Meaning(.idempotencyKeyReused, .notApplicable, shown: genericPublicMessage, http: 409),
        Meaning(.playbackTokenRequired, .notApplicable, shown: genericPublicMessage, http: 403),
        Meaning(.partMissing, .notApplicable, shown: genericPublicMessage, http: 409),
        Meaning(.partInvalid, .notApplicable, shown: genericPublicMessage, http: 400),
        Meaning(.partETagMismatch, .notApplicable, shown: genericPublicMessage, http: 400),
        Meaning(.uploadExpired, .notApplicable, shown: genericPublicMessage, http: 410),
        Meaning(.tusVersion, .notApplicable, shown: genericPublicMessage, http: 412),
        Meaning(.unsupportedMediaType, .notApplicable, shown: genericPublicMessage, http: 415),
    ]

    private static let meanings: [FailureCode: Meaning] = Dictionary(uniqueKeysWithValues: table.map { ($0.code, $0) })

    /// Every code in the table, in its order.
    public static var all: [FailureCode] { table.map(\.code) }

    /// This code's row; nil for a string that is not one of ours (e.g. read from an old row).
    public var meaning: Meaning? { Self.meanings[self] }

    /// How a job that fails with this code is retried. A code that is not in the table is treated
    /// as transient: retried, but bounded by the job's attempts.
    public var retry: Retry { meaning?.retry ?? .counted }

    /// The fixed sentence for a recorded failure with this code, or nil when the recorded message
    /// is meant for people. A code that is not in the table gets the generic sentence.
    public var publicMessage: String? {
        guard let meaning else { return Self.genericPublicMessage }
        return meaning.publicMessage
    }

    /// The HTTP status an error with this code is answered with (500 for codes that have none).
    public var httpStatus: Int { meaning?.httpStatus ?? 500 }

    /// What clients may read of a recorded failure with this code: the fixed sentence, or the
    /// recorded message when it is meant for people (and not empty) and names no place: a
    /// message with a path, a URL or a host in it (`file:/srv/.../uploads/...`, `https://...`,
    /// `minio.internal:9000`) is replaced by the generic sentence, whatever wrote it.
    public func publicMessage(recorded message: String?) -> String {
        if let fixed = publicMessage { return fixed }
        if let message, !message.isEmpty, !Self.namesAPlace(message) { return message }
        return Self.genericPublicMessage
    }

    /// Whether `text` carries a path, a URL or a host name: a scheme (`file:`, `https://`), an
    /// absolute or home-relative path, a Windows drive path, a dotted host name or address, or a
    /// `host:port`. Conservative: a message written for people has none of these.
    public static func namesAPlace(_ text: String) -> Bool {
        let lower = text.lowercased()
        if lower.contains("://") || lower.contains("file:") || lower.contains("localhost") || lower.contains("\\") { return true }
        let separators: Set<Character> = [" ", "\t", "\n", "\"", "'", "(", ")", "[", "]", "<", ">", ",", ";", "=", "`"]
        for token in lower.split(whereSeparator: { separators.contains($0) }) {
            var word = Substring(token)
            while let last = word.last, ".:!?".contains(last) { word = word.dropLast() }
            guard !word.isEmpty else { continue }
            // A path: /srv/..., ~/..., ./x, ../x, C:\ (backslashes are caught above), a/b/c.
            if word.hasPrefix("/") || word.hasPrefix("~/") || word.hasPrefix("./") || word.hasPrefix("../") { return true }
            if word.filter({ $0 == "/" }).count >= 2 { return true }
            if word.count >= 3, word.dropFirst().first == ":", word.first!.isLetter, word.dropFirst(2).first == "/" { return true }
            // host:port (letters in the host, digits after the colon).
            if let colon = word.lastIndex(of: ":"), colon != word.startIndex {
                let host = word[..<colon], port = word[word.index(after: colon)...]
                if !port.isEmpty, port.allSatisfy(\.isNumber), host.contains(where: \.isLetter) || host.contains(".") { return true }
            }
            // A dotted name: an IPv4 address, or labels ending in a top-level domain of letters
            // (a file name such as clip.mp4 or a number such as 5.5 is not one).
            let labels = word.split(separator: ".", omittingEmptySubsequences: false)
            if labels.count == 4, labels.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) }) { return true }
            if labels.count >= 3, labels.allSatisfy({ !$0.isEmpty }), let tld = labels.last, tld.count >= 2, tld.allSatisfy(\.isLetter) {
                return true
            }
            if labels.count == 2, let tld = labels.last, Self.hostSuffixes.contains(String(tld)), labels[0].contains(where: \.isLetter) {
                return true
            }
        }
        return false
    }

    /// Top-level domains and internal suffixes a two-label host name ends in (`example.com`,
    /// `minio.internal`); longer names are caught by their shape.
    private static let hostSuffixes: Set<String> = [
        "com", "net", "org", "io", "dev", "app", "cloud", "internal", "local", "lan", "localdomain", "corp", "home",
        "aws", "amazonaws", "svc", "cluster",
    ]
}
