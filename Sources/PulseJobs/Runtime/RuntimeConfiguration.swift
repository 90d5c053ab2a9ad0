import Foundation
public import PulseDatabase
public import PulseStorage
public import PulseSupport

/// Where Pulse keeps its state; one configuration for `serve`, `worker` and the short commands.
/// Typed values only: the process reads flags and environment once, at start-up, through
/// ``init(reading:s3:)``, and passes this down; nothing here reads the environment.
///
/// Embedded default: everything under `dataDirectory` (SQLite file, local storage folder).
/// Scale-out: `PULSE_DATABASE_URL=postgres://...` and `PULSE_STORAGE_URL=s3://bucket/prefix`.
public struct RuntimeConfiguration: Sendable {
    /// `--data` / `PULSE_DATA_DIR`, default `./data`, made absolute.
    public var dataDirectory: String
    /// `PULSE_DATABASE_URL`, default `sqlite://<data>/pulse.sqlite`.
    public var databaseURL: DatabaseURL
    /// `PULSE_STORAGE_URL`, default `file://<data>/storage`.
    public var storageURL: StorageURL
    /// `PULSE_PUBLIC_URL`: the base URL browsers reach this service at (local storage URLs are
    /// built on it), default `http://127.0.0.1:8080`.
    public var publicURL: String
    /// S3 settings (from the `AWS_*` variables) for `s3://` storage; nil when no key pair is set.
    public var s3: S3Configuration?

    /// The data folder when neither `--data` nor `PULSE_DATA_DIR` is given.
    public static let defaultDataDirectory = "./data"
    /// The public URL when `PULSE_PUBLIC_URL` is not set (and `serve` does not know better).
    public static let defaultPublicURL = "http://127.0.0.1:8080"

    /// A configuration under `dataDirectory` (made absolute); every value not given takes its
    /// documented default, derived from the data folder.
    public init(
        dataDirectory: String = Self.defaultDataDirectory,
        databaseURL: DatabaseURL? = nil,
        storageURL: StorageURL? = nil,
        publicURL: String? = nil,
        s3: S3Configuration? = nil
    ) {
        let data = Self.absolute(dataDirectory)
        self.dataDirectory = data
        self.databaseURL = databaseURL ?? .sqliteFile(path: "\(data)/pulse.sqlite")
        self.storageURL = storageURL ?? .folder("\(data)/storage")
        self.publicURL = publicURL ?? Self.defaultPublicURL
        self.s3 = s3
    }

    /// Reads where state lives: `--data` / `PULSE_DATA_DIR`, `PULSE_DATABASE_URL` and
    /// `PULSE_STORAGE_URL`, each parsed once; `s3` is what the AWS variables gave
    /// (`S3Configuration.read`), which `s3://` storage needs. Bad values are recorded in `settings`.
    /// The public URL keeps its default: it is the API's to set.
    public init(reading settings: inout SettingsReader, s3: S3Configuration?) {
        self.init(dataDirectory: settings.text(flag: "--data", variable: "PULSE_DATA_DIR") ?? Self.defaultDataDirectory, s3: s3)
        if let url = settings.text(variable: "PULSE_DATABASE_URL") {
            do {
                databaseURL = try DatabaseURL(url)
            } catch {
                // The URL may hold a password: the reason only.
                settings.problem("PULSE_DATABASE_URL", "is not a database URL: \((error as? DatabaseError)?.message ?? "\(error)")")
            }
        }
        if let url = settings.text(variable: "PULSE_STORAGE_URL") {
            do {
                storageURL = try StorageURL(url)
            } catch {
                settings.problem("PULSE_STORAGE_URL", "is not a storage URL: \(error.message) (got \"\(url)\")")
            }
        }
        if case .s3 = storageURL, s3 == nil {
            let missing = (["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] as [String]).filter { settings.text(variable: $0) == nil }
            settings.problem(missing.joined(separator: " and "), "must be set for s3:// storage (PULSE_STORAGE_URL)")
        }
    }

    /// Creates the data folder and, for a SQLite file, the folder of its file.
    public func makeDirectories() throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        if case .sqliteFile(let path) = databaseURL {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        }
    }

    /// `path` made absolute against the current directory, and standardised.
    public static func absolute(_ path: String) -> String {
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
