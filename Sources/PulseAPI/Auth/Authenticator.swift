import Crypto
import Foundation
import Hummingbird

/// Who is calling: the holder of the API key (everything) or of one asset's token (that asset's
/// status, completion and events).
enum Caller: Sendable, Hashable {
    case apiKey
    case assetToken(UUID)
}

/// Checks credentials. The API key comes only in `Authorization: Bearer`, never in a URL (URLs end
/// up in logs); an asset token may also come as `?token=`, since browsers cannot set headers on a
/// WebSocket.
struct Authenticator: Sendable {
    private let apiKeyDigest: [UInt8]
    let tokens: AssetTokenSigner
    let now: @Sendable () -> Date

    init(apiKey: String, tokens: AssetTokenSigner, now: @escaping @Sendable () -> Date = { Date() }) {
        self.apiKeyDigest = Array(SHA256.hash(data: Array(apiKey.utf8)))
        self.tokens = tokens
        self.now = now
    }

    /// The caller, or `ERR_UNAUTHORIZED` / `ERR_TOKEN_EXPIRED`.
    func caller(of request: Request) throws -> Caller {
        try credential(of: request).caller
    }

    /// What an events WebSocket is opened with: the caller, and for an asset token the token
    /// itself (the per-token connection limit counts by it) and when it expires (the socket is
    /// closed then).
    struct Credential: Sendable, Hashable {
        var caller: Caller
        /// The canonical token string; nil for the API key.
        var token: String?
        /// The token's expiry; nil for the API key.
        var expires: Date?
    }

    /// The credential, or `ERR_UNAUTHORIZED` / `ERR_TOKEN_EXPIRED`.
    func credential(of request: Request) throws -> Credential {
        if let bearer = Self.bearer(request) {
            if AssetTokenSigner.looksLikeToken(bearer) { return try verifyToken(bearer) }
            if isAPIKey(bearer) { return Credential(caller: .apiKey) }
            throw Self.unauthorized("the API key is not valid")
        }
        if let token = request.uri.queryParameters.get("token"), !token.isEmpty {
            return try verifyToken(String(token))
        }
        throw Self.unauthorized("send Authorization: Bearer <API key>")
    }

    /// Requires the API key: an asset token is not enough here.
    func requireAPIKey(_ request: Request) throws {
        switch try caller(of: request) {
        case .apiKey: return
        case .assetToken: throw APIError(.forbidden, "an asset token does not allow this; use the API key")
        }
    }

    /// Requires the API key or a token for exactly this asset.
    func requireAccess(to assetID: UUID, _ request: Request) throws {
        _ = try requireCredential(for: assetID, request)
    }

    /// The credential, when it is the API key or a token for exactly this asset; otherwise
    /// `ERR_UNAUTHORIZED`, `ERR_TOKEN_EXPIRED` or `ERR_FORBIDDEN`.
    func requireCredential(for assetID: UUID, _ request: Request) throws -> Credential {
        let credential = try credential(of: request)
        switch credential.caller {
        case .apiKey: return credential
        case .assetToken(let id) where id == assetID: return credential
        case .assetToken: throw APIError(.forbidden, "this token is for another asset")
        }
    }

    /// Compares digests of equal length in constant time, so the time taken says nothing about
    /// how much of a guess was right (nor about the key's length).
    private func isAPIKey(_ candidate: String) -> Bool {
        let digest = Array(SHA256.hash(data: Array(candidate.utf8)))
        var difference: UInt8 = 0
        for (a, b) in zip(digest, apiKeyDigest) { difference |= a ^ b }
        return difference == 0
    }

    private func verifyToken(_ token: String) throws -> Credential {
        let (verdict, expires) = tokens.inspect(token, now: now())
        switch verdict {
        case .valid(let id):
            return Credential(caller: .assetToken(id), token: token, expires: expires.map { Date(timeIntervalSince1970: Double($0)) })
        case .expired: throw APIError(.tokenExpired, "the asset token has expired", headers: [.wwwAuthenticate: "Bearer"])
        case .invalid: throw Self.unauthorized("the asset token is not valid")
        }
    }

    private static func bearer(_ request: Request) -> String? {
        guard let value = request.headers[.authorization] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let credential = parts[1].trimmingCharacters(in: .whitespaces)
        return credential.isEmpty ? nil : credential
    }

    private static func unauthorized(_ message: String) -> APIError {
        APIError(.unauthorized, message, headers: [.wwwAuthenticate: "Bearer"])
    }
}
