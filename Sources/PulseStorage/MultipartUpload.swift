/// One part of a multipart upload, as the store holds it.
public struct UploadedPart: Sendable, Hashable {
    /// 1...10000.
    public var partNumber: Int
    /// The part's entity tag, quotes removed (an MD5 hex digest on S3 and on the local store).
    public var etag: String
    /// Bytes.
    public var size: Int64

    public init(partNumber: Int, etag: String, size: Int64) {
        self.partNumber = partNumber
        self.etag = etag
        self.size = size
    }
}

/// A part named in a completion: its number and the ETag its upload answered.
public struct CompletedPart: Sendable, Hashable {
    public var partNumber: Int
    /// With or without the quotes S3 puts around it.
    public var etag: String

    public init(partNumber: Int, etag: String) {
        self.partNumber = partNumber
        self.etag = etag
    }

    /// The ETag without surrounding quotes.
    public var bareETag: String { MultipartLimits.unquote(etag) }
}

/// S3's rules for multipart uploads; the local store keeps them too, so an upload that works on
/// one store works on the other.
public enum MultipartLimits {
    /// Every part but the last is at least this large: 5 MiB.
    public static let minPartSize: Int64 = 5 << 20
    /// No part is larger: 5 GiB.
    public static let maxPartSize: Int64 = 5 << 30
    /// Part numbers are 1...10000.
    public static let maxParts = 10_000

    /// An ETag without the quotes (and weak marker) HTTP puts around it.
    public static func unquote(_ etag: String) -> String {
        var text = Substring(etag)
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        while text.first == "\"" { text = text.dropFirst() }
        while text.last == "\"" { text = text.dropLast() }
        return String(text)
    }
}

/// How an object of `size` bytes is cut into parts: every part `partSize` bytes but the last,
/// which holds the rest.
public struct PartPlan: Sendable, Hashable {
    /// The object's size, bytes (at least 1).
    public let size: Int64
    /// Bytes per part (the last may be smaller).
    public let partSize: Int64

    /// Parts of `preferredPartSize` (raised to S3's minimum, and, in whole MiB, far enough that
    /// there are at most 10,000 parts). Throws `invalidArgument` for a size of 0 or one that even
    /// 10,000 parts of 5 GiB cannot hold.
    public init(size: Int64, preferredPartSize: Int64) throws(StorageError) {
        guard size > 0 else { throw StorageError(.invalidArgument, "a multipart upload needs a size of at least 1 byte") }
        var partSize = max(preferredPartSize, MultipartLimits.minPartSize)
        let maxParts = Int64(MultipartLimits.maxParts)
        if (size + partSize - 1) / partSize > maxParts {
            let mebibyte: Int64 = 1 << 20
            let needed = (size + maxParts - 1) / maxParts
            partSize = (needed + mebibyte - 1) / mebibyte * mebibyte
        }
        guard partSize <= MultipartLimits.maxPartSize else {
            throw StorageError(.invalidArgument, "\(size) bytes do not fit in \(MultipartLimits.maxParts) parts")
        }
        self.size = size
        self.partSize = partSize
    }

    /// How many parts.
    public var partCount: Int { Int((size + partSize - 1) / partSize) }

    /// Part numbers, 1...partCount.
    public var partNumbers: ClosedRange<Int> { 1...partCount }

    /// The bytes of part `number` (1-based) within the object.
    public func range(ofPart number: Int) -> Range<Int64> {
        let start = Int64(number - 1) * partSize
        return start..<min(start + partSize, size)
    }

    /// The exact length part `number` must have.
    public func length(ofPart number: Int) -> Int64 { Int64(range(ofPart: number).count) }
}

extension ObjectStore {
    // Stores without multipart uploads (test doubles) refuse them.

    public func createMultipartUpload(key: String, contentType: String?) async throws -> String {
        throw StorageError(.unsupported, "this store has no multipart uploads", key: key)
    }

    public func uploadPart(fileAt path: String, key: String, uploadID: String, partNumber: Int) async throws -> String {
        throw StorageError(.unsupported, "this store has no multipart uploads", key: key)
    }

    public func presignedUploadPartURL(key: String, uploadID: String, partNumber: Int, expiresIn: Duration) async throws -> String {
        throw StorageError(.unsupported, "this store has no multipart uploads", key: key)
    }

    public func listParts(key: String, uploadID: String) async throws -> [UploadedPart] {
        throw StorageError(.unsupported, "this store has no multipart uploads", key: key)
    }

    public func completeMultipartUpload(key: String, uploadID: String, parts: [CompletedPart]) async throws {
        throw StorageError(.unsupported, "this store has no multipart uploads", key: key)
    }

    public func abortMultipartUpload(key: String, uploadID: String) async throws {
        throw StorageError(.unsupported, "this store has no multipart uploads", key: key)
    }
}
