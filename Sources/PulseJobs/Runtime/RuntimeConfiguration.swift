public import Foundation

/// Where Pulse keeps its state; one configuration for `serve`, `worker` and the short commands.
///
/// Embedded default: everything under `dataDirectory` (SQLite file, local storage folder, scratch).
/// Scale-out: `PULSE_DATABASE_URL=postgres://...` and `PULSE_STORAGE_URL=s3://bucket/prefix`.
public struct RuntimeConfiguration: Sendable {
    /// `--data` / `PULSE_DATA_DIR`, default `./data`, made absolute.
    public var dataDirectory: String
    /// `PULSE_DATABASE_URL`, default `sqlite://<data>/pulse.sqlite`.
    public var databaseURL: String
    /// `PULSE_STORAGE_URL`, default `file://<data>/storage`.
    public var storageURL: String
    /// `PULSE_WORK_DIR`, default `<data>/work`: local scratch for ffmpeg.
    public var workDirectory: String
    /// `PULSE_PUBLIC_URL`: the base URL browsers reach this service at (local storage URLs are
    /// built on it), default `http://127.0.0.1:8080`.
    public var publicURL: String
    /// The process environment (AWS settings for S3 are read from it).
    public var environment: [String: String]

    public init(dataDirectory: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let data = Self.absolute(dataDirectory ?? environment["PULSE_DATA_DIR"] ?? "./data")
        self.dataDirectory = data
        self.databaseURL = environment["PULSE_DATABASE_URL"] ?? "sqlite://\(data)/pulse.sqlite"
        self.storageURL = environment["PULSE_STORAGE_URL"] ?? "file://\(data)/storage"
        self.workDirectory = environment["PULSE_WORK_DIR"].map(Self.absolute) ?? "\(data)/work"
        self.publicURL = environment["PULSE_PUBLIC_URL"] ?? "http://127.0.0.1:8080"
        self.environment = environment
    }

    /// Creates the data folder and, for a SQLite URL, the folder of its file.
    public func makeDirectories() throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        if case .sqliteFile(let path) = try DatabaseURL(databaseURL) {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        }
    }

    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
    }

    /// A secret kept in the data folder (created on first use, mode 0600), e.g. the key that signs
    /// local storage URLs, so that every process sharing the folder agrees on it.
    public func persistentSecret(named name: String) throws -> [UInt8] {
        let path = "\(dataDirectory)/\(name)"
        if let data = FileManager.default.contents(atPath: path), data.count >= 32 { return Array(data) }
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = generator.next() }
        FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o600])
        // Another process may have won the race: read back what is on disk.
        return Array(FileManager.default.contents(atPath: path) ?? Data(bytes))
    }
}
