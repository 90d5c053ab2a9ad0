public import AsyncHTTPClient
public import Logging

/// Builds the store a storage URL names: a folder (the local store) or an S3 bucket and prefix
/// (S3, with `s3`: the typed settings the configuration reader made from the AWS variables).
/// Throws `invalidConfiguration` for S3 without S3 settings. Reads no environment: everything
/// comes in as arguments.
public func makeObjectStore(
    url: StorageURL,
    s3: S3Configuration? = nil,
    localURLSigner: LocalURLSigner? = nil,
    httpClient: HTTPClient = .storage,
    logger: Logger
) throws -> any ObjectStore {
    switch url {
    case .folder(let path):
        return try LocalStore(root: path, urlSigner: localURLSigner, logger: logger)
    case .s3(let bucket, let prefix):
        guard let s3 else {
            throw StorageError(.invalidConfiguration, "s3:// storage needs S3 credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
        }
        return try S3Store(bucket: bucket, prefix: prefix, configuration: s3, httpClient: httpClient, logger: logger)
    }
}
