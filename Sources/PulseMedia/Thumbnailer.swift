import Foundation
public import Logging

/// Extracts one upright JPEG, at most 1280 px wide, at t = 1 s (the first frame for clips under
/// 1 s, or when nothing can be decoded at 1 s).
public struct Thumbnailer: Sendable {
    public static let maxWidth = 1280
    public var configuration: MediaConfiguration
    var runner: ToolRunner

    public init(configuration: MediaConfiguration, logger: Logger) {
        self.configuration = configuration
        self.runner = ToolRunner(logger: logger)
    }

    /// Writes the thumbnail to `path` atomically.
    public func makeThumbnail(input: MediaInput, probe: ProbeResult, to path: String) async throws {
        let preferred = probe.duration >= 1 ? 1.0 : 0
        for time in Set([preferred, 0]).sorted(by: >) {
            if try await extract(input: input, probe: probe, at: time, to: path) { return }
        }
        throw MediaError(.malformedVideo, "no frame of the video could be decoded for a thumbnail")
    }

    /// The thumbnail's filter: at most `maxWidth` wide, HDR through the float curve after the
    /// scale (it costs per pixel, and one frame needs no LUT), full-range 4:2:0 for the JPEG.
    static func filter(for video: ProbeResult.Video) -> String {
        let toneMap = ToneMap(video).map { "\($0.exact)," } ?? ""
        return "scale='min(\(maxWidth),iw)':-2:flags=bicubic,\(toneMap)format=yuvj420p"
    }

    private func extract(input: MediaInput, probe: ProbeResult, at time: Double, to path: String) async throws -> Bool {
        let temporary = path + ".tmp.jpg"
        defer { FileSystem.remove(temporary) }
        var arguments = [
            "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-y",
        ] + input.inputOptions() + probe.headerReadOptions
        if time > 0 { arguments += ["-ss", HLSArguments.seconds(probe.headerReadSeek(to: time))] }
        arguments += [
            "-i", input.location,
            "-map", "0:v:0", "-frames:v", "1", "-vf", Self.filter(for: probe.video),
            "-c:v", "mjpeg", "-q:v", "3", "-f", "image2", "-update", "1", temporary,
        ]
        let outcome = try await runner.run(configuration.ffmpegPath, arguments, deadline: configuration.probeTimeout)
        if !outcome.succeeded {
            let error = FFmpegErrorClassifier.encodeFailure(outcome)
            // Unreachable input or a killed ffmpeg will not get better at another instant.
            if error.code != .malformedVideo { throw error }
            return false
        }
        guard let size = FileSystem.fileSize(temporary), size > 0 else {
            // Nothing written with status 0: an input that broke mid-read says so on stderr.
            if let interrupted = FFmpegErrorClassifier.interruptedRead(outcome) { throw interrupted }
            return false
        }
        try FileSystem.move(temporary, to: path)
        return true
    }
}

/// A thumbnail taken: the JPEG and its placeholder, stored and announced together.
public struct Thumbnail: Sendable, Equatable {
    /// Where the JPEG was written.
    public var path: String
    /// The JPEG's BlurHash (`MediaPipeline.placeholder(ofImage:scratch:)`).
    public var placeholder: String
}
