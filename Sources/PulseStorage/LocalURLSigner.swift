#if canImport(FoundationEssentials)
public import struct FoundationEssentials.Date
#else
public import struct Foundation.Date
#endif
import Crypto
import PulseSupport

/// Signs and checks the local store's "presigned" URLs, which our own HTTP server serves:
/// `BASE/KEY?expires=UNIX&signature=HEX`, where the signature is HMAC-SHA256 over the method,
/// the key and the expiry, so a URL for one object and one method cannot be reused for another.
public struct LocalURLSigner: Sendable {
    private let key: SymmetricKey
    /// Where the server serves objects, without a trailing slash, e.g. `http://127.0.0.1:8080/storage`.
    public let baseURL: String

    /// A signer with a secret of at least 16 bytes (a random 32 is best) and the server's base URL.
    public init(secret: [UInt8], baseURL: String) throws {
        guard secret.count >= 16 else {
            throw StorageError(.invalidConfiguration, "the URL signing secret must be at least 16 bytes")
        }
        self.key = SymmetricKey(data: secret)
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    }

    /// A URL allowing `method` on `key` until `expires` (Unix seconds). `query` (e.g. a part's
    /// `part` and `upload`) is signed too and sent before `expires`; its names and values must be
    /// URL-safe (letters, digits, `-`, `_`, `.`).
    public func url(method: String, key: String, expires: Int64, query: [String: String] = [:]) -> String {
        let signature = Hex.encode(mac(method: method, key: key, expires: expires, query: query))
        let extra = query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)&" }.joined()
        return "\(baseURL)/\(S3URIEncoding.encodePath(key))?\(extra)expires=\(expires)&signature=\(signature)"
    }

    /// A URL allowing `method` on `key` for `expiresIn` from `now`.
    public func url(method: String, key: String, expiresIn: Duration, now: Date, query: [String: String] = [:]) -> String {
        url(method: method, key: key, expires: Int64(now.timeIntervalSince1970) + expiresIn.components.seconds, query: query)
    }

    /// Checks a request's `expires` and `signature` query values for `method` on `key` (decoded).
    /// Throws `signatureMismatch` for a wrong or malformed signature and `expired` once `now` is past the expiry.
    ///
    /// Only the spelling ``url(method:key:expires:query:)`` writes is accepted: the expiry as
    /// `String(Int64)` writes it (no sign, no leading zero) and the signature as 64 lower-case hex
    /// digits, compared in constant time with the one this signer renders. Another spelling of
    /// the same values (`+N`, `0N`, upper-case hex) is a mismatch, so one URL has one string.
    public func verify(method: String, key: String, expires: String, signature: String, query: [String: String] = [:], now: Date) throws {
        guard let expiry = Int64(expires), String(expiry) == expires else {
            throw StorageError(.signatureMismatch, "malformed expiry", key: key)
        }
        let expected = Hex.encode(mac(method: method, key: key, expires: expiry, query: query))
        guard Self.constantTimeEqual(Array(signature.utf8), Array(expected.utf8)) else {
            throw StorageError(.signatureMismatch, "signature does not match", key: key)
        }
        // Checked after the signature so an attacker learns nothing from the error about forged expiries.
        guard Int64(now.timeIntervalSince1970) <= expiry else {
            throw StorageError(.expired, "the URL has expired", key: key)
        }
    }

    /// Equal bytes, in a time that depends on the lengths only (never on where they differ).
    private static func constantTimeEqual(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        guard given.count == expected.count else { return false }
        return zip(given, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private func mac(method: String, key: String, expires: Int64, query: [String: String]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message(method, key, expires, query), using: self.key))
    }

    /// Newline-separated: a newline cannot occur in a method, a valid key or a number, so fields cannot be shifted.
    /// Signed query values, when there are any, are one more line (`a=1&b=2`, sorted by name):
    /// a URL without them (a whole object's) can never pass for one with them (a part's), or back.
    private func message(_ method: String, _ key: String, _ expires: Int64, _ query: [String: String]) -> [UInt8] {
        var text = "\(method.uppercased())\n\(key)\n\(expires)"
        if !query.isEmpty {
            text += "\n" + query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        }
        return Array(text.utf8)
    }
}
