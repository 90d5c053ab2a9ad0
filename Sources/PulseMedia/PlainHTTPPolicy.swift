import Foundation

/// Which plain `http://` URLs ffmpeg may read. Plain http carries presigned URLs unencrypted, so
/// it is refused unless the operator chose it: for every host (`PULSE_ALLOW_HTTP=1`, a local
/// test), or for the S3-compatible endpoint they configured (`AWS_ENDPOINT_URL_S3=http://...`),
/// whose presigned URLs then use its scheme in every command, and no other host's.
public struct PlainHTTPPolicy: Sendable, Equatable {
    /// Any host may be read over plain http.
    public var allowAll: Bool
    /// `host:port` origins (lowercased) that may be read over plain http.
    public private(set) var origins: Set<String>

    public init(allowAll: Bool = false, endpoints: [String] = []) {
        self.allowAll = allowAll
        self.origins = []
        for endpoint in endpoints { trust(endpoint: endpoint) }
    }

    /// Trusts the origin of `endpoint` when it is an `http://` URL; other schemes change nothing.
    public mutating func trust(endpoint: String) {
        if let origin = Self.plainOrigin(endpoint) { origins.insert(origin) }
    }

    /// Whether `url` (an `http://` URL) may be read.
    public func allows(_ url: String) -> Bool {
        if allowAll { return true }
        guard let origin = Self.plainOrigin(url) else { return false }
        return origins.contains(origin)
    }

    /// `host:port` of an `http://` URL (port 80 when absent), or nil for anything else.
    static func plainOrigin(_ text: String) -> String? {
        guard let components = URLComponents(string: text), components.scheme?.lowercased() == "http",
              let host = components.host?.lowercased(), !host.isEmpty
        else { return nil }
        return "\(host):\(components.port ?? 80)"
    }
}
