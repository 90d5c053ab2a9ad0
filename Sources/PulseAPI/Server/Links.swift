import Foundation
import Hummingbird
import PulseJobs
import PulseStorage

/// Builds the URLs clients get: upload URLs, thumbnails and playlists, for local or S3 storage.
struct Links: Sendable {
    let configuration: APIConfiguration
    let store: any ObjectStore
    /// The local store's URL-signing secret; nil with S3 (S3 presigns its own URLs).
    let localSigningSecret: [UInt8]?
    let boundAddress: BoundAddress
    /// Signs the playback tokens of signed assets' URLs.
    let playbackTokens: PlaybackTokenSigner
    /// The clock for playback token expiries.
    var now: @Sendable () -> Date = { Date() }

    var isLocalStorage: Bool { localSigningSecret != nil }

    /// The links of a process built by `buildApplication` (the API's and the webhook deliverer's):
    /// the local store's URL secret when storage is local, and playback tokens signed with the
    /// asset-token secret (one secret for both kinds of token; each MAC is domain-separated).
    static func make(
        _ configuration: APIConfiguration, runtime: PulseRuntime, boundAddress: BoundAddress, now: @escaping @Sendable () -> Date = { Date() }
    ) throws -> Links {
        let localSecret = runtime.localURLSigner != nil ? try runtime.configuration.persistentSecret(named: "storage-url-secret") : nil
        return Links(
            configuration: configuration, store: runtime.store, localSigningSecret: localSecret, boundAddress: boundAddress,
            playbackTokens: PlaybackTokenSigner(secret: try tokenSecret(configuration, runtime: runtime)), now: now)
    }

    /// The secret of asset tokens and playback tokens: `PULSE_TOKEN_SECRET`, else one kept in the
    /// data folder (so deployments that share it across machines share tokens too).
    static func tokenSecret(_ configuration: APIConfiguration, runtime: PulseRuntime) throws -> [UInt8] {
        try configuration.tokenSecret ?? runtime.configuration.persistentSecret(named: "asset-token-secret")
    }

    /// Where the client reached us: `PULSE_PUBLIC_URL` if set, else the request's `Host` (so the
    /// page works from whatever name the browser used), else the bound address.
    func base(for request: Request) -> String {
        if let configured = configuration.publicURL { return Self.trimmed(configured) }
        if let host = request.head.authority, Self.isPlainHost(host) { return "http://\(host)" }
        return boundAddress.url ?? "http://\(configuration.host):\(configuration.port)"
    }

    /// A URL the client PUTs the upload to, and when it stops working.
    func uploadURL(key: String, base: String, now: Date) async throws -> (url: String, expires: Date) {
        let lifetime = configuration.uploadURLLifetime
        let expires = Int64(now.timeIntervalSince1970) + lifetime.components.seconds
        if let secret = localSigningSecret {
            // Our own signed URL, on the base the client used; the signature does not cover the base.
            let signer = try LocalURLSigner(secret: secret, baseURL: base + "/storage")
            return (signer.url(method: "PUT", key: key, expires: expires), Date(timeIntervalSince1970: Double(expires)))
        }
        return (try await store.presignedPutURL(key: key, expiresIn: lifetime), Date(timeIntervalSince1970: Double(expires)))
    }

    /// The thumbnail's URL. With a playback token (a signed asset) it is always `/media/` with the
    /// token in the path: a public bucket URL or a presigned one would bypass the policy.
    func thumbnailURL(assetID: UUID, key: String, base: String, token: String? = nil) async throws -> String {
        if isLocalStorage || token != nil { return mediaURL(assetID: assetID, base: base, token: token, file: "thumbnail.jpg") }
        if let media = configuration.publicMediaURL { return "\(Self.trimmed(media))/\(key)" }
        return try await store.presignedGetURL(key: key, expiresIn: configuration.mediaURLLifetime)
    }

    /// The master playlist's URL. With S3 and no public media URL it is served through `/media/`:
    /// a presigned master playlist would not do, since the relative URLs of the rung playlists and
    /// segments it names carry no signature. A signed asset's is always `/media/` with its token,
    /// and so is one playing `early` (before `ready`): only `/media/` waits for a segment of the
    /// first rendition that is listed but not stored yet (`SegmentWaits`).
    func playlistURL(assetID: UUID, base: String, token: String? = nil, early: Bool = false) -> String {
        if token == nil, !early, !isLocalStorage, let media = configuration.publicMediaURL {
            return "\(Self.trimmed(media))/\(StorageKeys.master(assetID))"
        }
        return mediaURL(assetID: assetID, base: base, token: token, file: "master.m3u8")
    }

    /// The `download.mp4`'s URL, on the same terms as the playlist's.
    func downloadURL(assetID: UUID, base: String, token: String? = nil) -> String {
        if token == nil, !isLocalStorage, let media = configuration.publicMediaURL {
            return "\(Self.trimmed(media))/\(StorageKeys.download(assetID))"
        }
        return mediaURL(assetID: assetID, base: base, token: token, file: "download.mp4")
    }

    /// The storyboard's WebVTT URL, on the same terms as the playlist's: its cues name the sprite
    /// sheets relative to it, so they carry the same token or public base.
    func storyboardURL(assetID: UUID, base: String, token: String? = nil) -> String {
        if token == nil, !isLocalStorage, let media = configuration.publicMediaURL {
            return "\(Self.trimmed(media))/\(StorageKeys.storyboard(assetID))"
        }
        return mediaURL(assetID: assetID, base: base, token: token, file: StorageKeys.storyboardFile)
    }

    /// The playback token for a signed asset's URLs, valid for `lifetime` (by default
    /// `PULSE_PLAYBACK_TOKEN_TTL_SECONDS`) from now, and its expiry; nil for a public asset.
    func playbackToken(for asset: Asset, lifetime: Duration? = nil) -> (token: String, expires: Int64)? {
        guard asset.playbackPolicy == .signed else { return nil }
        let expires = Int64(now().timeIntervalSince1970) + (lifetime ?? configuration.playbackTokenLifetime).components.seconds
        return (playbackTokens.token(for: asset.id, expires: expires), expires)
    }

    /// `BASE/media/{id}/file`, or `BASE/media/{id}/t/{token}/file`.
    private func mediaURL(assetID: UUID, base: String, token: String?, file: String) -> String {
        let tokenPath = token.map { "/\(PlaybackTokenSigner.pathMarker)/\($0)" } ?? ""
        return "\(base)/media/\(Self.id(assetID))\(tokenPath)/\(file)"
    }

    static func id(_ id: UUID) -> String { StorageKeys.text(id) }

    static func trimmed(_ url: String) -> String {
        url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    /// A host[:port] with nothing that could smuggle a path, a scheme or a header into a URL.
    private static func isPlainHost(_ host: String) -> Bool {
        !host.isEmpty && host.count <= 255
            && host.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".-:[]".unicodeScalars.contains($0)) }
    }
}
