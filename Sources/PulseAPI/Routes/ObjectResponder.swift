import Hummingbird
import NIOCore
import PulseStorage

/// Answers a GET or HEAD for one stored object: its MIME type, a single byte range (206) when
/// asked, and the bytes streamed from the store as they are read (never whole in memory).
///
/// One request to the store per answer where it can be: a whole object (what players ask for a
/// segment, a thumbnail) is one `get`, whose answer states the size and entity tag; a HEAD is
/// one `head`. Only a byte range needs the size before the bytes are asked for: a `head`, then
/// the range's `get`.
enum ObjectResponder {
    static func respond(to request: Request, store: any ObjectStore, key: String, cacheControl: String) async throws -> Response {
        var headers: HTTPFields = [
            .contentType: MediaType.forKey(key),
            .acceptRanges: "bytes",
            .cacheControl: cacheControl,
        ]
        if request.method != .head, request.headers[.range] == nil {
            let stream = try await open(store, key: key, range: nil)
            guard let info = stream.info else { return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: stream)) }
            describe(info, in: &headers)
            headers[.contentLength] = String(info.size)
            return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: stream))
        }
        guard let info = try await store.head(key: key) else { throw notFound }
        describe(info, in: &headers)
        let (status, range) = try select(request, size: info.size, headers: &headers)
        if request.method == .head || info.size == 0 {
            return Response(status: status, headers: headers)
        }
        let stream = try await open(store, key: key, range: range)
        return Response(status: status, headers: headers, body: ResponseBody(asyncSequence: stream))
    }

    /// The status and the bytes to send for `request`'s `Range` over an object of `size` bytes,
    /// with `Content-Length` (and `Content-Range`) set; throws 416 for a range outside it.
    static func select(_ request: Request, size: Int64, headers: inout HTTPFields) throws -> (HTTPResponse.Status, ClosedRange<Int64>?) {
        switch ByteRange(header: request.headers[.range], size: size) {
        case .whole:
            headers[.contentLength] = String(size)
            return (.ok, nil)
        case .partial(let bytes):
            headers[.contentLength] = String(bytes.count)
            headers[.contentRange] = "bytes \(bytes.lowerBound)-\(bytes.upperBound)/\(size)"
            return (.partialContent, bytes)
        case .unsatisfiable:
            throw APIError(.rangeNotSatisfiable, "the range is outside the object", headers: [.contentRange: "bytes */\(size)"])
        }
    }

    /// The object's bytes from the store, a missing one as the API's 404.
    static func open(_ store: any ObjectStore, key: String, range: ClosedRange<Int64>?) async throws -> ObjectStream {
        do {
            return try await store.get(key: key, range: range)
        } catch let error as StorageError where error.code == .notFound {
            throw notFound
        }
    }

    static let notFound = APIError(.notFound, "no such object")

    private static func describe(_ info: ObjectInfo, in headers: inout HTTPFields) {
        if let etag = info.etag { headers[.eTag] = "\"\(etag)\"" }
    }
}
