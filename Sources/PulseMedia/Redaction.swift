/// Removes secrets from text that tools print: ffmpeg echoes whole presigned URLs, signatures
/// included, in its errors.
public enum Redaction {
    /// Replaces the query string of every http(s) URL in `text` with `?<redacted>`, and hides
    /// `user:password@` credentials.
    public static func redact(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.count)
        var rest = Substring(text)
        while let start = rest.range(of: "http", options: .caseInsensitive) {
            result += rest[..<start.lowerBound]
            let tail = rest[start.lowerBound...]
            let urlEnd = tail.firstIndex(where: { $0.isWhitespace || $0 == "'" || $0 == "\"" || $0 == ">" }) ?? tail.endIndex
            let candidate = tail[..<urlEnd]
            guard candidate.lowercased().hasPrefix("http://") || candidate.lowercased().hasPrefix("https://") else {
                result += tail.prefix(4)
                rest = tail.dropFirst(4)
                continue
            }
            result += redactURL(String(candidate))
            rest = tail[urlEnd...]
        }
        result += rest
        return result
    }

    private static func redactURL(_ url: String) -> String {
        var url = url
        if let query = url.firstIndex(of: "?") {
            url = String(url[..<query]) + "?<redacted>"
        }
        // scheme://user:pass@host -> scheme://<redacted>@host
        if let schemeEnd = url.range(of: "://") {
            let afterScheme = url[schemeEnd.upperBound...]
            let authorityEnd = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
            if let at = afterScheme[..<authorityEnd].lastIndex(of: "@") {
                url = String(url[..<schemeEnd.upperBound]) + "<redacted>" + String(url[at...])
            }
        }
        return url
    }
}
