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

    /// ffmpeg ends with status 0 when its input fails mid-read, after printing why: a short
    /// output with such a line is an interrupted read (retried), not a short file.
    static func interruptedRead(_ outcome: ToolOutcome) -> MediaError? {
        unreachable(outcome.stderrTail.lowercased())
    }

    /// A source that is missing or forbidden is permanent; a server that does not answer, or
    /// answers 5xx, is an outage (retried). ffmpeg words both its own way.
    private static func unreachable(_ text: String) -> MediaError? {
        let markers: [(String, MediaError.Code, String)] = [
            ("403 forbidden", .sourceNotFound, "access to the source was refused (403)"),
            ("404 not found", .sourceNotFound, "the source does not exist (404)"),
            ("no such file or directory", .sourceNotFound, "the source file does not exist"),
            ("connection refused", .storageUnavailable, "the source's server refused the connection"),
            ("connection reset", .storageUnavailable, "the source's server dropped the connection"),
            ("stream ends prematurely", .storageUnavailable, "the source's server closed the connection early"),
            ("failed to resolve hostname", .storageUnavailable, "the source's host name could not be resolved"),
            ("connection timed out", .storageUnavailable, "the source's server did not answer"),
            ("operation timed out", .storageUnavailable, "the source's server did not answer"),
            ("server returned 5", .storageUnavailable, "the source's server failed (5xx)"),
        ]
        for (marker, code, message) in markers where text.contains(marker) {
            return MediaError(code, message)
        }
        return nil
    }

    private static func lastLine(_ text: String) -> String {
        let line = text.split(separator: "\n").last.map(String.init) ?? "no error output"
        return String(line.prefix(300))
    }
}
