import Foundation

/// The one check of the credential in a media path, `/media/{id}/t/{credential}/...`: either a
/// playback token the server minted (``PlaybackTokenSigner``: `<expiry>.<hex MAC>`, good for every
/// file of its asset) or a JWT a backend signed offline with a signing key
/// (``PlaybackJWTVerifier``: good for the files its `aud` names). The two forms cannot be taken for
/// each other: a server token has one dot, a JWT two.
struct PlaybackCredentialVerifier: Sendable {
    let tokens: PlaybackTokenSigner
    let jwts: PlaybackJWTVerifier

    /// What `credential` is for the file at `path` (the segments after the credential) of asset
    /// `assetID` at `now`.
    func verify(_ credential: String, assetID: UUID, path: some Collection<String>, now: Date) async throws -> PlaybackTokenSigner.Verdict {
        if PlaybackJWTVerifier.isJWT(credential) {
            return try await jwts.verify(credential, assetID: assetID, audience: PlaybackAudience(file: path), now: now)
        }
        return tokens.verify(credential, assetID: assetID, now: now)
    }
}
