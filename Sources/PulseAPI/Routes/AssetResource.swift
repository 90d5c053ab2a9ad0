import Foundation
import PulseJobs
import PulseMedia
import PulseSupport

/// An asset as the API shows it (`GET /v1/assets/{id}`, lists, and the WebSocket snapshot).
/// Every key is always present; unknown values are `null`.
struct AssetResource: Encodable, Sendable {
    struct ErrorDetail: Codable, Sendable, Hashable {
        var code: String
        var message: String
    }

    struct RungInfo: Codable, Sendable, Hashable {
        var name: String
        var width: Int
        var height: Int
    }

    var id: String
    var status: String
    var progress: Double
    var filename: String?
    var size: Int64?
    var duration: Double?
    var rungs: [RungInfo]
    var error: ErrorDetail?
    var thumbnailURL: String?
    /// The thumbnail's BlurHash, painted before any image is fetched; set with the thumbnail.
    var placeholder: String?
    var playlistURL: String?
    /// The scrubbing storyboard (WebVTT of sprite tiles), set at `ready`.
    var storyboardURL: String?
    var createdAt: String
    var updatedAt: String
    var readyAt: String?
    var playableAt: String?
    var passthrough: String?
    var playbackPolicy: String
    /// Set once `download.mp4` is stored (asked for with `mp4: true`).
    var downloadURL: String?

    enum CodingKeys: String, CodingKey {
        case id, status, progress, filename, size, duration, rungs, error
        case thumbnailURL = "thumbnail_url"
        case placeholder
        case playlistURL = "playlist_url"
        case storyboardURL = "storyboard_url"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case readyAt = "ready_at"
        case playableAt = "playable_at"
        case passthrough
        case playbackPolicy = "playback_policy"
        case downloadURL = "download_url"
    }

    func encode(to encoder: any Encoder) throws {
        // Spelled out so that nil is sent as null rather than left out.
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(status, forKey: .status)
        try container.encode(progress, forKey: .progress)
        try container.encode(filename, forKey: .filename)
        try container.encode(size, forKey: .size)
        try container.encode(duration, forKey: .duration)
        try container.encode(rungs, forKey: .rungs)
        try container.encode(error, forKey: .error)
        try container.encode(thumbnailURL, forKey: .thumbnailURL)
        try container.encode(placeholder, forKey: .placeholder)
        try container.encode(playlistURL, forKey: .playlistURL)
        try container.encode(storyboardURL, forKey: .storyboardURL)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(readyAt, forKey: .readyAt)
        try container.encode(playableAt, forKey: .playableAt)
        try container.encode(passthrough, forKey: .passthrough)
        try container.encode(playbackPolicy, forKey: .playbackPolicy)
        try container.encode(downloadURL, forKey: .downloadURL)
    }

    /// The resource for a stored asset; URLs are built on `base`. A signed asset's URLs carry
    /// `token`, or a new playback token of the default lifetime.
    static func make(_ asset: Asset, links: Links, base: String, token: String? = nil) async throws -> AssetResource {
        let token = token ?? links.playbackToken(for: asset)?.token
        let thumbnail: String? =
            if let key = asset.thumbnailKey { try await links.thumbnailURL(assetID: asset.id, key: key, base: base, token: token) } else { nil }
        return AssetResource(
            id: Links.id(asset.id),
            status: asset.status.rawValue,
            progress: (asset.progress * 10).rounded() / 10,
            filename: asset.filename,
            size: asset.sourceSize,
            duration: asset.duration,
            rungs: rungs(of: asset),
            error: asset.errorCode.map { ErrorDetail(recordedCode: $0, message: asset.errorMessage) },
            thumbnailURL: thumbnail,
            placeholder: asset.placeholder,
            // Set as soon as it plays: the first rendition before `ready`, the full ladder after.
            playlistURL: asset.status == .ready || (asset.playableAt != nil && asset.status == .processing)
                ? links.playlistURL(assetID: asset.id, base: base, token: token, early: asset.status != .ready) : nil,
            storyboardURL: asset.status == .ready && asset.storyboardKey != nil ? links.storyboardURL(assetID: asset.id, base: base, token: token) : nil,
            createdAt: Timestamp.string(asset.createdAt),
            updatedAt: Timestamp.string(asset.updatedAt),
            readyAt: asset.readyAt.map(Timestamp.string),
            playableAt: asset.playableAt.map(Timestamp.string),
            passthrough: asset.passthrough,
            playbackPolicy: asset.playbackPolicy.rawValue,
            downloadURL: asset.status == .ready && asset.downloadKey != nil ? links.downloadURL(assetID: asset.id, base: base, token: token) : nil
        )
    }

    /// The rungs planned for the asset; a plan not fixed yet, or unreadable, shows as no rungs.
    private static func rungs(of asset: Asset) -> [RungInfo] {
        guard let plan = try? asset.plan() else { return [] }
        return plan.rungs.map { RungInfo(name: $0.name, width: $0.width, height: $0.height) }
    }
}

extension AssetResource.ErrorDetail {
    /// What clients may read of a recorded failure (an asset's error, a `failed` event): the
    /// worker's messages for media problems are written for people ("the video is 5 hours long;
    /// the limit is 4"); for infrastructure failures they can carry internal detail, so those show
    /// the code's fixed `publicMessage`. No code at all shows as `ERR_INTERNAL`.
    init(recordedCode: FailureCode?, message: String?) {
        let code = recordedCode ?? .internalError
        self.init(code: code.rawValue, message: code.publicMessage(recorded: message))
    }
}
