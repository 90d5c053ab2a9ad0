import Foundation

/// A request path as it may be logged: the playback token of `/media/{id}/t/{token}/...` is a
/// credential in the path, so it is replaced by `REDACTED` (query strings are never logged at all).
/// Segments are compared percent-decoded, as the media route reads them.
enum LoggedPath {
    static func redacted(_ path: String) -> String {
        var segments = path.split(separator: "/", omittingEmptySubsequences: false)
        // "", "media", id, "t", token, ...
        func segment(_ index: Int) -> String { String(segments[index]).removingPercentEncoding ?? String(segments[index]) }
        guard segments.count >= 5, segment(1) == "media", segment(3) == PlaybackTokenSigner.pathMarker else { return path }
        segments[4] = "REDACTED"
        return segments.joined(separator: "/")
    }
}
