#if canImport(FoundationEssentials)
public import struct FoundationEssentials.Date
#else
public import struct Foundation.Date
#endif
import Crypto
import PulseSupport

/// Signs requests with AWS Signature Version 4 for one region and service (S3 by default).
///
/// The time is always passed in (`date:`), so signatures are reproducible in tests. Paths, query
/// names and values are given decoded; the signer applies S3's URI encoding exactly once.
public struct SigV4Signer: Sendable {
    /// The credentials every request is signed with.
    public var credentials: SigV4Credentials
    /// The region in the credential scope, e.g. `us-east-1`.
    public var region: String
    /// The service in the credential scope, `s3` for object storage.
    public var service: String

    /// A signer for one region and service.
    public init(credentials: SigV4Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// Signs a request with an `Authorization` header.
    ///
    /// - Parameters:
    ///   - method: the HTTP method, e.g. `GET`.
    ///   - host: the `Host` header as it will be sent: the host name, plus `:port` if not the scheme's default.
    ///   - path: the decoded absolute path, e.g. `/bucket/my key.mp4`.
    ///   - query: decoded query parameters; a parameter without a value is `""`.
    ///   - headers: further headers to sign (they must be sent exactly as given), e.g. `range`, `content-type`.
    ///   - payload: the body's hash, or `.unsigned`.
    ///   - date: the signing time.
    /// - Returns: the headers to add to the request: `x-amz-date`, `x-amz-content-sha256`,
    ///   `x-amz-security-token` when there is a session token, and `authorization`.
    public func signHeaders(
        method: String,
        host: String,
        path: String,
        query: [String: String] = [:],
        headers: [String: String] = [:],
        payload: SigV4Payload,
        date: Date
    ) -> [(name: String, value: String)] {
        let amzDate = AmzDate(date)
        var added: [(name: String, value: String)] = [
            ("x-amz-date", amzDate.timestamp),
            ("x-amz-content-sha256", payload.value),
        ]
        if let token = credentials.sessionToken {
            added.append(("x-amz-security-token", token))
        }
        var signed = CanonicalHeaders(headers)
        signed.set("host", host)
        for header in added { signed.set(header.name, header.value) }

        let canonical = canonicalRequest(
            method: method, path: path, canonicalQuery: Self.canonicalQuery(query),
            headers: signed, payloadHash: payload.value
        )
        let signature = sign(canonicalRequest: canonical, date: amzDate)
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(amzDate)), "
            + "SignedHeaders=\(signed.names), Signature=\(signature)"
        added.append(("authorization", authorization))
        return added
    }

    /// Builds a presigned URL: the signature travels in the query string, only `host` is signed and
    /// the body is `UNSIGNED-PAYLOAD`, so any HTTP client (ffmpeg, curl, a browser) can use it until it expires.
    ///
    /// The parameters appear in the order botocore writes them, so the URLs are byte-identical to its own.
    ///
    /// - Parameters:
    ///   - scheme: `https` or `http`.
    ///   - host: as in ``signHeaders(method:host:path:query:headers:payload:date:)``.
    ///   - expires: validity in seconds (S3 accepts 1 to 604800).
    public func presignURL(
        method: String,
        scheme: String = "https",
        host: String,
        path: String,
        query: [String: String] = [:],
        expires: Int,
        date: Date
    ) -> String {
        let amzDate = AmzDate(date)
        var authQuery: [(String, String)] = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(amzDate))"),
            ("X-Amz-Date", amzDate.timestamp),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", "host"),
        ]
        if let token = credentials.sessionToken {
            authQuery.append(("X-Amz-Security-Token", token))
        }
        var allQuery = query
        for (name, value) in authQuery { allQuery[name] = value }

        var headers = CanonicalHeaders([:])
        headers.set("host", host)
        let canonical = canonicalRequest(
            method: method, path: path, canonicalQuery: Self.canonicalQuery(allQuery),
            headers: headers, payloadHash: SigV4Payload.unsigned.value
        )
        let signature = sign(canonicalRequest: canonical, date: amzDate)

        let ordered = query.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } + authQuery
            + [("X-Amz-Signature", signature)]
        let queryString = ordered.map {
            S3URIEncoding.encodeQueryComponent($0.0) + "=" + S3URIEncoding.encodeQueryComponent($0.1)
        }.joined(separator: "&")
        return "\(scheme)://\(host)\(S3URIEncoding.encodePath(path))?\(queryString)"
    }

    // MARK: - The steps of the algorithm (internal, so tests can check each one)

    func canonicalRequest(
        method: String, path: String, canonicalQuery: String, headers: CanonicalHeaders, payloadHash: String
    ) -> String {
        [
            method.uppercased(),
            S3URIEncoding.encodePath(path.isEmpty ? "/" : path),
            canonicalQuery,
            headers.canonicalBlock,
            headers.names,
            payloadHash,
        ].joined(separator: "\n")
    }

    static func canonicalQuery(_ query: [String: String]) -> String {
        // Sorted by encoded name, then value, as the specification says (matters only for odd names).
        query.map { (S3URIEncoding.encodeQueryComponent($0.key), S3URIEncoding.encodeQueryComponent($0.value)) }
            .sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    func stringToSign(canonicalRequest: String, date: AmzDate) -> String {
        let hash = Hex.encode(SHA256.hash(data: Array(canonicalRequest.utf8)))
        return "AWS4-HMAC-SHA256\n\(date.timestamp)\n\(scope(date))\n\(hash)"
    }

    func sign(canonicalRequest: String, date: AmzDate) -> String {
        let key = signingKey(day: date.day)
        let toSign = stringToSign(canonicalRequest: canonicalRequest, date: date)
        return Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(toSign.utf8), using: key))
    }

    func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    func scope(_ date: AmzDate) -> String {
        "\(date.day)/\(region)/\(service)/aws4_request"
    }
}

/// Lower-cased header names with trimmed, space-collapsed values, sorted for the canonical request.
struct CanonicalHeaders {
    private var values: [String: String] = [:]

    init(_ headers: [String: String]) {
        for (name, value) in headers { set(name, value) }
    }

    mutating func set(_ name: String, _ value: String) {
        values[name.lowercased()] = Self.normalise(value)
    }

    /// `host;range;x-amz-date`
    var names: String { values.keys.sorted().joined(separator: ";") }

    /// `name:value\n` per header, then the blank line that ends the block.
    var canonicalBlock: String {
        values.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)\n" }.joined()
    }

    private static func normalise(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }
}

extension AmzDate {
    init(_ date: Date) {
        self.init(secondsSince1970: Int64(date.timeIntervalSince1970.rounded(.down)))
    }
}
