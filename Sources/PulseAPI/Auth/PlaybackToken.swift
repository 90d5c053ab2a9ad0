import Crypto
public import Foundation
import PulseSupport

/// Playback tokens for signed assets: `<expiry>.<hex HMAC-SHA256>`, where the MAC covers the asset id
/// and the expiry (Unix seconds). They travel in the media path, `/media/{id}/t/{token}/...`, so
/// every URI a player resolves relatively from the master playlist (rung and audio playlists,
/// segments) carries the token with no rewriting.
///
/// The secret is the asset tokens' (`PULSE_TOKEN_SECRET`, else the data folder's), under another
/// domain label: a playback token is never an asset token, nor the other way round.
public struct PlaybackTokenSigner: Sendable {
    /// What a presented token turned out to be for the asset it was presented for.
    public enum Verdict: Sendable, Hashable {
        case valid
        /// Genuine, but its lifetime is over.
        case expired
        /// Not ours, malformed, or made for another asset.
        case invalid
    }

    /// The path segment that introduces a token: `/media/{id}/t/{token}/...`.
    static let pathMarker = "t"
    private let key: SymmetricKey

    /// A signer with a secret of at least 16 bytes.
    public init(secret: [UInt8]) {
        precondition(secret.count >= 16, "the playback token secret must be at least 16 bytes")
        self.key = SymmetricKey(data: secret)
    }

    /// A token for `assetID` valid until `expires` (Unix seconds).
    public func token(for assetID: UUID, expires: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Self.message(assetID, expires), using: key)
        return "\(expires).\(Hex.encode(mac))"
    }

    /// Checks `token` for `assetID`: the MAC first, compared in constant time, and only then the
    /// expiry. Only the form `token(for:expires:)` writes is accepted.
    public func verify(_ token: String, assetID: UUID, now: Date) -> Verdict {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.count <= 19, AssetTokenSigner.isCanonicalDecimal(parts[0]), let expires = Int64(parts[0]),
              parts[1].utf8.count == 64, parts[1] == parts[1].lowercased(), let given = Hex.decode(parts[1])
        else { return .invalid }
        guard HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Self.message(assetID, expires), using: key) else {
            return .invalid
        }
        return Int64(now.timeIntervalSince1970) <= expires ? .valid : .expired
    }

    /// Domain-separated from asset tokens, newline-joined: the fields cannot be shifted into each other.
    private static func message(_ id: UUID, _ expires: Int64) -> [UInt8] {
        Array("pulse-playback-token\n\(id.uuidString.lowercased())\n\(expires)".utf8)
    }
}
