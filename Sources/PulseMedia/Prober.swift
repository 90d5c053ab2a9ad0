import Foundation
public import Logging

/// Reads a source's metadata with ffprobe, over its location (a path or a presigned URL), and
/// measures its real duration from the video packets rather than believe the header.
///
/// Only the header, the index and the last few seconds of packets are read when the container is
/// indexed; a source written live (no duration, no index) is read through once, packets only,
/// never decoded and never stored.
public struct Prober: Sendable {
    public var configuration: MediaConfiguration
    var runner: ToolRunner

    public init(configuration: MediaConfiguration, logger: Logger) {
        self.configuration = configuration
        self.runner = ToolRunner(logger: logger)
    }

    /// Probes `input` and checks it against the configured limits.
    public func probe(_ input: MediaInput) async throws(MediaError) -> ProbeResult {
        try await measured(header(input), of: input)
    }

    /// What the container's header says (streams, declared duration), unmeasured and unchecked:
    /// enough to start work that needs only the streams, never enough to accept the source.
    func header(_ input: MediaInput) async throws(MediaError) -> ProbeResult {
        let arguments = ["-v", "error", "-hide_banner"] + input.inputOptions() + [
            "-print_format", "json", "-show_format", "-show_streams", input.location,
        ]
        let outcome: ToolOutcome
        do {
            outcome = try await runner.run(configuration.ffprobePath, arguments, collectStdout: true, deadline: configuration.probeTimeout)
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
        return try ProbeParser.parse(Data(outcome.stdout.utf8))
    }

    /// `header` with its duration measured from the packets, checked against the limits.
    func measured(_ header: ProbeResult, of input: MediaInput) async throws(MediaError) -> ProbeResult {
        var result = header
        let extent = try await measure(input, result)
        result.duration = extent.video
        if result.audio != nil { result.audio?.duration = extent.audio }
        if let declared = result.declaredDuration, abs(declared - extent.all) > max(1, extent.all * 0.05) {
            // Packets that stop well before what the container promised: a file cut off (an
            // upload that broke), not a live recording. Publishing its first part would hide the
            // damage. (Compared over every stream: audio may rightly outlast the video.)
            if extent.all < declared {
                throw MediaError(.malformedVideo, String(format: "the video's data ends at %.2f s of its %.2f s (truncated file?)", extent.all, declared))
            }
            // More media than the header says (a muxer that never went back to fix it): the
            // packets are the truth.
            runner.logger.warning("the container declares less than the file holds", metadata: [
                "media.declared_duration": "\(declared)", "media.duration": "\(result.duration)",
            ])
        }
        try check(result)
        return result
    }

    /// How far the packets run, from the start of the source: the video stream's, the audio
    /// stream's and the furthest of any.
    struct Extent: Equatable {
        var video: Double
        var audio: Double?
        var all: Double
    }

    /// Measures the streams' extent from their packets (demuxed, never decoded).
    ///
    /// First from the tail: from 10 s before the declared end (B-frames reorder the last packets;
    /// a seek past the end may return the last one only), through the index when there is one,
    /// or past any end when nothing is declared. A container that cannot seek there (no index,
    /// cues past the end) is read from the start instead, with a longer deadline. ffprobe ends
    /// with status 0 when its input breaks mid-read: that is an outage, never a measurement.
    func measure(_ input: MediaInput, _ probe: ProbeResult) async throws(MediaError) -> Extent {
        let start = probe.startTime ?? 0
        let tail = probe.declaredDuration.map { max(0, start + $0 - 10) } ?? 999_999_999
        let passes: [([String], Duration)] = [
            (probe.headerReadOptions + ["-read_intervals", String(format: "%.3f%%", tail)], configuration.probeTimeout),
            ([], configuration.probeTimeout * 10),
        ]
        for (intervals, deadline) in passes {
            let arguments = ["-v", "error", "-hide_banner"] + input.inputOptions() + intervals + [
                "-show_entries", "packet=stream_index,pts_time,dts_time,duration_time",
                "-of", "csv=p=0", input.location,
            ]
            let outcome: ToolOutcome
            do {
                // The newest packets are the ones that matter: keep the end of the output.
                outcome = try await runner.run(configuration.ffprobePath, arguments, collectStdout: true, stdoutTail: true, deadline: deadline)
            } catch let error as MediaError {
                throw error
            } catch {
                throw MediaError(.toolMissing, "could not run ffprobe: \(Redaction.redact(String(describing: error)))")
            }
            if let interrupted = FFmpegErrorClassifier.interruptedRead(outcome) { throw interrupted }
            let ends = Self.packetEnds(outcome.stdout)
            if let video = ends[probe.video.streamIndex ?? -1] ?? (probe.video.streamIndex == nil ? ends.values.max() : nil) {
                let audio = probe.audio?.streamIndex.flatMap { ends[$0] }
                return Extent(
                    video: max(0, video - start),
                    audio: audio.map { max(0, $0 - start) },
                    all: max(0, (ends.values.max() ?? video) - start))
            }
            if !outcome.succeeded, FFmpegErrorClassifier.probeFailure(outcome).code != .malformedVideo {
                throw FFmpegErrorClassifier.probeFailure(outcome)
            }
        }
        throw MediaError(.malformedVideo, "no video packet could be read from the file")
    }

    /// Per stream index, the latest `pts + duration` (or `dts + duration`) in ffprobe's
    /// `stream_index,pts,dts,duration` lines.
    static func packetEnds(_ csv: String) -> [Int: Double] {
        var ends: [Int: Double] = [:]
        for line in csv.split(separator: "\n") {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= 4, let stream = Int(fields[0]), let time = Double(fields[1]) ?? Double(fields[2]) else { continue }
            let packetEnd = time + max(0, Double(fields[3]) ?? 0)
            if packetEnd.isFinite { ends[stream] = max(ends[stream] ?? packetEnd, packetEnd) }
        }
        return ends
    }

    /// Reads the first bytes through ffprobe's raw `data` demuxer (same protocol whitelist, so it
    /// works for URLs too) and looks for an ISO-BMFF box type at offset 4.
    private func startsLikeMP4(_ input: MediaInput) async -> Bool {
        let arguments = ["-v", "error"] + input.inputOptions(demuxers: "data") + [
            "-f", "data", "-show_packets", "-show_data", "-read_intervals", "%+#1", "-of", "json", "-i", input.location,
        ]
        guard let outcome = try? await runner.run(configuration.ffprobePath, arguments, collectStdout: true, deadline: configuration.probeTimeout),
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
