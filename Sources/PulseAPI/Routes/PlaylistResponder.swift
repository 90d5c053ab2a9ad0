import Hummingbird
import NIOCore
import PulseStorage

/// Answers for a playlist (`.m3u8`): gzip-compressed to a client whose `Accept-Encoding` takes
/// gzip, as Apple's HLS rules ask of every playlist (they are text that repeats, a fraction of
/// their size compressed, and a player rereads them); as stored to any other client and to a
/// range request (a range counts in the stored bytes). Either way `Vary: Accept-Encoding`, so a
/// cache in between keeps the two apart.
enum PlaylistResponder {
    static func isPlaylist(_ key: String) -> Bool { key.hasSuffix(".m3u8") }

    static func respond(to request: Request, store: any ObjectStore, key: String, cacheControl: String) async throws -> Response {
        guard Gzip.isAccepted(by: request.headers[.acceptEncoding]), request.headers[.range] == nil else {
            var response = try await ObjectResponder.respond(to: request, store: store, key: key, cacheControl: cacheControl)
            response.headers[.vary] = "Accept-Encoding"
            return response
        }
        guard let info = try await store.head(key: key) else { throw APIError(.notFound, "no such object") }
        let compressed = try Gzip.compress(try await store.getBytes(key: key))
        var headers: HTTPFields = [
            .contentType: MediaType.forKey(key),
            .contentEncoding: "gzip",
            .vary: "Accept-Encoding",
            .cacheControl: cacheControl,
            .contentLength: String(compressed.readableBytes),
        ]
        // Another representation of the same object: another entity tag.
        if let etag = info.etag { headers[.eTag] = "\"\(etag)-gzip\"" }
        if request.method == .head { return Response(status: .ok, headers: headers) }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: compressed))
    }
}
