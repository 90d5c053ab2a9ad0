public import Hummingbird
import Foundation
import NIOCore
public import PulseSupport

/// An error a client sees: a stable code, a message written for them, and the HTTP status.
///
/// The body is always `{"error": {"code": "...", "message": "..."}}`. Internal detail (SQL, paths,
/// storage responses) never goes here: it goes to the log.
public struct APIError: Error, Sendable, HTTPResponseError, CustomStringConvertible {
    /// A stable, documented error code: one of the service's `FailureCode`s (PulseSupport), whose
    /// table also gives the HTTP status it is answered with.
    public typealias Code = FailureCode

    /// What went wrong, as a stable code.
    public var code: Code
    /// A sentence for the client; never internal detail.
    public var message: String
    /// Extra response headers (e.g. `WWW-Authenticate`, `Content-Range`).
    public var headers: HTTPFields

    /// An error with a client-facing message.
    public init(_ code: Code, _ message: String, headers: HTTPFields = [:]) {
        self.code = code
        self.message = message
        self.headers = headers
    }

    /// The HTTP status, from the code.
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: code.httpStatus) }
    public var description: String { "\(code.rawValue): \(message)" }

    /// The JSON error response.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        let body = ErrorBody(error: .init(code: code.rawValue, message: message))
        let bytes = (try? JSON.encoder.encode(body)) ?? Data(#"{"error":{"code":"ERR_INTERNAL","message":"internal error"}}"#.utf8)
        // HEAD responses carry the headers only.
        if request.method == .head { return Response(status: status, headers: headers) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private struct ErrorBody: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
        }
        var error: Detail
    }
}
