import Foundation
import Hummingbird
import PulseJobs

/// `POST /v1/assets/{id}/playback-tokens` (API key): fresh URLs for a signed asset, with a playback
/// token of the asked lifetime, so a backend can give each viewer their own URLs, limited in time.
struct PlaybackTokenRoute: Sendable {
    let dependencies: APIDependencies

    struct MintRequest: StrictJSONBody {
        typealias Fields = CodingKeys
        var ttlSeconds: Int?

        enum CodingKeys: String, CodingKey, CaseIterable { case ttlSeconds = "ttl_seconds" }
    }

    struct MintResponse: Encodable {
        var token: String
        var expiresAt: String
        var playlistURL: String?
        var thumbnailURL: String?
        var downloadURL: String?

        enum CodingKeys: String, CodingKey {
            case token
            case expiresAt = "expires_at"
            case playlistURL = "playlist_url"
            case thumbnailURL = "thumbnail_url"
            case downloadURL = "download_url"
        }

        func encode(to encoder: any Encoder) throws {
            // Spelled out so that URLs not there yet are sent as null rather than left out.
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(token, forKey: .token)
            try container.encode(expiresAt, forKey: .expiresAt)
            try container.encode(playlistURL, forKey: .playlistURL)
            try container.encode(thumbnailURL, forKey: .thumbnailURL)
            try container.encode(downloadURL, forKey: .downloadURL)
        }
    }

    func mint(_ request: Request, id text: String?) async throws -> Response {
        let d = dependencies
        let id = try APIDependencies.assetID(text)
        try d.auth.requireAPIKey(request)
        let body = try await JSON.decode(MintRequest.self, from: request)
        var lifetime = d.configuration.playbackTokenLifetime
        if let seconds = body.ttlSeconds {
            let range = PlaybackTokenLifetime.range
            guard range.contains(seconds) else {
                throw APIError(.invalidRequest, "ttl_seconds must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            lifetime = .seconds(seconds)
        }
        let asset = try await d.existingAsset(id)
        guard let (token, expires) = d.links.playbackToken(for: asset, lifetime: lifetime) else {
            throw APIError(.conflict, "this asset's playback policy is public: its URLs need no token")
        }
        // The asset's own URLs, each with this token.
        let resource = try await AssetResource.make(asset, links: d.links, base: d.links.base(for: request), token: token)
        return try JSON.response(MintResponse(
            token: token, expiresAt: Timestamp.string(Double(expires)),
            playlistURL: resource.playlistURL, thumbnailURL: resource.thumbnailURL, downloadURL: resource.downloadURL
        ), status: .created)
    }
}

/// The lifetimes a playback token may have (60 s to 7 days), for minting and for
/// `PULSE_PLAYBACK_TOKEN_TTL_SECONDS`.
enum PlaybackTokenLifetime {
    static let range = 60...(7 * 24 * 3600)
}
