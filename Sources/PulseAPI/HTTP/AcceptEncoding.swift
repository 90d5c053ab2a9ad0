import CompressNIO
import NIOCore

/// gzip (RFC 1952) for answers held in memory (playlists), with zlib through compress-nio, which
/// the WebSocket stack already builds.
enum Gzip {
    /// `bytes` as one gzip member any gzip reader (browsers, curl, Python's `gzip`) inflates.
    static func compress(_ bytes: ByteBuffer) throws -> ByteBuffer {
        var input = bytes
        return try input.compress(with: .gzip())
    }

    /// Whether an `Accept-Encoding` header value accepts gzip (a `q=0` refuses it).
    static func isAccepted(by acceptEncoding: String?) -> Bool {
        guard let acceptEncoding else { return false }
        for item in acceptEncoding.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let coding = parts.first, coding == "gzip" || coding == "x-gzip" || coding == "*" else { continue }
            let refused = parts.dropFirst().contains { parameter in
                let pair = parameter.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
                return pair.count == 2 && pair[0] == "q" && (Double(pair[1]) ?? 1) == 0
            }
            return !refused
        }
        return false
    }
}
