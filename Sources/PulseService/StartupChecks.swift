import Foundation
public import Logging
public import PulseDatabase
public import PulseJobs
import PulseMedia
import PulseSupport

/// What a process makes sure of before it starts any service, each failure a `StartupError` that
/// names the thing and what is wrong with it: a process that cannot do its work says so and ends,
/// rather than starting and failing every job later.
public enum StartupChecks {
    /// Creates the data folder (and the SQLite file's folder) and checks that a file can be
    /// written in it.
    public static func makeDataFolders(_ runtime: RuntimeConfiguration) throws(StartupError) {
        do {
            try runtime.makeDirectories()
        } catch {
            var folders = [runtime.dataDirectory]
            if case .sqliteFile(let path) = runtime.databaseURL { folders.append((path as NSString).deletingLastPathComponent) }
            let folder = folders.first { !isFolder($0) } ?? runtime.dataDirectory
            throw StartupError(.dataFolderUnusable, "cannot create the data folder \(folder) (--data, PULSE_DATA_DIR): \(problem(creating: folder, error))")
        }
        let probe = "\(runtime.dataDirectory)/.write-check-\(getpid())"
        guard FileManager.default.createFile(atPath: probe, contents: nil) else {
            throw StartupError(.dataFolderUnusable, "the data folder \(runtime.dataDirectory) (--data, PULSE_DATA_DIR) is not writable")
        }
        try? FileManager.default.removeItem(atPath: probe)
    }

    /// ffmpeg and ffprobe, which every worker runs, can be found.
    static func requireTools(_ media: MediaConfiguration) throws(StartupError) {
        let missing = toolProblems(media)
        guard missing.isEmpty else {
            throw StartupError(.toolMissing, "workers need ffmpeg and ffprobe: " + missing.map(\.problem).joined(separator: "; "))
        }
    }

    /// The tools of `media` that cannot be found: each one's name (`ffmpeg`, `ffprobe`) and a
    /// sentence saying why, naming the setting that points at it.
    static func toolProblems(_ media: MediaConfiguration) -> [(name: String, problem: String)] {
        [("ffmpeg", media.ffmpegPath, "--ffmpeg, PULSE_FFMPEG"), ("ffprobe", media.ffprobePath, "--ffprobe, PULSE_FFPROBE")].compactMap { name, tool, setting -> (name: String, problem: String)? in
            do throws(MediaError) {
                _ = try locateTool(tool)
                return nil
            } catch {
                return (name, "\(error.message) (set \(setting))")
            }
        }
    }

    /// Applies migrations (the versions applied now are returned), waiting for the database at
    /// most `deadline` (PostgreSQL's pool retries in the meantime); then logs at error and
    /// throws, naming the database (never its password).
    @discardableResult
    public static func migrate(_ url: DatabaseURL, within deadline: Duration, logger: Logger) async throws -> [Int] {
        let timeout = StartupError(
            .databaseUnreachable,
            "the database \(url) did not answer within \(deadline.components.seconds) s (PULSE_DATABASE_URL; PULSE_STARTUP_TIMEOUT sets the wait)")
        do {
            return try await withDeadline(deadline, orThrow: timeout) {
                try await withDatabase(url: url, logger: logger) { try await PulseDatabase.migrate($0, logger: logger) }
            }
        } catch let error as StartupError {
            logger.error("database unreachable", metadata: ["database": "\(url)", "error": "\(error.message)"])
            throw error
        } catch {
            guard case .sqliteFile(let path) = url else { throw error }
            throw StartupError(.databaseFileUnusable, "cannot use the database file \(path) (PULSE_DATABASE_URL): \(problem(using: path, error))")
        }
    }

    private static func isFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Why the SQLite file at `path` cannot be used: it is a folder, or not writable; else the
    /// database's own error.
    private static func problem(using path: String, _ error: any Error) -> String {
        if isFolder(path) { return "\(path) is a folder, not a file" }
        if FileManager.default.fileExists(atPath: path), !FileManager.default.isWritableFile(atPath: path) { return "\(path) is not writable" }
        return "\(error)"
    }

    /// Why `folder` cannot be created: the nearest existing ancestor is a file, or not writable;
    /// else the system's reason.
    private static func problem(creating folder: String, _ error: any Error) -> String {
        var ancestor = (folder as NSString).deletingLastPathComponent
        while !ancestor.isEmpty, ancestor != "/", !FileManager.default.fileExists(atPath: ancestor) {
            ancestor = (ancestor as NSString).deletingLastPathComponent
        }
        if FileManager.default.fileExists(atPath: folder), !isFolder(folder) { return "\(folder) is a file, not a folder" }
        if !isFolder(ancestor) { return "\(ancestor) is a file, not a folder" }
        if !FileManager.default.isWritableFile(atPath: ancestor) { return "\(ancestor) is not writable" }
        if let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return "\(error)"
    }
}
