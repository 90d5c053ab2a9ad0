import Foundation
import HTTPTypes
import Hummingbird

/// The upload page's Content-Security-Policy: its script and style from this origin only (no
/// inline script, no `eval`), no plugins, no framing, no forms, no `<base>`. It plays, shows and
/// connects to this origin (the API, `/storage/`, `/media/`, the events WebSocket) and to the
/// origins of the URLs the API hands out besides: the public base URL, the public media URL
/// and, with S3, the bucket's presigned URLs (uploads and thumbnails). `blob:` for media
/// sources a player builds.
struct PagePolicy: Sendable {
    let links: Links

    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!

    /// The header for a page answered to `request`.
    func header(for request: Request) async throws -> String {
        let base = links.base(for: request)
        var origins: [String] = []
        for url in [base, links.configuration.publicURL, links.configuration.publicMediaURL].compactMap({ $0 }) {
            if let origin = Self.origin(of: url), !origins.contains(origin) { origins.append(origin) }
        }
        if !links.isLocalStorage, let origin = Self.origin(of: try await links.store.presignedPutURL(key: "uploads/page", expiresIn: .seconds(60))),
           !origins.contains(origin) {
            origins.append(origin)
        }
        // The events WebSocket of the origin the page was reached at, spelt out for browsers
        // whose 'self' does not cover ws: and wss:.
        let sockets = Self.origin(of: base).map { [$0.replacingOccurrences(of: "http", with: "ws", options: .anchored)] } ?? []
        let others = origins.joined(separator: " ")
        return [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob: \(others)",
            "media-src 'self' blob: \(others)",
            "connect-src 'self' \((origins + sockets).joined(separator: " "))",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ].joined(separator: "; ")
    }

    /// `scheme://host[:port]` of an http(s) URL; nil for anything else.
    static func origin(of url: String) -> String? {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = parts.host, !host.isEmpty
        else { return nil }
        let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(shownHost)\(parts.port.map { ":\($0)" } ?? "")"
    }
}
