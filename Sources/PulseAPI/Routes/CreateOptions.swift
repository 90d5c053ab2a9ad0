import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import PulseJobs
import PulseSupport

/// The create options a chat backend uses, read and checked in one place: `passthrough`, `playback_policy`,
/// `mp4`, and the `Idempotency-Key` header with the request's fingerprint.
enum CreateOptions {
    /// `passthrough`: 1 to 255 bytes of UTF-8 with no control characters (it is shown in JSON and
    /// compared as given), or absent.
    static func passthrough(_ value: String?) throws -> String? {
        guard let value else { return nil }
        guard !value.isEmpty, value.utf8.count <= 255, !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw APIError(.invalidPassthrough, "passthrough must be 1 to 255 bytes of UTF-8 without control characters")
        }
        return value
    }

    /// `playback_policy`: `public` (the default) or `signed`.
    static func playbackPolicy(_ value: String?) throws -> PlaybackPolicy {
        guard let value else { return .public }
        guard let policy = PlaybackPolicy(rawValue: value) else {
            throw APIError(.invalidRequest, "playback_policy must be \"public\" or \"signed\"")
        }
        return policy
    }

    static let idempotencyKeyHeader = HTTPField.Name("Idempotency-Key")!
    /// On the answer to a create that repeated an earlier one (as Stripe and others do).
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    /// The `Idempotency-Key` header, or nil without one. The draft makes it a Structured Field
    /// String (`"..."`); a bare token is accepted too, as most APIs do. Either way the key is 1 to
    /// 255 printable ASCII characters (a quoted one without `"` or `\`); sent twice, it is refused.
    static func idempotencyKey(_ request: Request) throws -> String? {
        let values = request.headers[values: idempotencyKeyHeader]
        guard !values.isEmpty else { return nil }
        let refusal = APIError(.invalidIdempotencyKey, "Idempotency-Key must be one value of 1 to 255 printable ASCII characters")
        guard values.count == 1 else { throw refusal }
        var key = Substring(values[0].trimmingCharacters(in: .whitespaces))
        if key.count >= 2, key.hasPrefix("\""), key.hasSuffix("\"") {
            key = key.dropFirst().dropLast()
            guard !key.contains("\""), !key.contains("\\") else { throw refusal }
        }
        guard (1...255).contains(key.utf8.count), key.unicodeScalars.allSatisfy({ (0x20...0x7E).contains($0.value) }) else { throw refusal }
        return String(key)
    }

    /// What makes two creates "the same request": every field once defaults are applied, as JSON
    /// with sorted keys, hashed (SHA-256, hex). Spacing, key order and spelled-out defaults do not
    /// change it; any value does.
    static func fingerprint(_ fields: some Encodable) throws -> String {
        Hex.encode(SHA256.hash(data: try JSON.encoder.encode(fields)))
    }
}
