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
    /// bytes that are not JSON of the right shape, `ERR_INVALID_REQUEST` for a missing field, a
    /// field of the wrong type or a field the body does not have.
    static func decode<T: StrictJSONBody>(_ type: T.Type, from request: Request) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxRequestBytes)
        } catch {
            throw APIError(.invalidJSON, "the request body is larger than \(maxRequestBytes) bytes")
        }
        let data = Data(buffer.readableBytesView)
        let value: T
        do {
            value = try JSONDecoder().decode(T.self, from: data)
        } catch DecodingError.keyNotFound(let key, _) {
            throw APIError(.invalidRequest, "missing field \(key.stringValue)")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw APIError(.invalidRequest, "field \(field.isEmpty ? "(body)" : field) has the wrong type")
        } catch {
            throw APIError(.invalidJSON, "the request body is not valid JSON")
        }
        // It decoded, so it is a JSON object with at least the required fields.
        let given = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        let known = Set(T.Fields.allCases.map(\.stringValue))
        if let unknown = given.keys.filter({ !known.contains($0) }).sorted().first {
            throw APIError(.invalidRequest, "unknown field \(unknown)")
        }
        return value
    }
}

/// A JSON request body whose fields are exactly its coding keys. A field it does not know is
/// refused rather than ignored: a misspelt option (`playback_policies` for `playback_policy`)
/// would otherwise quietly take its default, e.g. make a public asset of one meant to be signed.
protocol StrictJSONBody: Decodable {
    associatedtype Fields: CodingKey & CaseIterable
}
