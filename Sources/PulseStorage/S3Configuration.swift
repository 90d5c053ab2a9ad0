import Foundation
public import PulseSupport
public import SigV4

/// How to reach an S3 (or S3-compatible) service, and how to move data to it. The process's
/// configuration reader fills it from the usual AWS variables (`AWS_ACCESS_KEY_ID`, ...); this library
/// reads no environment. Every tuning value has a documented default.
public struct S3Configuration: Sendable {
    /// How the bucket appears in URLs.
    public enum Addressing: Sendable {
        /// `https://host/bucket/key`: works with every S3-compatible server and with dotted bucket names.
        case path
        /// `https://bucket.host/key`: AWS's preferred form.
        case virtualHosted
    }

    /// The signing credentials.
    public var credentials: SigV4Credentials
    /// The region, `us-east-1` by default.
    public var region: String
    /// A custom endpoint such as `http://127.0.0.1:5055` (MinIO, R2, moto); nil for AWS itself.
    public var endpoint: String?
    /// Path-style by default when an endpoint is set (most compatible servers want it), virtual-hosted for AWS.
    public var addressing: Addressing
    /// Files at least this large are uploaded in parts. Default 16 MiB.
    public var multipartThreshold: Int64 = 16 << 20
    /// The size of each part (S3 requires at least 5 MiB but for the last). Default 16 MiB.
    public var partSize: Int64 = 16 << 20
    /// How many parts are uploaded at once. Default 4.
    public var partConcurrency: Int = 4
    /// Keys per ListObjectsV2 page (S3's maximum is 1000).
    public var listPageSize: Int = 1000
    /// Keys per DeleteObjects call (S3's maximum is 1000).
    public var deleteBatchSize: Int = 1000
    /// When and how failed requests are retried.
    public var retry: RetryPolicy = .s3Request
    /// Time allowed for a request without a large body (HEAD, DELETE, list, small PUT). Default 60 s.
    public var requestTimeout: Duration = .seconds(60)
    /// Time allowed for a request that carries an object or a part, body included. Default 1 hour.
    public var transferTimeout: Duration = .seconds(3600)

    /// A configuration from explicit values.
    public init(credentials: SigV4Credentials, region: String = "us-east-1", endpoint: String? = nil,
                addressing: Addressing? = nil) {
        self.credentials = credentials
        self.region = region
        self.endpoint = endpoint
        self.addressing = addressing ?? (endpoint == nil ? .virtualHosted : .path)
    }
}
