public import Foundation
public import Logging
public import NIOCore
import NIOFileSystem

/// The embedded default store: objects are files under one folder, keys are their relative paths.
///
/// Keys are validated so none can leave the folder. Every write goes to a temporary file in
/// `ROOT/.staging` and is renamed into place, so a reader sees the old object or the new one, never half.
/// Content types are not stored (the HTTP server that serves these files derives them from the name).
public struct LocalStore: ObjectStore {
    /// The folder objects live in.
    public let root: String
    let urlSigner: LocalURLSigner?
    let now: @Sendable () -> Date
    let logger: Logger
    /// Bytes per chunk of a streamed read.
    static let chunkSize = 1 << 20

    /// A store on `root` (created if missing). Without a `urlSigner` the presigning methods throw
    /// `unsupported`; `now` is the clock for URL expiries.
    public init(
        root: String,
        urlSigner: LocalURLSigner? = nil,
        logger: Logger = Logger(label: "pulse.storage.local"),
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        let absolute = URL(fileURLWithPath: root).standardizedFileURL.path
        do {
            try FileManager.default.createDirectory(
                atPath: absolute + "/" + ObjectKey.stagingSegment, withIntermediateDirectories: true
            )
        } catch {
            throw StorageError(.io, "cannot create the storage folder \(absolute): \(error)")
        }
        self.root = absolute
        self.urlSigner = urlSigner
        self.logger = logger
        self.now = now
    }

    // MARK: writing

    public func put(fileAt path: String, key: String, contentType: String?, mode: PutFileMode) async throws {
        try ObjectKey.validate(key)
        let destination = try prepareParent(of: key)
        if mode == .move {
            // Same file system: a rename is atomic and copies nothing.
            let code = Self.renameIntoPlace(path, destination)
            if code == 0 {
                logger.debug("stored file by rename", metadata: ["storage.key": "\(key)"])
                return
            }
            guard code == EXDEV else { throw Self.posixError(code, "cannot move \(path)", key: key) }
        }
        let staging = stagingPath()
        do {
            try await FileSystem.shared.copyItem(at: FilePath(path), to: FilePath(staging))
        } catch let error as FileSystemError where error.code == .notFound {
            throw StorageError(.notFound, "no such source file \(path)", key: key)
        } catch {
            throw StorageError(.io, "cannot copy \(path): \(error)", key: key)
        }
        try commit(staging, to: destination, key: key)
        if mode == .move { unlink(path) }
        logger.debug("stored file", metadata: ["storage.key": "\(key)"])
    }

    public func put(_ bytes: ByteBuffer, key: String, contentType: String?, contentEncoding: String?) async throws {
        try ObjectKey.validate(key)
        // A file here is its bytes and nothing else: an encoding could not be answered with it.
        guard contentEncoding == nil else {
            throw StorageError(.unsupported, "the local store keeps no content encoding", key: key)
        }
        let destination = try prepareParent(of: key)
        let staging = stagingPath()
        do {
            _ = try await FileSystem.shared.withFileHandle(
                forWritingAt: FilePath(staging), options: .newFile(replaceExisting: false)
            ) { handle in
                try await handle.write(contentsOf: bytes, toAbsoluteOffset: 0)
            }
        } catch {
            unlink(staging)
            throw StorageError(.io, "cannot write: \(error)", key: key)
        }
        try commit(staging, to: destination, key: key)
    }

    // MARK: reading

    public func get(key: String, range: ClosedRange<Int64>?) async throws -> ObjectStream {
        guard let info = try await head(key: key) else {
            throw StorageError(.notFound, "no such object", key: key)
        }
        let start = range?.lowerBound ?? 0
        let end = min(range.map { $0.upperBound + 1 } ?? info.size, info.size)
        if range != nil && start >= info.size && info.size > 0 {
            throw StorageError(.invalidArgument, "range starts past the end (\(info.size) bytes)", key: key)
        }
        return ObjectStream(LocalFileChunks(path: path(of: key), range: start..<max(start, end), chunkSize: Self.chunkSize), info: info)
    }

    public func head(key: String) async throws -> ObjectInfo? {
        try ObjectKey.validate(key)
        guard let info = try await FileSystem.shared.info(forFileAt: FilePath(path(of: key)), infoAboutSymbolicLink: false),
            info.type == .regular
        else { return nil }
        let modified = Date(
            timeIntervalSince1970: Double(info.lastDataModificationTime.seconds)
                + Double(info.lastDataModificationTime.nanoseconds) / 1e9
        )
        return ObjectInfo(key: key, size: info.size, lastModified: modified)
    }

    public func list(prefix: String) async throws -> [ObjectInfo] {
        try ObjectKey.validatePrefix(prefix)
        // Walk only the deepest folder the prefix names, not the whole store.
        let folder = prefix.contains("/") ? String(prefix[..<prefix.lastIndex(of: "/")!]) : ""
        let start = folder.isEmpty ? root : root + "/" + folder
        guard let walker = FileManager.default.enumerator(atPath: start) else { return [] }
        var found: [ObjectInfo] = []
        while let relative = walker.nextObject() as? String {
            let key = folder.isEmpty ? relative : folder + "/" + relative
            if key == ObjectKey.stagingSegment || key.hasPrefix(ObjectKey.stagingSegment + "/") {
                walker.skipDescendants()
                continue
            }
            guard walker.fileAttributes?[.type] as? FileAttributeType == .typeRegular, key.hasPrefix(prefix) else {
                continue
            }
            let size = (walker.fileAttributes?[.size] as? NSNumber)?.int64Value ?? 0
            let modified = walker.fileAttributes?[.modificationDate] as? Date
            found.append(ObjectInfo(key: key, size: size, lastModified: modified))
        }
        return found.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }

