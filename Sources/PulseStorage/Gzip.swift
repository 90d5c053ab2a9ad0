import CompressNIO
public import NIOCore

/// gzip (RFC 1952) for small objects held in memory (playlists), with zlib through compress-nio,
/// which the WebSocket stack already builds.
public enum Gzip {
    /// The `Content-Encoding` value of a gzip-compressed object.
    public static let contentEncoding = "gzip"

    /// `bytes` as one gzip member any gzip reader (browsers, curl, Python's `gzip`) inflates.
    public static func compress(_ bytes: ByteBuffer) throws -> ByteBuffer {
        var input = bytes
        return try input.compress(with: .gzip())
    }

    /// The bytes a gzip member holds; throws `badResponse` for data that is not gzip or inflates
    /// past `maxBytes`.
    public static func decompress(_ bytes: ByteBuffer, upTo maxBytes: Int = 16 << 20, key: String? = nil) throws -> ByteBuffer {
        var input = bytes
        do {
            return try input.decompress(with: .gzip(), maxSize: maxBytes)
        } catch {
            throw StorageError(.badResponse, "not a gzip member of at most \(maxBytes) bytes: \(error)", key: key)
        }
    }
}

/// Undoes a stored content encoding.
public enum ContentDecoding {
    /// `bytes` as they were before `encoding` (nil or `identity`: as they are; `gzip` inflated);
    /// throws `unsupported` for any other encoding.
    public static func decode(_ bytes: ByteBuffer, encoding: String?, upTo maxBytes: Int = 16 << 20, key: String? = nil) throws -> ByteBuffer {
        switch encoding?.lowercased() {
        case nil, "", "identity": return bytes
        case Gzip.contentEncoding: return try Gzip.decompress(bytes, upTo: maxBytes, key: key)
        case let other?: throw StorageError(.unsupported, "stored with the content encoding \(other)", key: key)
        }
    }
}
