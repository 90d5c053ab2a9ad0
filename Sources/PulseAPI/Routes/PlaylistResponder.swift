import Hummingbird
import NIOCore
import PulseStorage

/// Answers for a playlist (`.m3u8`): gzip-compressed to a client whose `Accept-Encoding` takes
/// gzip, as Apple's HLS rules ask of every playlist (they are text that repeats, a fraction of
/// their size compressed, and a player rereads them); as text to any other client and to a
/// range request (a range counts in the text's bytes). Either way `Vary: Accept-Encoding`, so a
/// cache in between keeps the two apart.
///
/// A playlist is stored as text (the local store) or gzip-compressed (S3, `ObjectStoreOutput`):
/// it is read with one `get`, whose answer says which; the stored form goes out as it is where
/// the client takes it, and the other is made from it. Each form has its own entity tag: the
/// stored object's, and that with `-gzip` or `-identity` for the one made here.
enum PlaylistResponder {
    static func isPlaylist(_ key: String) -> Bool { key.hasSuffix(".m3u8") }

    static func respond(to request: Request, store: any ObjectStore, key: String, cacheControl: String) async throws -> Response {
        let (stored, info): (ByteBuffer, ObjectInfo?)
        do {
            (stored, info) = try await store.getObject(key: key)
        } catch let error as StorageError where error.code == .notFound {
            throw ObjectResponder.notFound
        }
        let storedGzip = info?.contentEncoding?.lowercased() == Gzip.contentEncoding
        // Decoded only for an answer made from the text: a gzip client of a gzip-stored playlist
        // (every player on S3, rereading it) gets the stored bytes without a round of inflating.
        let text = { try ContentDecoding.decode(stored, encoding: info?.contentEncoding, key: key) }
        var headers: HTTPFields = [
            .contentType: MediaType.forKey(key),
            .vary: "Accept-Encoding",
            .cacheControl: cacheControl,
        ]
        let body: ByteBuffer
        let status: HTTPResponse.Status
        if AcceptEncoding.takesGzip(request.headers[.acceptEncoding]), request.headers[.range] == nil {
            body = storedGzip ? stored : try Gzip.compress(try text())
            status = .ok
            headers[.contentEncoding] = Gzip.contentEncoding
            headers[.contentLength] = String(body.readableBytes)
            if let etag = info?.etag { headers[.eTag] = storedGzip ? "\"\(etag)\"" : "\"\(etag)-gzip\"" }
        } else {
            headers[.acceptRanges] = "bytes"
            if let etag = info?.etag { headers[.eTag] = storedGzip ? "\"\(etag)-identity\"" : "\"\(etag)\"" }
            let text = try text()
            let range: ClosedRange<Int64>?
            (status, range) = try ObjectResponder.select(request, size: Int64(text.readableBytes), headers: &headers)
            body = range.map { text.getSlice(at: text.readerIndex + Int($0.lowerBound), length: Int($0.count))! } ?? text
        }
        if request.method == .head { return Response(status: status, headers: headers) }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body))
    }
}
