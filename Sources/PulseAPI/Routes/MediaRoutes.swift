import Foundation
import Hummingbird
import PulseJobs

/// `GET /media/{id}/...`: an asset's playback files (`processed/{id}/...`) — the master playlist,
/// rung playlists, segments and the thumbnail — with MIME types, byte ranges and CORS.
///
/// Public by design, like a CDN URL: the asset id (a random UUID) is the capability. With S3 and a
/// `PULSE_PUBLIC_MEDIA_URL` clients are sent there instead; without one, this proxies S3.
struct MediaRoutes: Sendable {
    let dependencies: APIDependencies

    func register(on router: Router<some RequestContext>) {
        router.get("media/:id/**") { request, context in try await self.serve(request, context) }
        router.head("media/:id/**") { request, context in try await self.serve(request, context) }
    }

    private func serve(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let id = try APIDependencies.assetID(context.parameters.get("id"))
        let rest = try context.parameters.getCatchAll().map { segment in
            guard let decoded = String(segment).removingPercentEncoding, !decoded.isEmpty, !decoded.contains("/") else {
                throw APIError(.notFound, "no such object")
            }
            return decoded
        }
        guard !rest.isEmpty else { throw APIError(.notFound, "no such object") }
        let key = StorageKeys.processedPrefix(id) + rest.joined(separator: "/")
        // Playlists are rewritten if an asset is processed again; segments and thumbnails are not.
        let cache = key.hasSuffix(".m3u8") ? "public, max-age=10" : "public, max-age=86400"
        return try await ObjectResponder.respond(to: request, store: dependencies.store, key: key, cacheControl: cache)
    }
}
