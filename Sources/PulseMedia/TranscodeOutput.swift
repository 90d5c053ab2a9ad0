public import Foundation

/// Where a transcode's files go: a local folder here; object storage in PulseJobs.
/// Paths are relative to the asset's output root (`thumbnail.jpg`, `720p/seg_00000.ts`, ...).
public protocol TranscodeOutput: Sendable {
    /// Stores a local file (it may be moved away: the caller does not use it afterwards).
    func storeFile(at localPath: String, as relativePath: String, contentType: String) async throws
    /// Stores a small text file (playlists).
    func storeText(_ text: String, as relativePath: String, contentType: String) async throws
    /// Appends a stored file's bytes to `file`: the finishing steps read segments back through here.
    func append(_ relativePath: String, to file: FileHandle) async throws
}

/// MIME types of what we write.
public enum ContentType {
    public static let playlist = "application/vnd.apple.mpegurl"
    public static let transportStream = "video/mp2t"
    public static let jpeg = "image/jpeg"
    public static let webVTT = "text/vtt"
}

/// Writes into a local folder. Files arrive by rename (same filesystem) or copy.
public struct DirectoryOutput: TranscodeOutput {
    public let root: String

    public init(root: String) { self.root = root }

    public func storeFile(at localPath: String, as relativePath: String, contentType: String) async throws {
        let destination = "\(root)/\(relativePath)"
        try FileSystem.makeDirectory((destination as NSString).deletingLastPathComponent)
        do {
            try FileSystem.move(localPath, to: destination)
        } catch {
            // Another filesystem: copy then drop the original.
            FileSystem.remove(destination)
            try FileManager.default.copyItem(atPath: localPath, toPath: destination)
            FileSystem.remove(localPath)
        }
    }

    public func storeText(_ text: String, as relativePath: String, contentType: String) async throws {
        let destination = "\(root)/\(relativePath)"
        try FileSystem.makeDirectory((destination as NSString).deletingLastPathComponent)
        try FileSystem.write(text, to: destination)
    }

    public func append(_ relativePath: String, to file: FileHandle) async throws {
        guard let source = FileHandle(forReadingAtPath: "\(root)/\(relativePath)") else {
            throw MediaError(.outputMissing, "no \(relativePath) in the output")
        }
        defer { try? source.close() }
        while let chunk = try source.read(upToCount: 1 << 20), !chunk.isEmpty {
            try file.write(contentsOf: chunk)
        }
    }
}
