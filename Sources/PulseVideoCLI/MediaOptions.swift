import ArgumentParser
import Foundation
import PulseMedia

/// Flags shared by the commands that run ffmpeg; each has an environment variable too. Values are
/// taken as text and checked by `PulseConfiguration`, so that every bad value, flag or variable, is
/// reported at once.
struct MediaOptions: ParsableArguments {
    @Option(help: "Path of ffmpeg, or a name looked up in PATH (env PULSE_FFMPEG, default \(defaults.pipeline.media.ffmpegPath)).")
    var ffmpeg: String?
    @Option(help: "Path of ffprobe, or a name looked up in PATH (env PULSE_FFPROBE, default \(defaults.pipeline.media.ffprobePath)).")
    var ffprobe: String?
    @Flag(help: "Allow plain http:// inputs, for a local S3-compatible endpoint (env PULSE_ALLOW_HTTP=1).")
    var allowHttp = false
    @Option(help: "Target HLS segment length in seconds (env PULSE_SEGMENT_SECONDS, default \(shown(defaults.pipeline.media.encoding.segmentSeconds))).")
    var segmentSeconds: String?
    @Option(help: "Minimum accepted duration in seconds (env PULSE_MIN_DURATION, default \(shown(defaults.pipeline.media.limits.minDurationSeconds))).")
    var minDuration: String?
    @Option(help: "Maximum accepted duration in seconds (env PULSE_MAX_DURATION, default \(shown(defaults.pipeline.media.limits.maxDurationSeconds))).")
    var maxDuration: String?
    @Option(help: "Maximum accepted longer side in pixels (env PULSE_MAX_DIMENSION, default \(defaults.pipeline.media.limits.maxDimension)).")
    var maxDimension: String?
    @Option(help: "x264 preset (env PULSE_X264_PRESET, default \(defaults.pipeline.media.encoding.preset)).")
    var preset: String?
    @Option(help: "Kill ffmpeg after this many seconds without progress (env PULSE_STALL_TIMEOUT, default \(shown(defaults.pipeline.media.stallTimeout))).")
    var stallTimeout: String?
    @Option(help: "Deadline in seconds of each ffprobe run and of the thumbnail (env PULSE_PROBE_TIMEOUT, default \(shown(defaults.pipeline.media.probeTimeout))).")
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
