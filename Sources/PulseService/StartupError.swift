/// Why a process refused to start, in words an operator can act on (which path, which address,
/// which database, which tool), with the sysexits(3) status the process ends with.
public struct StartupError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, with the exit status it maps to.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A stable name for logs.
        public let rawValue: String
        /// The process's exit status (sysexits.h).
        public let exitStatus: Int32

        /// ffmpeg or ffprobe not found: EX_UNAVAILABLE.
        public static let toolMissing = Code(rawValue: "tool_missing", exitStatus: 69)
        /// The database did not answer within the start-up deadline: EX_UNAVAILABLE.
        public static let databaseUnreachable = Code(rawValue: "database_unreachable", exitStatus: 69)
        /// The listening address is taken (or not ours to take): EX_OSERR.
        public static let addressUnavailable = Code(rawValue: "address_unavailable", exitStatus: 71)
        /// A folder of the data directory cannot be created: EX_CANTCREAT.
        public static let dataFolderUnusable = Code(rawValue: "data_folder_unusable", exitStatus: 73)
        /// The database file cannot be opened, written or migrated: EX_IOERR.
        public static let databaseFileUnusable = Code(rawValue: "database_file_unusable", exitStatus: 74)

        public var description: String { rawValue }
    }

    /// What is wrong.
    public let code: Code
    /// One sentence naming the thing (path, address, database, tool) and what is wrong with it.
    public let message: String

    /// An error of `code` explained by `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
