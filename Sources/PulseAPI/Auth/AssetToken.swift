import Crypto
public import Foundation
import PulseSupport

/// Short-lived per-asset tokens for browsers: `at1.<expiry>.<hex HMAC-SHA256>`, where the MAC covers
/// the asset id and the expiry (Unix seconds) under a secret kept in the data folder. A token lets
/// its holder read its own asset, complete its own upload and follow its own events, nothing else.
public struct AssetTokenSigner: Sendable {
    /// What a presented token turned out to be.
    public enum Verdict: Sendable, Hashable {
        /// Genuine and in time, for the asset it names.
        case valid(assetID: UUID)
        /// Genuine, but its lifetime is over.
        case expired
        /// Not a token we made (wrong format or signature).
        case invalid
    }

    /// Tokens start with this, so a bearer value is told apart from an API key without trying both.
    static let prefix = "at1."
    private let key: SymmetricKey

    /// A signer with a secret of at least 16 bytes.
    public init(secret: [UInt8]) {
        precondition(secret.count >= 16, "the asset token secret must be at least 16 bytes")
        self.key = SymmetricKey(data: secret)
    }

    /// Whether a bearer value looks like an asset token (rather than an API key).
    static func looksLikeToken(_ value: String) -> Bool { value.hasPrefix(prefix) }

    /// A token for `assetID` valid until `expires` (Unix seconds).
    public func token(for assetID: UUID, expires: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Self.message(assetID, expires), using: key)
        return "\(Self.prefix)\(expires).\(assetID.uuidString.lowercased()).\(Hex.encode(mac))"
    }

    /// Checks a token; the MAC is compared in constant time, and only then the expiry.
    public func verify(_ token: String, now: Date) -> Verdict { inspect(token, now: now).verdict }

    /// The verdict, and for a genuine token its expiry (Unix seconds; also when it has passed).
    ///
    /// Only the form ``token(for:expires:)`` writes is accepted: the expiry as plain decimal digits
    /// (no sign, no leading zero), the asset id as a lower-case UUID and the MAC as 64 lower-case
    /// hex digits. Every other spelling of the same values (`+N`, `0N`, an upper-case UUID) is
    /// `invalid`, so one token has exactly one string, which the events WebSocket counts by.
    func inspect(_ token: String, now: Date) -> (verdict: Verdict, expires: Int64?) {
        guard token.hasPrefix(Self.prefix) else { return (.invalid, nil) }
        let parts = token.dropFirst(Self.prefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, Self.isCanonicalDecimal(parts[0]), let expires = Int64(parts[0]),
            let id = UUID(uuidString: String(parts[1])), parts[1] == id.uuidString.lowercased(),
            parts[2].utf8.count == 64, parts[2].utf8.allSatisfy(Self.isLowercaseHexDigit),
            let given = Hex.decode(parts[2])
        else { return (.invalid, nil) }
        guard HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Self.message(id, expires), using: key) else {
            return (.invalid, nil)
        }
        guard Int64(now.timeIntervalSince1970) <= expires else { return (.expired, expires) }
        return (.valid(assetID: id), expires)
    }

    /// `0`, or ASCII digits not starting with `0`: what `String(Int64)` writes for a non-negative value
    /// (the one spelling of a number in a token, playback tokens included).
    static func isCanonicalDecimal(_ text: Substring) -> Bool {
        guard let first = text.utf8.first, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return false }
        return first != UInt8(ascii: "0") || text.utf8.count == 1
    }

    private static func isLowercaseHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    /// Domain-separated, newline-joined: the fields cannot be shifted into each other.
    private static func message(_ id: UUID, _ expires: Int64) -> [UInt8] {
        Array("pulse-asset-token\n\(id.uuidString.lowercased())\n\(expires)".utf8)
    }
}
