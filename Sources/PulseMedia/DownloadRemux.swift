import Foundation
public import Logging

/// `download.mp4` ("save video"): the top rung and the audio, remuxed from the segments already
/// encoded (`-c copy`: no second encode) into one MP4 with its index first (`+faststart`), so it
/// plays while it downloads.
extension MediaPipeline {
    /// Remuxes `video` (the top rung's segments joined into one MPEG-TS file, in order) and `audio`
    /// (the audio rendition's, likewise; nil for a silent video) into an MP4 at `output`, written
    /// whole or not at all. The result is checked: one H.264 stream (and one AAC stream with
    /// audio), lasting `duration` within 0.5 s or 2 %.
    public func remuxDownload(video: String, audio: String?, duration: Double, to output: String) async throws {
        let runner = ToolRunner(logger: logger)
        let temporary = output + ".tmp.mp4"
        defer { FileSystem.remove(temporary) }
        var arguments = ["-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-y", "-i", video]
        if let audio { arguments += ["-i", audio] }
        arguments += ["-map", "0:v:0"]
        // ADTS (as in MPEG-TS) to MP4's AudioSpecificConfig.
        if audio != nil { arguments += ["-map", "1:a:0", "-bsf:a", "aac_adtstoasc"] }
        arguments += ["-c", "copy", "-movflags", "+faststart", "-f", "mp4", temporary]
        // Copying is I/O: far quicker than real time.
        let deadline = configuration.probeTimeout + .seconds(duration / 10)
        let outcome = try await runner.run(configuration.ffmpegPath, arguments, deadline: deadline)
        // Our own segments: a failure here is never the uploader's input, so it is retried.
        guard outcome.succeeded else { throw MediaError(.encoderFailed, "remuxing download.mp4 failed: \(outcome.stderrTail)") }
        try await check(temporary, audio: audio != nil, duration: duration, runner: runner)
        try FileSystem.move(temporary, to: output)
        logger.info("download remuxed", metadata: ["media.duration": "\(duration)", "media.bytes": "\(FileSystem.fileSize(output) ?? 0)"])
    }

    /// The streams and the duration of the remuxed file, as ffprobe reads them.
    private func check(_ path: String, audio: Bool, duration: Double, runner: ToolRunner) async throws {
        let arguments = [
            "-v", "error", "-show_entries", "format=duration:stream=codec_type,codec_name", "-of", "json", path,
        ]
        let outcome = try await runner.run(configuration.ffprobePath, arguments, collectStdout: true, deadline: configuration.probeTimeout)
        guard outcome.succeeded else { throw MediaError(.encoderFailed, "reading download.mp4 back failed: \(outcome.stderrTail)") }
        struct Probe: Decodable {
            struct Stream: Decodable {
                var codecType: String?
                var codecName: String?
                enum CodingKeys: String, CodingKey {
                    case codecType = "codec_type"
                    case codecName = "codec_name"
                }
            }
            struct Format: Decodable { var duration: String? }
            var streams: [Stream]
            var format: Format
        }
        let probe = try JSONDecoder().decode(Probe.self, from: Data(outcome.stdout.utf8))
        let codecs = probe.streams.map { "\($0.codecType ?? "?"):\($0.codecName ?? "?")" }.sorted()
        let expected = audio ? ["audio:aac", "video:h264"] : ["video:h264"]
        guard codecs == expected else {
            throw MediaError(.outputMissing, "download.mp4 has streams \(codecs), not \(expected)")
        }
        guard let measured = probe.format.duration.flatMap(Double.init), abs(measured - duration) <= max(0.5, duration * 0.02) else {
            throw MediaError(.outputMissing, "download.mp4 lasts \(probe.format.duration ?? "?") s, not \(duration) s")
        }
    }
}
