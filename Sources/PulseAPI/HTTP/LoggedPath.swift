import Foundation

/// A request path as it may be logged: a playback token is a credential in the path, so it is
/// replaced by `REDACTED` wherever it stands (query strings are never logged at all).
///
/// A segment is redacted when it is the token of a media path (`media`, an id, the marker `t`,
/// the token), read as a lenient router would read it: empty segments skipped, segments
/// percent-decoded, the marker in any case; and, whatever the path, when it carries a MAC (a run of
/// 32 or more hex digits, which no id, name or number in a path of ours has) or is a signed JWT
/// (three dot-separated parts, 32 bytes or more: no file name of ours has two dots).
enum LoggedPath {
    static let redaction = "REDACTED"

    static func redacted(_ path: String) -> String {
        var segments = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let decoded = segments.map { $0.removingPercentEncoding ?? $0 }
        // Indices of the non-empty segments, as a router that skips empty ones sees the path.
        let present = decoded.indices.filter { !decoded[$0].isEmpty }
        if present.count >= 4, decoded[present[0]] == "media", decoded[present[2]].lowercased() == PlaybackTokenSigner.pathMarker {
            segments[present[3]] = redaction
        }
        for index in segments.indices where segments[index] != redaction && (carriesMAC(decoded[index]) || isJWT(decoded[index])) {
            segments[index] = redaction
        }
        return segments.joined(separator: "/")
    }

    /// Whether `segment` has a JWT's form.
    private static func isJWT(_ segment: String) -> Bool {
        segment.utf8.count >= 32 && PlaybackJWTVerifier.isJWT(segment)
    }

    /// Whether `segment` holds 32 or more hex digits in a row.
    private static func carriesMAC(_ segment: String) -> Bool {
        var run = 0
        for byte in segment.utf8 {
            let isHex = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
            run = isHex ? run + 1 : 0
            if run >= 32 { return true }
        }
        return false
    }
}
