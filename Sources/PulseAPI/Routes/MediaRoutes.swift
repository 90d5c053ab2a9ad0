import Foundation
import Hummingbird
import PulseJobs

/// `GET /media/{id}/...`: an asset's playback files (`processed/{id}/...`) — the master playlist,
/// rung playlists, segments and the thumbnail — with MIME types, byte ranges and CORS.
///
/// A `public` asset's files are public by design, like a CDN URL: the asset id (a random UUID) is
/// the capability. With S3 and a `PULSE_PUBLIC_MEDIA_URL` clients are sent there instead; without
/// one, this proxies S3. A `signed` asset's files are served only under `/media/{id}/t/{token}/...`
/// with a valid playback credential for that asset and file (``PlaybackCredentialVerifier``: a
/// token the server minted, or a JWT the backend signed offline with a signing key): 403
/// `ERR_PLAYBACK_TOKEN_REQUIRED` without one (or with one not valid for it), 401 `ERR_TOKEN_EXPIRED`
/// once it has expired. The token is in the path, so the relative URIs of the playlists keep it.
///
/// Only what the API hands out is served, and only while the asset exists: nothing for an asset
/// that does not exist or is being deleted (whatever objects are still in the store), the
/// thumbnail once it exists, and playlists and segments once the asset plays: from `playable`
/// (the first rendition, published while the ladder encodes; a segment it lists before it is
/// stored is waited for, see `SegmentWaits`) and after `ready`. Before that they are unfinished
/// output, and after a failure, leftovers.
struct MediaRoutes: Sendable {
    let dependencies: APIDependencies
    let segmentWaits: SegmentWaits

    init(dependencies: APIDependencies) {
        self.dependencies = dependencies
        self.segmentWaits = SegmentWaits(
            limit: dependencies.configuration.segmentWaitLimit,
            gauge: dependencies.metrics.registry.makeGauge(name: "pulse_segment_waits", help: "Requests waiting for a listed segment not stored yet"))
    }

    func register(on router: Router<some RequestContext>) {
        router.get("media/:id/**") { request, context in try await self.serve(request, context) }
        router.head("media/:id/**") { request, context in try await self.serve(request, context) }
    }

    private func serve(_ request: Request, _ context: some RequestContext) async throws -> Response {
        // Only the spelling the API hands out: a path a lenient reading would map onto a media
        // file (doubled slashes, `T` for `t`, percent-escapes) is no file of ours, whatever it carries.
        guard Self.isCanonical(request.uri.path) else { throw APIError(.notFound, "no such object") }
        let id = try APIDependencies.assetID(context.parameters.get("id"))
        let rest = try context.parameters.getCatchAll().map { segment in
            guard let decoded = String(segment).removingPercentEncoding, !decoded.isEmpty, !decoded.contains("/") else {
                throw APIError(.notFound, "no such object")
            }
            return decoded
        }
        let (token, path) = try await playbackToken(in: rest, for: id)
        guard !path.isEmpty else { throw APIError(.notFound, "no such object") }
        let key = StorageKeys.processedPrefix(id) + path.joined(separator: "/")
        // `get` does not show an asset being deleted.
        guard let asset = try await dependencies.assets.get(id) else { throw APIError(.notFound, "no such object") }
        let playing = asset.status == .processing && asset.playableAt != nil
        guard asset.status == .ready || playing || (asset.thumbnailKey != nil && key == asset.thumbnailKey) else {
            throw APIError(.notFound, "no such object")
        }
        if asset.playbackPolicy == .signed, token == nil {
            throw APIError(.playbackTokenRequired, "this video plays only with a playback token")
        }
        // Segments and thumbnails never change; playlists may be rewritten if an asset is
        // processed again, and the first rendition's when it is complete. A signed asset's files
        // are for the token's holder: no shared cache keeps them.
        let scope = asset.playbackPolicy == .signed ? "private" : "public"
        let cache = !key.hasSuffix(".m3u8") ? "\(scope), max-age=86400" : playing ? "no-cache" : "\(scope), max-age=10"
        do {
            if PlaylistResponder.isPlaylist(key) {
                return try await PlaylistResponder.respond(to: request, store: dependencies.store, key: key, cacheControl: cache)
            }
            var response = try await ObjectResponder.respond(to: request, store: dependencies.store, key: key, cacheControl: cache)
            if path.count == 1, path.first == Self.downloadName {
                response.headers[.contentDisposition] = ContentDisposition.attachment(named: asset.filename, extension: "mp4")
            }
            return response
        } catch let error as APIError where error.code == .notFound && playing && key.hasSuffix(".ts") {
            // A planned segment of the first rendition, listed before it is stored: wait for it,
            // while the client is there (a connection that closes ends its wait and frees its slot).
            // Any other name is not coming: 404 at once.
            guard try await segmentWaits.isListed(path, assetID: id, store: dependencies.store) else { throw error }
            try await segmentWaits.waitForObject(key, assetID: id, request: request, store: dependencies.store, assets: dependencies.assets)
            var response = try await ObjectResponder.respond(to: request, store: dependencies.store, key: key, cacheControl: cache)
            response.headers[.connection] = "close"
            return response
        }
    }

    /// The MP4 download's file name under an asset's media path.
    static let downloadName = "download.mp4"

    /// Whether `path` (raw, as received) is a media path as the API writes it: `/media/` and
    /// non-empty segments of letters, digits, `.`, `-` and `_` (ids, the token, file names), with
    /// the token marker in lower case.
    static func isCanonical(_ path: String) -> Bool {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count >= 3, segments[0].isEmpty, segments[1] == "media" else { return false }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_".utf8)
        for segment in segments.dropFirst(2) {
            guard !segment.isEmpty, segment != ".", segment != "..", segment.utf8.allSatisfy(allowed.contains) else { return false }
        }
        return segments.count < 4 || segments[3].lowercased() != PlaybackTokenSigner.pathMarker || segments[3] == PlaybackTokenSigner.pathMarker
    }

    /// Splits `t/{credential}/...` off the path and checks the credential (a server playback
    /// token or a signed JWT) for `id` and the file asked, before the asset is read. Returns the
    /// verified credential, if any, and the rest of the path.
    private func playbackToken(in path: [String], for id: UUID) async throws -> (String?, ArraySlice<String>) {
        guard path.count >= 2, path[0] == PlaybackTokenSigner.pathMarker else { return (nil, path[...]) }
        let token = path[1]
        let file = path.dropFirst(2)
        switch try await dependencies.playbackCredentials.verify(token, assetID: id, path: file, now: dependencies.now()) {
        case .valid: return (token, file)
        case .expired: throw APIError(.tokenExpired, "the playback token has expired")
        case .invalid: throw APIError(.playbackTokenRequired, "the playback token is not valid for this video")
        }
    }
}
