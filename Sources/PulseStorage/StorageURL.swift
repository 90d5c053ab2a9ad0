import Foundation

/// Where objects live, parsed once from a storage URL (`PULSE_STORAGE_URL`, or an `s3://` argument
/// of a command): `file:///absolute/folder` (the local store) or `s3://bucket/prefix` (S3). The
/// one parser of storage URLs; everything past the configuration reader carries this typed value,
/// and ``makeObjectStore(url:s3:localURLSigner:httpClient:logger:)`` builds the store from it.
public enum StorageURL: Sendable, Hashable, CustomStringConvertible {
    /// A local folder (an absolute path).
    case folder(String)
    /// An S3 bucket and a key prefix inside it (empty, or ending in `/` once used as a store).
    case s3(bucket: String, prefix: String)

    /// Parses a storage URL; throws `invalidConfiguration` with the reason.
    public init(_ url: String) throws(StorageError) {
        if url.hasPrefix("file://") {
            let path = String(url.dropFirst("file://".count)).removingPercentEncoding ?? ""
            guard path.hasPrefix("/") else {
                throw StorageError(.invalidConfiguration, "a file:// storage URL needs an absolute path (file:///path)")
            }
            self = .folder(path)
            return
        }
        if url.hasPrefix("s3://") {
            let rest = url.dropFirst("s3://".count)
            let bucket = String(rest.prefix { $0 != "/" })
            let prefix = String(rest.dropFirst(bucket.count).drop { $0 == "/" })
            guard !bucket.isEmpty else { throw StorageError(.invalidConfiguration, "an s3:// storage URL needs a bucket") }
            self = .s3(bucket: bucket, prefix: prefix)
            return
        }
        throw StorageError(.invalidConfiguration, "storage URL must be file:///path or s3://bucket/prefix")
    }

    /// The URL again: `file:///path` or `s3://bucket/prefix` (no credentials are ever part of it).
    public var description: String {
        switch self {
        case .folder(let path): return "file://\(path)"
        case .s3(let bucket, let prefix): return prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)"
        }
    }
}
