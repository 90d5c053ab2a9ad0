import Crypto
import PulseSupport

/// What a signature says about the request body: its SHA-256 (hex), or `UNSIGNED-PAYLOAD` when the
/// body is streamed and hashing it first would mean reading it twice (TLS still protects it in transit).
public struct SigV4Payload: Sendable, Equatable {
    /// The value placed in the canonical request and in `x-amz-content-sha256`.
    public let value: String

    /// A body that is not part of the signature.
    public static let unsigned = SigV4Payload(value: "UNSIGNED-PAYLOAD")
    /// The hash of an empty body (GET, HEAD, DELETE).
    public static let empty = SigV4Payload.hashing([])

    /// A payload whose SHA-256 the caller already knows, as lower-case hex.
    public static func sha256(hex: String) -> SigV4Payload {
        SigV4Payload(value: hex.lowercased())
    }

    /// The payload hash of these bytes.
    public static func hashing(_ bytes: [UInt8]) -> SigV4Payload {
        SigV4Payload(value: Hex.encode(SHA256.hash(data: bytes)))
    }

    /// The payload hash of this string's UTF-8 bytes.
    public static func hashing(_ string: String) -> SigV4Payload {
        hashing(Array(string.utf8))
    }
}
