/// Maps what ffprobe/ffmpeg printed to one of our codes. Messages never echo URLs.
enum FFmpegErrorClassifier {
    static func probeFailure(_ outcome: ToolOutcome) -> MediaError {
        if case .signaled = outcome.termination {
            return MediaError(.encoderFailed, "ffprobe was stopped by a signal")
        }
        let text = outcome.stderrTail.lowercased()
        if let unreachable = unreachable(text) { return unreachable }
        if text.contains("moov atom not found") || text.contains("truncat") || text.contains("partial file") {
            return MediaError(.malformedVideo, "the video file is truncated or has no index")
        }
        if text.contains("not on whitelist") {
            return MediaError(.nonVideo, "the file is not a video container we accept")
        }
        if text.contains("invalid data found") || text.contains("could not find codec parameters") {
            return MediaError(.nonVideo, "the file is not a video we can read")
        }
        return MediaError(.malformedVideo, "the video could not be read: \(lastLine(outcome.stderrTail))")
    }

    static func encodeFailure(_ outcome: ToolOutcome, tool: String = "ffmpeg") -> MediaError {
        if case .signaled(let signal) = outcome.termination {
            return MediaError(.encoderFailed, "\(tool) was stopped by signal \(signal)")
        }
        let text = outcome.stderrTail.lowercased()
        if let unreachable = unreachable(text) { return unreachable }
        if text.contains("no space left") || text.contains("cannot allocate memory") {
            return MediaError(.encoderFailed, "\(tool) failed: \(lastLine(outcome.stderrTail))")
        }
        if text.contains("invalid data found") || text.contains("error while decoding") || text.contains("moov atom not found") {
            return MediaError(.malformedVideo, "the video could not be decoded: \(lastLine(outcome.stderrTail))")
        }
        return MediaError(.encoderFailed, "\(tool) failed: \(lastLine(outcome.stderrTail))")
    }

    private static func unreachable(_ text: String) -> MediaError? {
        let markers = [
            ("403 forbidden", "access to the source was refused (403)"),
            ("404 not found", "the source does not exist (404)"),
            ("connection refused", "the source's server refused the connection"),
            ("no such file or directory", "the source file does not exist"),
            ("failed to resolve hostname", "the source's host name could not be resolved"),
            ("connection timed out", "the source's server did not answer"),
            ("server returned 5", "the source's server failed (5xx)"),
        ]
        for (marker, message) in markers where text.contains(marker) {
            return MediaError(.inputUnreachable, message)
        }
        return nil
    }

    private static func lastLine(_ text: String) -> String {
        let line = text.split(separator: "\n").last.map(String.init) ?? "no error output"
        return String(line.prefix(300))
    }
}
