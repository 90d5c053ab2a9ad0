public import Hummingbird
import Foundation
import NIOCore

/// An error a client sees: a stable code, a message written for them, and the HTTP status.
///
/// The body is always `{"error": {"code": "...", "message": "..."}}`. Internal detail (SQL, paths,
/// storage responses) never goes here: it goes to the log.
public struct APIError: Error, Sendable, HTTPResponseError, CustomStringConvertible {
    /// A stable, documented error code and the status it is answered with.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code as clients see it, e.g. `ERR_NOT_FOUND`.
        public let rawValue: String
        /// The HTTP status it is answered with.
        public let status: HTTPResponse.Status

        init(_ rawValue: String, _ status: HTTPResponse.Status) {
            self.rawValue = rawValue
            self.status = status
        }

        public var description: String { rawValue }

        /// No or unknown credentials.
        public static let unauthorized = Code("ERR_UNAUTHORIZED", .unauthorized)
        /// An asset token whose lifetime is over.
        public static let tokenExpired = Code("ERR_TOKEN_EXPIRED", .unauthorized)
        /// Valid credentials that do not allow this (an asset token for another asset or endpoint).
        public static let forbidden = Code("ERR_FORBIDDEN", .forbidden)
        /// A storage URL whose signature does not match.
        public static let invalidSignature = Code("ERR_INVALID_SIGNATURE", .forbidden)
        /// A storage URL past its expiry.
        public static let urlExpired = Code("ERR_URL_EXPIRED", .forbidden)
        /// No such asset, object or route.
        public static let notFound = Code("ERR_NOT_FOUND", .notFound)
        /// `complete` was called before the upload arrived in storage.
        public static let uploadNotFound = Code("ERR_UPLOAD_NOT_FOUND", .notFound)
        /// The body is not JSON, or not the JSON this endpoint takes.
        public static let invalidJSON = Code("ERR_INVALID_JSON", .badRequest)
        /// JSON that parses but has a missing or invalid field or parameter.
        public static let invalidRequest = Code("ERR_INVALID_REQUEST", .badRequest)
        /// The declared or uploaded size is above the limit.
        public static let uploadTooLarge = Code("ERR_UPLOAD_TOO_LARGE", .contentTooLarge)
        /// The asset is in a state that does not allow this.
        public static let conflict = Code("ERR_CONFLICT", .conflict)
        /// This method is not served on this path.
        public static let methodNotAllowed = Code("ERR_METHOD_NOT_ALLOWED", .methodNotAllowed)
        /// The events endpoint was called without a WebSocket upgrade.
        public static let upgradeRequired = Code("ERR_UPGRADE_REQUIRED", HTTPResponse.Status(code: 426, reasonPhrase: "Upgrade Required"))
        /// A `Range` header outside the object.
        public static let rangeNotSatisfiable = Code("ERR_RANGE_NOT_SATISFIABLE", .rangeNotSatisfiable)
        /// The database or the storage cannot be reached right now.
        public static let unavailable = Code("ERR_UNAVAILABLE", .serviceUnavailable)
        /// Anything unexpected; the detail is in the server's log.
        public static let internalError = Code("ERR_INTERNAL", .internalServerError)
    }

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
    public var status: HTTPResponse.Status { code.status }
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
