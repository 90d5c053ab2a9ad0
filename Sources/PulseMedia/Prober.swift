import Foundation
public import Logging

/// Reads a source's metadata with ffprobe, over its location (a path or a presigned URL): only
/// the header and index are read, never the whole file.
public struct Prober: Sendable {
    public var configuration: MediaConfiguration
    var runner: ToolRunner

    public init(configuration: MediaConfiguration, logger: Logger) {
        self.configuration = configuration
        self.runner = ToolRunner(logger: logger)
    }

    /// Probes `input` and checks it against the configured limits.
    public func probe(_ input: MediaInput) async throws(MediaError) -> ProbeResult {
        let arguments = ["-v", "error", "-hide_banner"] + input.inputOptions() + [
            "-print_format", "json", "-show_format", "-show_streams", input.location,
        ]
        let outcome: ToolOutcome
        do {
            outcome = try await runner.run(configuration.ffprobePath, arguments, collectStdout: true)
        } catch let error as MediaError {
            throw error
        } catch {
            throw MediaError(.toolMissing, "could not run ffprobe: \(Redaction.redact(String(describing: error)))")
        }
        guard outcome.succeeded else {
            let error = FFmpegErrorClassifier.probeFailure(outcome)
            // The mov demuxer says "moov atom not found" both for a cut-off MP4 and for any file
            // named .mp4: only a file that starts like an MP4 is a malformed video.
            if error.code == .malformedVideo, await !startsLikeMP4(input) {
                throw MediaError(.nonVideo, "the file is not a video we can read")
            }
            throw error
        }
        let result = try ProbeParser.parse(Data(outcome.stdout.utf8))
        try check(result)
        return result
    }

    /// Reads the first bytes through ffprobe's raw `data` demuxer (same protocol whitelist, so it
    /// works for URLs too) and looks for an ISO-BMFF box type at offset 4.
    private func startsLikeMP4(_ input: MediaInput) async -> Bool {
        let arguments = ["-v", "error"] + input.inputOptions(demuxers: "data") + [
            "-f", "data", "-show_packets", "-show_data", "-read_intervals", "%+#1", "-of", "json", "-i", input.location,
        ]
        guard let outcome = try? await runner.run(configuration.ffprobePath, arguments, collectStdout: true),
              let line = outcome.stdout.components(separatedBy: "00000000: ").dropFirst().first
        else { return false }
        let hex = line.prefix(39).replacingOccurrences(of: " ", with: "")
        guard hex.count >= 16 else { return false }
        let boxType = String(hex.dropFirst(8).prefix(8))
        let boxTypes: Set<String> = ["66747970", "6d6f6f76", "6d646174", "66726565", "77696465", "736b6970"]  // ftyp moov mdat free wide skip
        return boxTypes.contains(boxType)
    }

    private func check(_ result: ProbeResult) throws(MediaError) {
        let limits = configuration.limits
        if result.duration < limits.minDurationSeconds {
            throw MediaError(.durationTooShort, "the video lasts \(format(result.duration)) s; the minimum is \(format(limits.minDurationSeconds)) s")
        }
        if result.duration > limits.maxDurationSeconds {
            throw MediaError(.durationExceedConstraint, "the video lasts \(format(result.duration)) s; the maximum is \(format(limits.maxDurationSeconds)) s")
        }
        let longSide = max(result.video.displayWidth, result.video.displayHeight)
        if longSide > limits.maxDimension {
            throw MediaError(.resolutionExceedConstraint, "the video is \(result.video.displayWidth)x\(result.video.displayHeight); the maximum side is \(limits.maxDimension) px")
        }
    }

    private func format(_ value: Double) -> String { String(format: "%.2f", value) }
}
