public import AsyncHTTPClient
import Foundation
public import Logging

/// Where objects live, parsed from a storage URL (`PULSE_STORAGE_URL`): `file:///absolute/folder`
/// (the local store) or `s3://bucket/prefix` (S3). The one parser of storage URLs: the
/// configuration reader checks them with it at start-up, ``makeObjectStore(url:s3:localURLSigner:httpClient:logger:)``
/// builds the store from it.
public enum StorageLocation: Sendable, Equatable {
    /// A local folder (an absolute path).
    case folder(String)
    /// An S3 bucket and a key prefix inside it (empty, or ending in `/` once used as a store).
    case s3(bucket: String, prefix: String)

    /// Parses a storage URL; throws `invalidConfiguration` with the reason.
    public init(url: String) throws {
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
}

/// Builds the store a storage URL names: `file:///absolute/folder` (the local store) or
/// `s3://bucket/prefix` (S3, with `s3`: the typed settings the configuration reader made from the
/// AWS variables). Throws `invalidConfiguration` for anything else, and for an `s3://` URL without
/// S3 settings. Reads no environment: everything comes in as arguments.
public func makeObjectStore(
    url: String,
    s3: S3Configuration? = nil,
    localURLSigner: LocalURLSigner? = nil,
    httpClient: HTTPClient = .shared,
    logger: Logger
) throws -> any ObjectStore {
    switch try StorageLocation(url: url) {
    case .folder(let path):
        return try LocalStore(root: path, urlSigner: localURLSigner, logger: logger)
    case .s3(let bucket, let prefix):
        guard let s3 else {
            throw StorageError(.invalidConfiguration, "s3:// storage needs S3 credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
        }
        return try S3Store(bucket: bucket, prefix: prefix, configuration: s3, httpClient: httpClient, logger: logger)
    }
}
