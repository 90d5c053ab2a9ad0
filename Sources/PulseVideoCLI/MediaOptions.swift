import ArgumentParser
import Foundation
import PulseMedia
import PulseStorage

/// Flags shared by the commands that run ffmpeg; each has an environment variable too.
struct MediaOptions: ParsableArguments {
    @Option(help: "Path of ffmpeg (env PULSE_FFMPEG).")
    var ffmpeg: String?
    @Option(help: "Path of ffprobe (env PULSE_FFPROBE).")
    var ffprobe: String?
    @Flag(help: "Allow plain http:// inputs, for a local S3-compatible endpoint (env PULSE_ALLOW_HTTP=1).")
    var allowHttp = false
    @Option(help: "Target HLS segment length in seconds (env PULSE_SEGMENT_SECONDS).")
    var segmentSeconds: Double?
    @Option(help: "Minimum accepted duration in seconds (env PULSE_MIN_DURATION).")
    var minDuration: Double?
    @Option(help: "Maximum accepted duration in seconds (env PULSE_MAX_DURATION).")
    var maxDuration: Double?
    @Option(help: "Maximum accepted longer side in pixels (env PULSE_MAX_DIMENSION).")
    var maxDimension: Int?
    @Option(help: "x264 preset (env PULSE_X264_PRESET, default veryfast).")
    var preset: String?
    @Option(help: "Kill ffmpeg after this many seconds without progress (env PULSE_STALL_TIMEOUT).")
    var stallTimeout: Int?
    @Option(help: "Deadline in seconds of each ffprobe run and of the thumbnail (env PULSE_PROBE_TIMEOUT, default 120).")
    var probeTimeout: Int?

    func mediaConfiguration(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> MediaConfiguration {
        var configuration = MediaConfiguration()
        configuration.ffmpegPath = ffmpeg ?? environment["PULSE_FFMPEG"] ?? configuration.ffmpegPath
        configuration.ffprobePath = ffprobe ?? environment["PULSE_FFPROBE"] ?? configuration.ffprobePath
        // The S3 endpoint the operator configured may be plain http (MinIO, moto on a private
        // network): its presigned URLs are readable in every command, and only that host's.
        configuration.plainHTTP = PlainHTTPPolicy(
            allowAll: allowHttp || environment["PULSE_ALLOW_HTTP"] == "1",
            endpoints: S3Configuration.endpoint(in: environment).map { [$0] } ?? [])
        if let value = segmentSeconds ?? environment["PULSE_SEGMENT_SECONDS"].flatMap(Double.init) {
            guard value > 0 else { throw ValidationError("--segment-seconds must be positive") }
            configuration.encoding.segmentSeconds = value
        }
        if let value = minDuration ?? environment["PULSE_MIN_DURATION"].flatMap(Double.init) { configuration.limits.minDurationSeconds = value }
        if let value = maxDuration ?? environment["PULSE_MAX_DURATION"].flatMap(Double.init) { configuration.limits.maxDurationSeconds = value }
        if let value = maxDimension ?? environment["PULSE_MAX_DIMENSION"].flatMap(Int.init) { configuration.limits.maxDimension = value }
        if let value = preset ?? environment["PULSE_X264_PRESET"] {
            let presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]
            guard presets.contains(value) else { throw ValidationError("--preset must be one of \(presets.joined(separator: ", "))") }
            configuration.encoding.preset = value
        }
        if let value = try stallTimeout ?? environment.number(Int.self, "PULSE_STALL_TIMEOUT") {
            guard value > 0 else { throw ValidationError("--stall-timeout / PULSE_STALL_TIMEOUT must be positive (got \(value))") }
            configuration.stallTimeout = .seconds(value)
        }
        if let value = try probeTimeout ?? environment.number(Int.self, "PULSE_PROBE_TIMEOUT") {
            guard value > 0 else { throw ValidationError("--probe-timeout / PULSE_PROBE_TIMEOUT must be positive (got \(value))") }
            configuration.probeTimeout = .seconds(value)
        }
        return configuration
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
