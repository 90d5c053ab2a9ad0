#if canImport(FoundationEssentials)
public import struct FoundationEssentials.Date
#else
public import struct Foundation.Date
#endif
public import NIOCore

/// Where objects live: S3 (or an S3-compatible server) or a local folder. Everything else in Pulse
/// reads and writes media through this interface. Keys are relative paths like `processed/ID/master.m3u8`.
public protocol ObjectStore: Sendable {
    /// Stores a local file under `key`, streaming it (never whole in memory). With `.move` the store
    /// may take the file itself (rename) and the source is gone afterwards.
    func put(fileAt path: String, key: String, contentType: String?, mode: PutFileMode) async throws

    /// Stores a small object held in memory. `contentEncoding` (e.g. `gzip`: the bytes are
    /// compressed) is kept with the object and answered with it; only a store that
    /// ``keepsContentEncoding`` takes one, the others throw `unsupported`.
    func put(_ bytes: ByteBuffer, key: String, contentType: String?, contentEncoding: String?) async throws

    /// Whether the store keeps an object's `Content-Encoding` and answers with it (S3, which then
    /// serves it to players as it is); the local folder keeps bytes and nothing else.
    var keepsContentEncoding: Bool { get }

    /// Streams an object, whole or a byte range (inclusive bounds, as in HTTP `Range`), with what
    /// the store knows of it (``ObjectStream/info``), in one request.
    /// Throws `notFound` when missing. The bytes arrive as they are read, never buffered whole.
    func get(key: String, range: ClosedRange<Int64>?) async throws -> ObjectStream

    /// The object's size and metadata, or nil when there is no such object.
    func head(key: String) async throws -> ObjectInfo?

    /// Deletes an object; deleting a missing object is not an error.
    func delete(key: String) async throws

    /// Every object whose key starts with `prefix`, in key order (UTF-8 byte order). Paging is done inside.
    func list(prefix: String) async throws -> [ObjectInfo]

    /// Deletes every object under `prefix` (which must not be empty) and returns how many there were.
    func deletePrefix(_ prefix: String) async throws -> Int

    /// A URL anyone can GET the object from until it expires.
    func presignedGetURL(key: String, expiresIn: Duration) async throws -> String

    /// A URL anyone can PUT the object to until it expires.
    func presignedPutURL(key: String, expiresIn: Duration) async throws -> String

    /// What ffmpeg/ffprobe should open to read the object: a file path for the local store, a
    /// presigned GET URL for S3 (ffmpeg then reads it with range requests, never a full copy).
    func mediaInput(key: String, expiresIn: Duration) async throws -> String

    // Multipart uploads (S3's, or the local store's own): a client sends a big object in parts it
    // can resume. See `MultipartUpload.swift`; stores that have none throw `unsupported`.

    /// Starts a multipart upload to `key` and returns its upload id.
    func createMultipartUpload(key: String, contentType: String?) async throws -> String

    /// Stores part `partNumber` (1...10000) of an upload from a local file; returns its ETag (unquoted).
    func uploadPart(fileAt path: String, key: String, uploadID: String, partNumber: Int) async throws -> String

    /// A URL anyone can PUT part `partNumber` to until it expires; the answer carries the part's `ETag`.
    func presignedUploadPartURL(key: String, uploadID: String, partNumber: Int, expiresIn: Duration) async throws -> String

    /// The parts stored so far, by part number. Throws `notFound` for an unknown (or finished) upload.
    func listParts(key: String, uploadID: String) async throws -> [UploadedPart]

    /// Assembles `parts` (ascending part numbers, each with the ETag its upload answered) into the
    /// object at `key`. Throws `invalidArgument` (server code `InvalidPart`, `InvalidPartOrder`,
    /// `EntityTooSmall`) when a part is unknown, has another ETag or is out of order.
    func completeMultipartUpload(key: String, uploadID: String, parts: [CompletedPart]) async throws

    /// Discards the upload and every part stored; an upload that no longer exists is not an error.
    func abortMultipartUpload(key: String, uploadID: String) async throws
}

/// How ``ObjectStore/put(fileAt:key:contentType:mode:)`` treats the source file.
public enum PutFileMode: Sendable {
    /// Leave the source file as it is.
    case copy
    /// The caller no longer needs the source: the local store renames it into place when it can
    /// (same file system), S3 deletes it after a successful upload.
    case move
}

