public import AsyncHTTPClient
import Foundation
public import Logging

/// Builds the store a storage URL names: `file:///absolute/folder` (the local store) or
/// `s3://bucket/prefix` (S3, configured from `environment` by ``S3Configuration/fromEnvironment(_:)``).
/// Throws `invalidConfiguration` for anything else.
public func makeObjectStore(
    url: String,
    environment: [String: String],
    localURLSigner: LocalURLSigner? = nil,
    httpClient: HTTPClient = .shared,
    logger: Logger = Logger(label: "pulse.storage")
) throws -> any ObjectStore {
    if url.hasPrefix("file://") {
        let path = String(url.dropFirst("file://".count)).removingPercentEncoding ?? ""
        guard path.hasPrefix("/") else {
            throw StorageError(.invalidConfiguration, "a file:// storage URL needs an absolute path (file:///path)")
        }
        return try LocalStore(root: path, urlSigner: localURLSigner, logger: logger)
    }
    if url.hasPrefix("s3://") {
        let rest = url.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        let prefix = String(rest.dropFirst(bucket.count).drop { $0 == "/" })
        guard !bucket.isEmpty else { throw StorageError(.invalidConfiguration, "an s3:// storage URL needs a bucket") }
        return try S3Store(
            bucket: bucket, prefix: prefix, configuration: S3Configuration.fromEnvironment(environment),
            httpClient: httpClient, logger: logger
        )
    }
    throw StorageError(.invalidConfiguration, "storage URL must be file:///path or s3://bucket/prefix")
}
