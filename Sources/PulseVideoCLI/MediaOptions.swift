import ArgumentParser
import Foundation
import PulseMedia

/// Flags shared by the commands that run ffmpeg; each has an environment variable too. Values are
/// taken as text and checked by `PulseConfiguration`, so that every bad value, flag or variable, is
/// reported at once.
struct MediaOptions: ParsableArguments {
    @Option(help: "Path of ffmpeg (env PULSE_FFMPEG).")
    var ffmpeg: String?
    @Option(help: "Path of ffprobe (env PULSE_FFPROBE).")
    var ffprobe: String?
    @Flag(help: "Allow plain http:// inputs, for a local S3-compatible endpoint (env PULSE_ALLOW_HTTP=1).")
    var allowHttp = false
    @Option(help: "Target HLS segment length in seconds (env PULSE_SEGMENT_SECONDS, default 10).")
    var segmentSeconds: String?
    @Option(help: "Minimum accepted duration in seconds (env PULSE_MIN_DURATION, default 0.1).")
    var minDuration: String?
    @Option(help: "Maximum accepted duration in seconds (env PULSE_MAX_DURATION, default 14400).")
    var maxDuration: String?
    @Option(help: "Maximum accepted longer side in pixels (env PULSE_MAX_DIMENSION, default 8192).")
    var maxDimension: String?
    @Option(help: "x264 preset (env PULSE_X264_PRESET, default veryfast).")
    var preset: String?
    @Option(help: "Kill ffmpeg after this many seconds without progress (env PULSE_STALL_TIMEOUT, default 120).")
    var stallTimeout: String?
    @Option(help: "Deadline in seconds of each ffprobe run and of the thumbnail (env PULSE_PROBE_TIMEOUT, default 120).")
    var probeTimeout: String?

    /// The flags given, for `readConfiguration`.
    var flags: [String: String] {
        [
            "--ffmpeg": ffmpeg, "--ffprobe": ffprobe, "--allow-http": allowHttp ? "1" : nil,
            "--segment-seconds": segmentSeconds, "--min-duration": minDuration, "--max-duration": maxDuration,
            "--max-dimension": maxDimension, "--preset": preset, "--stall-timeout": stallTimeout, "--probe-timeout": probeTimeout,
        ].compactMapValues { $0 }
    }
}

/// Prints a media error as `CODE: message` on stderr and exits non-zero.
func fail(_ error: any Error) -> ExitCode {
    let text: String
    if let media = error as? MediaError {
        text = "\(media.code.rawValue): \(media.message)"
    } else {
        text = "error: \(Redaction.redact(String(describing: error)))"
    }
    FileHandle.standardError.write(Data((text + "\n").utf8))
    return ExitCode(2)
}
