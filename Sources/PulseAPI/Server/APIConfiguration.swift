/// Settings of the HTTP side; documented defaults, filled from flags and environment by
/// `PulseConfiguration` (tests build their own).
public struct APIConfiguration: Sendable {
    /// Address to listen on (`--host`), default 127.0.0.1.
    public var host: String = "127.0.0.1"
    /// Port to listen on (`--port`), default 8080; 0 picks a free one (reported once bound).
    public var port: Int = 8080
    /// The API key every `/v1` call needs (`PULSE_API_KEY`). When nil, `PulseServer` uses the key
    /// kept in the data folder, generating it on first start (`PulseServer.apiKey`).
    public var apiKey: String?
    /// Largest accepted upload (`PULSE_MAX_UPLOAD_BYTES`), default 5 GiB.
    public var maxUploadBytes: Int64 = 5 << 30
    /// The base URL browsers reach this service at (`PULSE_PUBLIC_URL`). When nil, URLs are built
    /// on the request's `Host` header, or on the bound address.
    public var publicURL: String?
    /// With S3 storage: where the bucket's keys can be read publicly, a CDN or the bucket itself
    /// (`PULSE_PUBLIC_MEDIA_URL`); keys are appended to it. When nil, thumbnails get presigned GET
    /// URLs and playlists are served through this service's `/media/`.
    public var publicMediaURL: String?
    /// Lifetime of a per-asset token (`PULSE_TOKEN_TTL_SECONDS`), default 6 h: long enough for an
    /// upload and its processing.
    public var tokenLifetime: Duration = .seconds(6 * 3600)
    /// Lifetime of an upload URL (`PULSE_UPLOAD_URL_TTL_SECONDS`), default 1 h (the upload must
    /// start within it).
    public var uploadURLLifetime: Duration = .seconds(3600)
    /// Lifetime of presigned media GET URLs (thumbnails on S3 without a public media URL).
    public var mediaURLLifetime: Duration = .seconds(6 * 3600)
    /// How often an events WebSocket re-reads the asset from the database while no event arrives,
    /// so a notification lost in transit (a dropped LISTEN connection) cannot leave a page waiting.
    public var eventRecheckInterval: Duration = .seconds(5)

    /// The secret asset tokens are signed with (`PULSE_TOKEN_SECRET`, at least 32 bytes). When nil,
    /// one is generated into the data folder: API processes on several machines set this instead,
    /// so a token made by one is accepted by the others.
    public var tokenSecret: [UInt8]?

    /// A configuration with its defaults and this API key (nil: the data folder's).
    public init(apiKey: String? = nil) {
        self.apiKey = apiKey
    }
}