    // MARK: deleting

    public func delete(key: String) async throws {
        try ObjectKey.validate(key)
        if unlink(path(of: key)) != 0 && errno != ENOENT {
            throw Self.posixError(errno, "cannot delete", key: key)
        }
        removeEmptyFolders(above: key)
    }

    public func deletePrefix(_ prefix: String) async throws -> Int {
        guard !prefix.isEmpty else { throw StorageError(.invalidKey, "refusing to delete the whole store") }
        let objects = try await list(prefix: prefix)
        for object in objects { try await delete(key: object.key) }
        logger.info("deleted prefix", metadata: ["storage.prefix": "\(prefix)", "storage.count": "\(objects.count)"])
        return objects.count
    }

    // MARK: URLs

    public func presignedGetURL(key: String, expiresIn: Duration) async throws -> String {
        try signedURL(method: "GET", key: key, expiresIn: expiresIn)
    }

    public func presignedPutURL(key: String, expiresIn: Duration) async throws -> String {
        try signedURL(method: "PUT", key: key, expiresIn: expiresIn)
    }

    /// The file's absolute path: ffmpeg reads local files directly, faster than through HTTP.
    public func mediaInput(key: String, expiresIn: Duration) async throws -> String {
        guard try await head(key: key) != nil else { throw StorageError(.notFound, "no such object", key: key) }
        return path(of: key)
    }

    /// The absolute path a key maps to (the key must be valid).
    public func path(of key: String) -> String { root + "/" + key }

    // MARK: helpers

    private func signedURL(method: String, key: String, expiresIn: Duration) throws -> String {
        try ObjectKey.validate(key)
        guard let urlSigner else { throw StorageError(.unsupported, "this local store has no URL signer", key: key) }
        guard expiresIn > .zero else { throw StorageError(.invalidArgument, "expiry must be positive", key: key) }
        return urlSigner.url(method: method, key: key, expiresIn: expiresIn, now: now())
    }

    func prepareParent(of key: String) throws(StorageError) -> String {
        let destination = path(of: key)
        let parent = (destination as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw StorageError(.io, "cannot create folder for the key: \(error)", key: key)
        }
        return destination
    }

    func stagingPath() -> String {
        "\(root)/\(ObjectKey.stagingSegment)/\(UUID().uuidString)"
    }

    func commit(_ staging: String, to destination: String, key: String) throws(StorageError) {
        let code = Self.renameIntoPlace(staging, destination)
        guard code == 0 else {
            unlink(staging)
            throw Self.posixError(code, "cannot rename into place", key: key)
        }
    }

    /// `rename`, retried when a concurrent delete pruned the (momentarily empty) parent folder
    /// between `prepareParent` and here. Returns 0 or the errno of the last attempt.
    static func renameIntoPlace(_ source: String, _ destination: String) -> Int32 {
        var code: Int32 = 0
        for _ in 0..<3 {
            if rename(source, destination) == 0 { return 0 }
            code = errno
            guard code == ENOENT, access(source, F_OK) == 0 else { return code }
            let parent = (destination as NSString).deletingLastPathComponent
            try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        }
        return code
    }

    /// Keeps the tree tidy after deletes; `rmdir` fails harmlessly on folders that are not empty.
    private func removeEmptyFolders(above key: String) {
        var segments = key.split(separator: "/").dropLast()
        while !segments.isEmpty {
            if rmdir(root + "/" + segments.joined(separator: "/")) != 0 { return }
            segments = segments.dropLast()
        }
    }

    static func posixError(_ code: Int32, _ message: String, key: String) -> StorageError {
        let reason = String(cString: strerror(code))
        return StorageError(code == ENOENT ? .notFound : .io, "\(message): \(reason)", key: key)
    }
}

/// A file's bytes in chunks. Each chunk opens the file, reads at its offset and closes it again,
/// so a consumer that stops iterating early leaks no file descriptor.
struct LocalFileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String
    let range: Range<Int64>
    let chunkSize: Int

    func makeAsyncIterator() -> Iterator { Iterator(path: path, offset: range.lowerBound, end: range.upperBound, chunkSize: chunkSize) }

    struct Iterator: AsyncIteratorProtocol {
        let path: String
        var offset: Int64
        let end: Int64
        let chunkSize: Int

        mutating func next() async throws -> ByteBuffer? {
            guard offset < end else { return nil }
            let length = Int(Swift.min(Int64(chunkSize), end - offset))
            let offset = self.offset
            let chunk: ByteBuffer
            do {
                chunk = try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(path)) { handle in
                    try await handle.readChunk(fromAbsoluteOffset: offset, length: .bytes(Int64(length)))
                }
            } catch let error as FileSystemError where error.code == .notFound {
                throw StorageError(.notFound, "object deleted while being read")
            }
            guard chunk.readableBytes > 0 else {
                throw StorageError(.io, "object shrank while being read")
            }
            self.offset += Int64(chunk.readableBytes)
            return chunk
        }
    }
}
