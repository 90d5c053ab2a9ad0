/// An error from the persistence layer, with a stable code callers can act on.
public struct DatabaseError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a value that can grow without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The raw name, stable across releases.
        public let name: String

        /// The database URL could not be parsed or names an unsupported engine.
        public static let invalidURL = Code(name: "invalid_url")
        /// The server could not be reached or the connection dropped: worth retrying later.
        public static let unavailable = Code(name: "unavailable")
        /// SQLite stayed locked by another process longer than the busy timeout: worth retrying.
        public static let busy = Code(name: "busy")
        /// A unique, foreign-key, not-null or check constraint refused the statement.
        public static let constraintViolation = Code(name: "constraint_violation")
        /// The server refused or failed the statement for another reason (usually a bug).
        public static let queryFailed = Code(name: "query_failed")
        /// A column held a value of an unexpected type.
        public static let decoding = Code(name: "decoding")
        /// A migration could not be applied.
        public static let migrationFailed = Code(name: "migration_failed")
        /// A value does not fit what the layer accepts (e.g. an event payload too large for NOTIFY).
        public static let invalidValue = Code(name: "invalid_value")

        public var description: String { self.name }
    }

    /// What went wrong.
    public var code: Code
    /// A human-readable explanation for logs; never shown to API clients as-is.
    public var message: String
    /// The driver's error, if any.
    public var underlying: (any Error)?

    /// Creates an error.
    public init(_ code: Code, message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// True when trying again later may succeed (connection trouble, lock contention).
    public var isTransient: Bool {
        self.code == .unavailable || self.code == .busy
    }

    public var description: String {
        "DatabaseError(\(self.code)): \(self.message)"
    }
}
