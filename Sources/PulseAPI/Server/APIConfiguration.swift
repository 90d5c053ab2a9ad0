import PulseStorage
public import PulseSupport

/// Settings of the HTTP side; documented defaults, read from flags and environment by
/// ``init(reading:)`` (tests build their own).
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
    /// Lifetime of the playback tokens in the URLs of signed assets that responses and events carry
    /// (`PULSE_PLAYBACK_TOKEN_TTL_SECONDS`, 60 s to 7 days), default 1 h; a backend mints URLs
    /// of other lifetimes with `POST /v1/assets/{id}/playback-tokens`.
    public var playbackTokenLifetime: Duration = .seconds(3600)
    /// Preferred part size of multipart uploads (`PULSE_UPLOAD_PART_BYTES`), default 16 MiB, 5 MiB
    /// to 5 GiB (S3's bounds); raised for a file that would need more than 10,000 parts.
    public var uploadPartBytes: Int64 = 16 << 20
    /// Lifetime of presigned media GET URLs (thumbnails on S3 without a public media URL).
    public var mediaURLLifetime: Duration = .seconds(6 * 3600)
    /// How often an asset with open events WebSockets is re-read from the database (once per asset,
    /// for all its sockets), so a notification lost in transit (a dropped LISTEN connection) cannot
    /// leave a page waiting.
    public var eventRecheckInterval: Duration = .seconds(5)
    /// The slowest an upload to `/storage/` may arrive and keep its share of the upload allowance
    /// (`PULSE_UPLOAD_MIN_BYTES_PER_SECOND`), default 2048 (16 kbit/s, below the slowest mobile
    /// data link a phone uploads on), on average since the body began less one `uploadRateWindow`;
    /// a slower one is cut off.
    public var uploadMinimumBytesPerSecond: Int64 = 2048
    /// The upload pace's grace and how often it is checked, default 60 s: an upload owes nothing
    /// in its first window.
    public var uploadRateWindow: Duration = .seconds(60)

    /// How long a connection may stay open with no request on it (`PULSE_IDLE_TIMEOUT_SECONDS`),
    /// default 30 s: before its first request, between keep-alive requests, and while a request
    /// body has stopped arriving. Events WebSockets are not idle connections (they are pinged).
    public var idleTimeout: Duration = .seconds(30)
    /// How long a request head (request line and headers) may take to arrive, from its first byte
    /// (`PULSE_HEADER_TIMEOUT_SECONDS`), default 10 s; a connection whose head is not complete by
    /// then is closed.
    public var headerTimeout: Duration = .seconds(10)
    /// Events WebSockets open at once with one asset token (`PULSE_MAX_WEBSOCKETS_PER_TOKEN`), default 8;
    /// one more is refused with `429 ERR_TOO_MANY_CONNECTIONS`. Sockets opened with the API key
    /// count against the total only.
    public var maxEventSocketsPerToken: Int = 8
    /// Events WebSockets open at once in this process (`PULSE_MAX_WEBSOCKETS`), default 10,000;
    /// one more is refused with `503 ERR_UNAVAILABLE`.
    public var maxEventSockets: Int = 10_000
    /// Bytes an events WebSocket may have waiting to be sent (beyond what the kernel holds) before
    /// it is closed as a slow reader (close code 4408), default 64 KiB: a slow client never slows
    /// the others nor grows the server's memory.
    public var eventSocketSendLimit: Int = 64 * 1024
    /// How often an events WebSocket is pinged, default 30 s; one whose client sent nothing (no
    /// pong) between two pings is closed, so a client that vanished without closing frees its slot.
    public var eventSocketPingInterval: Duration = .seconds(30)

    /// Requests waiting at once for a listed segment of a first rendition not stored yet
    /// (`SegmentWaits`), default 256; one more is refused with `429 ERR_TOO_MANY_CONNECTIONS`.
    public var segmentWaitLimit: Int = 256

    /// The secret asset tokens are signed with (`PULSE_TOKEN_SECRET`, at least 32 bytes). When nil,
    /// one is generated into the data folder: API processes on several machines set this instead,
    /// so a token made by one is accepted by the others.
    public var tokenSecret: [UInt8]?

    /// A configuration with its defaults and this API key (nil: the data folder's).
    public init(apiKey: String? = nil) {
        self.apiKey = apiKey
    }

    /// Where `serve` can be reached when `publicURL` is not set: the address it listens on
    /// (`0.0.0.0` reached as 127.0.0.1); nil with port 0, which is known only once bound.
    public var listeningURL: String? {
        guard port != 0 else { return nil }
        let host = self.host == "0.0.0.0" ? "127.0.0.1" : self.host
        return "http://" + Self.authority(host: host, port: port)
    }

    /// Reads the HTTP side's flags and variables over the defaults; bad values are recorded in
    /// `settings`.
    public init(reading settings: inout SettingsReader) {
        if let host = settings.text(flag: "--host", variable: nil) { self.host = host }
        if let port = settings.number(Int.self, flag: "--port", variable: nil, "0 to 65535 (0 picks a free port)", { (0...65535).contains($0) }) { self.port = port }
        apiKey = settings.text(variable: "PULSE_API_KEY")
        publicURL = settings.httpURL(variable: "PULSE_PUBLIC_URL")
        publicMediaURL = settings.httpURL(variable: "PULSE_PUBLIC_MEDIA_URL")
        if let value = settings.number(Int64.self, flag: nil, variable: "PULSE_MAX_UPLOAD_BYTES", "a positive whole number of bytes", { $0 > 0 }) {
            maxUploadBytes = value
        }
        if let value = settings.number(Int64.self, flag: nil, variable: "PULSE_UPLOAD_MIN_BYTES_PER_SECOND", "a positive whole number of bytes", { $0 > 0 }) {
            uploadMinimumBytesPerSecond = value
        }
        if let value = settings.number(Int.self, flag: nil, variable: "PULSE_TOKEN_TTL_SECONDS", "a positive whole number of seconds", { $0 > 0 }) {
            tokenLifetime = .seconds(value)
        }
        if let value = settings.number(Int64.self, flag: nil, variable: "PULSE_UPLOAD_PART_BYTES", "a whole number of bytes from 5 MiB (5242880) to 5 GiB",
                                       { (MultipartLimits.minPartSize...MultipartLimits.maxPartSize).contains($0) }) {
            uploadPartBytes = value
        }
        if let value = settings.number(Int.self, flag: nil, variable: "PULSE_UPLOAD_URL_TTL_SECONDS", "a positive whole number of seconds", { $0 > 0 }) {
            uploadURLLifetime = .seconds(value)
        }
        if let value = settings.number(
            Int.self, flag: nil, variable: "PULSE_PLAYBACK_TOKEN_TTL_SECONDS", "a whole number of seconds from 60 to 604800",
            { PlaybackTokenLifetime.range.contains($0) }) {
            playbackTokenLifetime = .seconds(value)
        }
        // Connections: how long one may idle or take to send a request head, and how many events
        // WebSockets may be open (per asset token, and in all).
        if let value = settings.number(Int.self, flag: nil, variable: "PULSE_IDLE_TIMEOUT_SECONDS", "a positive whole number of seconds", { $0 > 0 }) {
            idleTimeout = .seconds(value)
        }
        if let value = settings.number(Int.self, flag: nil, variable: "PULSE_HEADER_TIMEOUT_SECONDS", "a positive whole number of seconds", { $0 > 0 }) {
            headerTimeout = .seconds(value)
        }
        let perToken = settings.number(Int.self, flag: nil, variable: "PULSE_MAX_WEBSOCKETS_PER_TOKEN", "a positive whole number", { $0 > 0 })
        let total = settings.number(Int.self, flag: nil, variable: "PULSE_MAX_WEBSOCKETS", "a positive whole number", { $0 > 0 })
        if let perToken { maxEventSocketsPerToken = perToken }
        if let total { maxEventSockets = total }
        if perToken != nil || total != nil, maxEventSocketsPerToken > maxEventSockets {
            settings.problem(
                "PULSE_MAX_WEBSOCKETS_PER_TOKEN",
                "must not exceed PULSE_MAX_WEBSOCKETS (\(maxEventSockets)) (got \(maxEventSocketsPerToken))")
        }
        if let secret = settings.text(variable: "PULSE_TOKEN_SECRET") {
            if secret.utf8.count >= 32 { tokenSecret = Array(secret.utf8) } else {
                settings.problem("PULSE_TOKEN_SECRET", "must be at least 32 bytes (got \(secret.utf8.count))")
            }
        }
    }
}
