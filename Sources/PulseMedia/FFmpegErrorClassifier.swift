/// Maps what ffprobe/ffmpeg printed to one of our codes. Messages never echo URLs.
enum FFmpegErrorClassifier {
    static func probeFailure(_ outcome: ToolOutcome) -> MediaError {
        if case .signaled = outcome.termination {
            return MediaError(.encoderFailed, "ffprobe was stopped by a signal")
        }
        let text = outcome.stderrTail.lowercased()
        if let unreachable = networkFailure(text) { return unreachable }
        if text.contains("no such file or directory") {
            return MediaError(.sourceNotFound, "the source file does not exist")
        }
        if text.contains("moov atom not found") || text.contains("truncat") || text.contains("partial file") {
            return MediaError(.malformedVideo, "the video file is truncated or has no index")
        }
        if text.contains("not on whitelist") {
            return MediaError(.nonVideo, "the file is not a video container we accept")
        }
        if text.contains("invalid data found") || text.contains("could not find codec parameters") {
            return MediaError(.nonVideo, "the file is not a video we can read")
        }
        // The tool's own words stay in the log: they may name the source's location.
        return MediaError(.malformedVideo, "the video could not be read")
    }

    static func encodeFailure(_ outcome: ToolOutcome, tool: String = "ffmpeg") -> MediaError {
        if case .signaled(let signal) = outcome.termination {
            return MediaError(.encoderFailed, "\(tool) was stopped by signal \(signal)")
        }
        let text = outcome.stderrTail.lowercased()
        if let unreachable = networkFailure(text) { return unreachable }
        if text.contains("no space left") || text.contains("cannot allocate memory") {
            return MediaError(.encoderFailed, "\(tool) failed: \(lastLine(outcome.stderrTail))")
        }
        if text.contains("invalid data found") || text.contains("error while decoding") || text.contains("moov atom not found") {
            return MediaError(.malformedVideo, "the video could not be decoded")
        }
        return MediaError(.encoderFailed, "\(tool) failed: \(lastLine(outcome.stderrTail))")
    }

    /// ffmpeg ends with status 0 when its input fails mid-read, after printing why: a short
    /// output with such a line is an interrupted read (retried), not a short file.
    static func interruptedRead(_ outcome: ToolOutcome) -> MediaError? {
        networkFailure(outcome.stderrTail.lowercased())
    }

    /// What an http(s) source's server said, or failed to say. Missing or forbidden is
    /// permanent; a server that does not answer, drops the connection, throttles (429) or fails
    /// (5xx), or refuses our credentials (400/401: an expired session), is an outage: retried, and
    /// given up only after the outage budget.
    private static func networkFailure(_ text: String) -> MediaError? {
        let markers: [(String, MediaError.Code, String)] = [
            ("403 forbidden", .sourceNotFound, "access to the source was refused (403)"),
            ("404 not found", .sourceNotFound, "the source does not exist (404)"),
            ("connection refused", .storageUnavailable, "the source's server refused the connection"),
            ("connection reset", .storageUnavailable, "the source's server dropped the connection"),
            ("stream ends prematurely", .storageUnavailable, "the source's server closed the connection early"),
            ("failed to resolve hostname", .storageUnavailable, "the source's host name could not be resolved"),
            ("connection timed out", .storageUnavailable, "the source's server did not answer"),
            ("operation timed out", .storageUnavailable, "the source's server did not answer"),
            ("server returned 5", .storageUnavailable, "the source's server failed (5xx)"),
            ("server returned 4xx", .storageUnavailable, "the source's server refused the request for now (4xx)"),
            ("400 bad request", .storageUnavailable, "the source's server refused the request (400)"),
            ("401 unauthorized", .storageUnavailable, "the source's server refused our credentials (401)"),
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
