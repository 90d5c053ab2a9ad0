import Foundation

/// Small file helpers used across the pipeline.
enum FileSystem {
    static var currentDirectory: String { FileManager.default.currentDirectoryPath }

    static func fileSize(_ path: String) -> Int64? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        return (attributes[.size] as? NSNumber)?.int64Value
    }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    static func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    static func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

    /// Moves `source` over `destination` (same filesystem: an atomic rename).
    static func move(_ source: String, to destination: String) throws {
        if rename(source, destination) != 0 {
            let code = errno
            throw MediaError(.outputMissing, "cannot move \(source) to \(destination): \(String(cString: strerror(code)))")
        }
    }

    static func write(_ text: String, to path: String) throws {
        // Write then rename, so a reader never sees half a playlist.
        let temporary = path + ".tmp"
        try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
        try move(temporary, to: path)
    }

    static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
