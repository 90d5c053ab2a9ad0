import PulseSupport

/// Where a bucket's objects are on the wire: scheme, `Host` header and the path before the key.
struct S3Addressing: Sendable, Equatable {
    let scheme: String
    /// As sent in `Host`: the name, plus `:port` when it is not the scheme's default.
    let host: String
    /// `/bucket` for path-style, empty for virtual-hosted.
    let bucketPath: String

    init(bucket: String, configuration: S3Configuration) throws(StorageError) {
        var scheme = "https"
        var host = configuration.region == "us-east-1" ? "s3.amazonaws.com" : "s3.\(configuration.region).amazonaws.com"
        if let endpoint = configuration.endpoint {
            guard let separator = endpoint.range(of: "://") else {
                throw StorageError(.invalidConfiguration, "malformed endpoint \(endpoint)")
            }
            scheme = endpoint[..<separator.lowerBound].lowercased()
            let authority = endpoint[separator.upperBound...].prefix { $0 != "/" && $0 != "?" }
            guard !authority.isEmpty, !authority.contains("@") else {
                throw StorageError(.invalidConfiguration, "malformed endpoint \(endpoint)")
            }
            host = Self.droppingDefaultPort(String(authority).lowercased(), scheme: scheme)
        }
        guard Self.isValidBucket(bucket) else {
            throw StorageError(.invalidConfiguration, "invalid bucket name \(bucket)")
        }
        self.scheme = scheme
        switch configuration.addressing {
        case .path:
            self.host = host
            self.bucketPath = "/" + bucket
        case .virtualHosted:
            self.host = bucket + "." + host
            self.bucketPath = ""
        }
    }

    /// The decoded path of an object (the full key, root prefix included).
    func path(forKey fullKey: String) -> String { bucketPath + "/" + fullKey }

    /// The path of the bucket itself (list, batch delete).
    var bucketRoot: String { bucketPath.isEmpty ? "/" : bucketPath }

    /// The URL of a path and an already-encoded query.
    func url(path: String, encodedQuery: String = "") -> String {
        let base = "\(scheme)://\(host)\(S3URIEncoding.encodePath(path))"
        return encodedQuery.isEmpty ? base : base + "?" + encodedQuery
    }

    /// HTTP clients leave the default port out of `Host`; the signature must see the same value.
    private static func droppingDefaultPort(_ authority: String, scheme: String) -> String {
        if scheme == "http" && authority.hasSuffix(":80") { return String(authority.dropLast(3)) }
        if scheme == "https" && authority.hasSuffix(":443") { return String(authority.dropLast(4)) }
        return authority
    }

    /// S3's bucket naming rules, loosely: 3 to 63 of lower-case letters, digits, `.` and `-`.
    static func isValidBucket(_ bucket: String) -> Bool {
        (3...63).contains(bucket.utf8.count)
            && bucket.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D }
    }
}
