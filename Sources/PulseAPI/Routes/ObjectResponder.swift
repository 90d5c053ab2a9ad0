import Hummingbird
import NIOCore
import PulseStorage

/// Answers a GET or HEAD for one stored object: its MIME type, a single byte range (206) when
/// asked, and the bytes streamed from the store as they are read (never whole in memory).
enum ObjectResponder {
    static func respond(to request: Request, store: any ObjectStore, key: String, cacheControl: String) async throws -> Response {
        guard let info = try await store.head(key: key) else { throw APIError(.notFound, "no such object") }
        var headers: HTTPFields = [
            .contentType: MediaType.forKey(key),
            .acceptRanges: "bytes",
            .cacheControl: cacheControl,
        ]
        if let etag = info.etag { headers[.eTag] = "\"\(etag)\"" }
        let status: HTTPResponse.Status
        let range: ClosedRange<Int64>?
        switch ByteRange(header: request.headers[.range], size: info.size) {
        case .whole:
            status = .ok
            range = nil
            headers[.contentLength] = String(info.size)
        case .partial(let bytes):
            status = .partialContent
            range = bytes
            headers[.contentLength] = String(bytes.count)
            headers[.contentRange] = "bytes \(bytes.lowerBound)-\(bytes.upperBound)/\(info.size)"
        case .unsatisfiable:
            throw APIError(.rangeNotSatisfiable, "the range is outside the object", headers: [.contentRange: "bytes */\(info.size)"])
        }
        if request.method == .head || info.size == 0 {
            return Response(status: status, headers: headers)
        }
        let stream = try await store.get(key: key, range: range)
        return Response(status: status, headers: headers, body: ResponseBody(asyncSequence: stream))
    }
}
