/// A failure of the object store, with a stable ``Code`` a caller can act on and context for the log.
///
/// The message is ours and safe to show; it never contains secrets or signed URLs.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, in terms a caller can act on. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The object (or bucket) does not exist.
        public static let notFound = Code("notFound")
        /// The credentials are valid but not allowed to do this.
        public static let accessDenied = Code("accessDenied")
        /// The server computed another signature: wrong secret, clock skew, or a mangled request.
        public static let signatureMismatch = Code("signatureMismatch")
        /// A key or prefix that is empty, too long, or could escape the store.
        public static let invalidKey = Code("invalidKey")
        /// A bad argument other than a key (an expiry out of range, say).
        public static let invalidArgument = Code("invalidArgument")
        /// The storage configuration is incomplete or malformed (URL, credentials, endpoint).
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// The server could not be reached, or kept failing after every retry.
        public static let unreachable = Code("unreachable")
        /// The server answered with an error of its own (5xx, throttling) after every retry.
        public static let serverError = Code("serverError")
        /// The server's answer could not be understood.
        public static let badResponse = Code("badResponse")
        /// A presigned URL whose time is up.
        public static let expired = Code("expired")
        /// The operation is not available on this store (presigning without a URL signer).
        public static let unsupported = Code("unsupported")
        /// A local file-system failure (permissions, disk full).
        public static let io = Code("io")
    }

    /// The kind of failure.
    public var code: Code
    /// A short human-readable explanation.
    public var message: String
    /// The object key concerned, if any (relative to the store's root).
    public var key: String?
    /// The server's own error code (`NoSuchKey`, `SlowDown`, ...) or the HTTP status, when there was one.
    public var serverCode: String?

    /// An error from its parts.
    public init(_ code: Code, _ message: String, key: String? = nil, serverCode: String? = nil) {
        self.code = code
        self.message = message
        self.key = key
        self.serverCode = serverCode
    }

    public var description: String {
        var text = "StorageError(\(code)): \(message)"
        if let key { text += " [key: \(key)]" }
        if let serverCode { text += " [server: \(serverCode)]" }
        return text
    }
}

extension StorageError.Code {
    /// Maps an S3 error code (from the `<Error><Code>` of a response) and the HTTP status to ours.
    static func fromS3(code: String?, status: Int) -> StorageError.Code {
        switch code {
        case "NoSuchKey", "NoSuchBucket", "NoSuchUpload", "NotFound":
            return .notFound
        case "AccessDenied", "AllAccessDisabled", "AccountProblem", "InvalidAccessKeyId", "InvalidToken",
            "ExpiredToken", "InvalidObjectState":
            return .accessDenied
        case "SignatureDoesNotMatch", "AuthorizationHeaderMalformed", "RequestTimeTooSkewed":
            return .signatureMismatch
        case "KeyTooLongError", "InvalidURI":
            return .invalidKey
        case "SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "Throttling", "ThrottlingException":
            return .serverError
        case "InvalidArgument", "InvalidRequest", "EntityTooSmall", "EntityTooLarge", "InvalidPart", "InvalidPartOrder",
            "MalformedXML", "InvalidRange":
            return .invalidArgument
        default:
            switch status {
            case 404: return .notFound
            case 401, 403: return .accessDenied
            case 429, 500...599: return .serverError
            case 400...499: return .invalidArgument
            default: return .badResponse
            }
        }
    }
}
