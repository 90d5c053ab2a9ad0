import Foundation
import JWTKit

/// What a playback credential is presented for, from the file asked: a JWT's `aud` must name it.
/// Mux's letters: `v` the video (playlists, segments, `download.mp4`), `t` the thumbnail,
/// `s` the storyboard.
enum PlaybackAudience: String, Sendable, CaseIterable {
    case video = "v"
    case thumbnail = "t"
    case storyboard = "s"

    /// The audience of a file under `processed/{id}/`, given as its path segments.
    init(file path: some Collection<String>) {
        guard path.count == 1, let name = path.first else {
            self = .video
            return
        }
        if name == "thumbnail.jpg" {
            self = .thumbnail
        } else if name.hasPrefix("storyboard") {
            self = .storyboard
        } else {
            self = .video
        }
    }
}

/// Checks playback JWTs a backend signed offline with one of its signing keys (the Mux model):
/// header `{"alg": "RS256", "kid": <signing key id>}`, claims `sub` (the asset id as the API spells
/// it), `aud` (``PlaybackAudience``) and `exp`; `nbf` is honoured when present.
///
/// Only RS256 is accepted, whatever the header says: `none`, HS256 (e.g. with the public key as
/// the secret) and every other algorithm are refused before any key is looked up. The signature is
/// checked by jwt-kit; only then are the claims read, so an expired token is told apart (401) only
/// when it is otherwise genuine and meant for this file.
struct PlaybackJWTVerifier: Sendable {
    /// The longest token accepted, in bytes. An RS256 signature of a 2048-bit key is 342
    /// characters and the header and claims fewer than 300; room is left for a 4096-bit key and a
    /// few claims of the backend's own.
    static let maxLength = 2048
    /// How far in the future `exp` may be: a token valid for longer is refused, so a leaked one
    /// cannot play for months. The same bound as the server's own playback tokens (7 days).
    static let maxLifetimeSeconds = Int64(PlaybackTokenLifetime.range.upperBound)

    let keys: SigningKeyCache

    /// The claims read from a verified token. Their checks are ours (``verify``), against the
    /// injected clock, so the payload checks nothing itself.
    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var nbf: NotBeforeClaim?

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// Whether `token` has a JWT's form (three dot-separated parts), rather than a server token's.
    static func isJWT(_ token: String) -> Bool {
        token.utf8.lazy.filter { $0 == UInt8(ascii: ".") }.count == 2
    }

    /// What `token` is for the file `audience` of asset `assetID` at `now`.
    func verify(_ token: String, assetID: UUID, audience: PlaybackAudience, now: Date) async throws -> PlaybackTokenSigner.Verdict {
        guard token.utf8.count <= Self.maxLength,
              let header = try? DefaultJWTParser().parse(Array(token.utf8), as: Claims.self).header,
              header.alg == "RS256", header.crit == nil,
              let kid = header.kid, let keyID = UUID(uuidString: kid), Links.id(keyID) == kid
        else { return .invalid }
        // An unknown id and a revoked one are alike: no row.
        guard let keys = try await keys.keys(for: keyID),
              let claims = try? await keys.verify(token, as: Claims.self)
        else { return .invalid }
        let seconds = now.timeIntervalSince1970
        guard claims.sub.value == Links.id(assetID),
              claims.aud.value.contains(audience.rawValue),
              claims.exp.value.timeIntervalSince1970 <= seconds + Double(Self.maxLifetimeSeconds),
              claims.nbf.map({ $0.value.timeIntervalSince1970 <= seconds }) ?? true
        else { return .invalid }
        return seconds <= claims.exp.value.timeIntervalSince1970 ? .valid : .expired
    }
}
