import Foundation
import Hummingbird
import NIOCore

/// The API's JSON conventions in one place: snake_case keys (spelled out in each type's
/// `CodingKeys`), sorted keys, plain slashes in URLs, and small request bodies.
enum JSON {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Request bodies of the API are a few fields: anything bigger is refused before parsing.
    static let maxRequestBytes = 64 * 1024

    /// A JSON response.
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let bytes = try encoder.encode(value)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    /// Text of one encoded value (WebSocket messages).
    static func text(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Reads and decodes a JSON request body, with our own error codes: `ERR_INVALID_JSON` for
    /// bytes that are not JSON of the right shape, `ERR_INVALID_REQUEST` for a missing field.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxRequestBytes)
        } catch {
            throw APIError(.invalidJSON, "the request body is larger than \(maxRequestBytes) bytes")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch DecodingError.keyNotFound(let key, _) {
            throw APIError(.invalidRequest, "missing field \(key.stringValue)")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw APIError(.invalidRequest, "field \(field.isEmpty ? "(body)" : field) has the wrong type")
        } catch {
            throw APIError(.invalidJSON, "the request body is not valid JSON")
        }
    }
}

/// Timestamps in responses: RFC 3339 in UTC, e.g. `2025-01-31T12:00:00.123Z`.
enum Timestamp {
    static func string(_ epochSeconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: epochSeconds))
    }
}