/// What a store knows about one object.
public struct ObjectInfo: Sendable, Hashable {
    /// The key, relative to the store's root.
    public var key: String
    /// Size in bytes.
    public var size: Int64
    /// The entity tag (S3's ETag, quotes removed), when the store has one.
    public var etag: String?
    /// When the object was last written, when known.
    public var lastModified: Date?
    /// The stored content type, when known.
    public var contentType: String?
    /// The stored content encoding (`gzip`: the bytes are compressed), nil for bytes as they are.
    public var contentEncoding: String?

    /// Metadata from its parts.
    public init(
        key: String, size: Int64, etag: String? = nil, lastModified: Date? = nil, contentType: String? = nil,
        contentEncoding: String? = nil
    ) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.contentType = contentType
        self.contentEncoding = contentEncoding
    }
}

extension ObjectStore {
    /// Stores a local file, copying it.
    public func put(fileAt path: String, key: String, contentType: String? = nil) async throws {
        try await put(fileAt: path, key: key, contentType: contentType, mode: .copy)
    }

    /// Stores bytes as they are.
    public func put(_ bytes: ByteBuffer, key: String, contentType: String?) async throws {
        try await put(bytes, key: key, contentType: contentType, contentEncoding: nil)
    }

    /// Stores bytes without a content type.
    public func put(_ bytes: ByteBuffer, key: String) async throws {
        try await put(bytes, key: key, contentType: nil, contentEncoding: nil)
    }

    /// A store keeps no content encoding unless it says so.
    public var keepsContentEncoding: Bool { false }

    /// Streams the whole object.
    public func get(key: String) async throws -> ObjectStream {
        try await get(key: key, range: nil)
    }

    /// Reads a small object (a playlist, a manifest) into memory; throws `badResponse` past `maxBytes`.
    public func getBytes(key: String, range: ClosedRange<Int64>? = nil, upTo maxBytes: Int = 16 << 20) async throws
        -> ByteBuffer
    {
        try await getObject(key: key, range: range, upTo: maxBytes).bytes
    }

    /// Reads a small object into memory as stored, with what the store knows of it, in one request.
    public func getObject(key: String, range: ClosedRange<Int64>? = nil, upTo maxBytes: Int = 16 << 20) async throws
        -> (bytes: ByteBuffer, info: ObjectInfo?)
    {
        let stream = try await get(key: key, range: range)
        var collected = ByteBuffer()
        for try await var chunk in stream {
            guard collected.readableBytes + chunk.readableBytes <= maxBytes else {
                throw StorageError(.badResponse, "object larger than \(maxBytes) bytes", key: key)
            }
            collected.writeBuffer(&chunk)
        }
        return (collected, stream.info)
    }

    /// Reads a small object's content: its bytes with the stored content encoding undone (a
    /// playlist a store keeps gzip-compressed comes back as its text). Every reader of playlists
    /// goes through here, so it reads them from any store, in either encoding.
    public func getContent(key: String, upTo maxBytes: Int = 16 << 20) async throws -> ByteBuffer {
        let (bytes, info) = try await getObject(key: key, upTo: maxBytes)
        return try ContentDecoding.decode(bytes, encoding: info?.contentEncoding, upTo: maxBytes, key: key)
    }
}

/// The bytes of one object as they arrive: an `AsyncSequence` of `ByteBuffer`s.
public struct ObjectStream: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    private let makeIterator: @Sendable () -> AsyncIterator
    /// What the store answered about the whole object with its bytes (size, entity tag, content
    /// type and encoding), when it did: a reader needs no `head` before its `get`.
    public let info: ObjectInfo?

    /// Wraps any sequence of buffers (the HTTP body, file chunks).
    public init<Base: AsyncSequence & Sendable>(_ base: Base, info: ObjectInfo? = nil) where Base.Element == ByteBuffer {
        self.makeIterator = { AsyncIterator(base.makeAsyncIterator()) }
        self.info = info
    }

    public func makeAsyncIterator() -> AsyncIterator { makeIterator() }

    /// Iterates the underlying sequence.
    public struct AsyncIterator: AsyncIteratorProtocol {
        private var base: any AsyncIteratorProtocol

        init<Base: AsyncIteratorProtocol>(_ base: Base) where Base.Element == ByteBuffer {
            self.base = base
        }

        public mutating func next() async throws -> ByteBuffer? {
            try await Self.advance(&base)
        }

        private static func advance<Base: AsyncIteratorProtocol>(_ iterator: inout Base) async throws -> ByteBuffer? {
            // The initialiser only accepts iterators of ByteBuffer, so this cast cannot fail.
            try await iterator.next() as? ByteBuffer
        }
    }
}
