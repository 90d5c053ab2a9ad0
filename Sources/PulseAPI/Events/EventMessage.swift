import PulseJobs

/// One message on `GET /v1/assets/{id}/events`, as JSON text. `type` is `snapshot` (first, with
/// the whole `asset`), `status`, `thumbnail_ready` (with `thumbnail_url` and `placeholder`), `playable` (with `playlist_url`), `progress`,
/// `ready` (with the whole `asset`) or `failed` (with `error`). Every message carries the asset's
/// `passthrough` when it has one. Keys without a value are left out.
struct EventMessage: Encodable, Sendable {
    var type: String
    var asset: AssetResource?
    var status: String?
    var percent: Double?
    var etaSeconds: Double?
    var speed: Double?
    var thumbnailURL: String?
    /// For `thumbnail_ready`: the thumbnail's BlurHash, painted before any image is fetched.
    var placeholder: String?
    var playlistURL: String?
    var error: AssetResource.ErrorDetail?
    /// When the worker published the event (Unix seconds), so a client can tell how fresh it is.
    var emittedAt: Double?
    /// The asset's `passthrough`, so a backend can tie every event to its own record.
    var passthrough: String?

    enum CodingKeys: String, CodingKey {
        case type, asset, status, percent, speed, error, passthrough, placeholder
        case emittedAt = "emitted_at"
        case etaSeconds = "eta_seconds"
        case thumbnailURL = "thumbnail_url"
        case playlistURL = "playlist_url"
    }

    init(type: String, asset: AssetResource? = nil) {
        self.type = type
        self.asset = asset
    }

    /// The first message of every connection.
    static func snapshot(_ asset: AssetResource) -> EventMessage {
        var message = EventMessage(type: "snapshot", asset: asset)
        message.passthrough = asset.passthrough
        return message
    }
}

extension Double {
    /// One decimal is all a progress ring or an ETA needs.
    var oneDecimal: Double { (self * 10).rounded() / 10 }
}
