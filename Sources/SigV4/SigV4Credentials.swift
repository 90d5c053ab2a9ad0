/// The secret material a request is signed with: an access key, its secret, and for temporary
/// credentials (STS, SSO, instance roles) the session token that must travel with every request.
public struct SigV4Credentials: Sendable, Equatable {
    /// The access key id, e.g. `AKIAIOSFODNN7EXAMPLE`. Not secret; appears in every request.
    public var accessKeyID: String
    /// The secret access key. Never sent, never logged: only used to derive the signing key.
    public var secretAccessKey: String
    /// The session token of temporary credentials, sent as `X-Amz-Security-Token`; nil for long-lived keys.
    public var sessionToken: String?

    /// Credentials from their parts.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

extension SigV4Credentials: CustomStringConvertible {
    /// Shows the key id only, so credentials printed by accident leak nothing.
    public var description: String {
        "SigV4Credentials(accessKeyID: \(accessKeyID), secret: <redacted>, sessionToken: \(sessionToken == nil ? "none" : "<redacted>"))"
    }
}
