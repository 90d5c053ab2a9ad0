import Foundation
public import Logging
import Synchronization

/// Encodes one work unit into HLS segments in a staging folder, reporting progress and handing
/// over each finished segment while ffmpeg goes on (so local disk holds a few segments at most).
public struct HLSEncoder: Sendable {
    public var configuration: MediaConfiguration
    var runner: ToolRunner
    var logger: Logger

    public init(configuration: MediaConfiguration, logger: Logger) {
        self.configuration = configuration
        self.runner = ToolRunner(logger: logger)
        self.logger = logger
    }

    /// Encodes `unit` of `input` into `staging` (created, left for the caller to remove).
    ///
    /// - Parameters:
    ///   - onProgress: fraction of this unit done (0...1) and ffmpeg's speed.
    ///   - onSegment: called once per finished segment, in order per rendition; it may move,
    ///     upload or delete the file.
    public func encode(
        unit: WorkUnit,
        input: MediaInput,
        probe: ProbeResult,
        rungs: [Rung],
        staging: String,
        onProgress: @escaping @Sendable (Double, Double?) -> Void,
        onSegment: @escaping @Sendable (FinishedSegment) async throws -> Void
    ) async throws -> UnitResult {
        var renditions = unit.includesVideo ? rungs.map(\.name) : []
        if unit.includesAudio, probe.audio != nil { renditions.append(audioRenditionName) }
        guard !renditions.isEmpty else { return UnitResult(renditions: [:]) }
        for name in renditions { try FileSystem.makeDirectory("\(staging)/\(name)") }

        let length = unit.range.length(of: probe.duration)
        let watchdog = Watchdog(timeout: configuration.stallTimeout)
        let watcher = SegmentWatcher(staging: staging, renditions: renditions, onSegment: onSegment)

        let outcome: ToolOutcome = try await ProgressListener.withListener(onReport: { report in
            watchdog.touch()
            guard let micros = report.outTimeMicroseconds, length > 0 else { return }
            let fraction = report.isEnd ? 1 : min(1, Double(micros) / 1e6 / length)
            onProgress(fraction, report.speed)
        }) { port in
            let arguments = HLSArguments.build(
                unit: unit, input: input, probe: probe, rungs: rungs,
                settings: configuration.encoding, staging: staging, progressPort: port
            )
            return try await withThrowingTaskGroup(of: ToolOutcome?.self) { group in
                // Stalls are the watchdog's; this deadline bounds an ffmpeg that crawls for ever.
                group.addTask { try await runner.run(configuration.ffmpegPath, arguments, deadline: configuration.stallTimeout + .seconds(length * 30)) }
                group.addTask { try await watchdog.run(); return nil }
                group.addTask { try await watcher.watch(); return nil }
                // When ffmpeg ends, the watchdog and the watcher are asked to stop rather than
                // cancelled: a segment upload cut off midway would be sent again by the flush.
                // (A thrown error still cancels everything, ffmpeg included.)
                var outcome: ToolOutcome?
                while let next = try await group.next() {
                    if let next {
                        outcome = next
                        watchdog.stop()
                        watcher.stop()
                    }
                }
                guard let outcome else { throw MediaError(.encoderFailed, "ffmpeg ended without a result") }
                return outcome
            }
        }
        guard outcome.succeeded else {
            logger.warning("ffmpeg failed", metadata: ["media.stderr": "\(outcome.stderrTail.suffix(2000))"])
            throw FFmpegErrorClassifier.encodeFailure(outcome)
        }
        // ffmpeg ends with status 0 when its input breaks mid-read: whatever came out, that is
        // an interrupted read (retried), never a finished unit nor a short file.
        if let interrupted = FFmpegErrorClassifier.interruptedRead(outcome) { throw interrupted }
        // Everything is final now: hand over what the watcher has not.
        try await watcher.flush()
        let result = try collect(renditions: renditions, staging: staging, sizes: watcher.sizes)
        try validate(result, unit: unit, probe: probe)
        onProgress(1, nil)
        return result
    }

    /// Reads ffmpeg's playlists for the durations. ffmpeg's HLS muxer exits 0 even when it could
    /// not write, so a missing playlist or segment is an error here.
    private func collect(renditions: [String], staging: String, sizes: [String: Int64]) throws -> UnitResult {
        var result: [String: [SegmentRecord]] = [:]
        for name in renditions {
            guard let text = FileSystem.read("\(staging)/\(name)/index.m3u8") else {
                throw MediaError(.outputMissing, "ffmpeg wrote no playlist for \(name)")
            }
            let entries = MediaPlaylistReader.entries(text)
            guard !entries.isEmpty else {
                throw MediaError(.malformedVideo, "no \(name) segment could be encoded from the source")
            }
            result[name] = try entries.map { entry in
                guard let bytes = sizes["\(name)/\(entry.uri)"] else {
                    throw MediaError(.outputMissing, "segment \(name)/\(entry.uri) was listed but not written")
                }
                return SegmentRecord(fileName: entry.uri, sequence: sequenceNumber(entry.uri), duration: entry.duration, bytes: bytes)
            }
        }
        return UnitResult(renditions: result)
    }

    /// What came out must match the measured duration in both directions: a source truncated
    /// after its index encodes without an error exit but short, and one whose timestamps jump
    /// would come out long.
    private func validate(_ result: UnitResult, unit: WorkUnit, probe: ProbeResult) throws {
        for (name, segments) in result.renditions {
            // The audio rendition covers the audio's measured extent, cut at the video's end.
            let expected = name == audioRenditionName
                ? min(probe.audio?.duration ?? probe.duration, probe.duration)
                : unit.range.length(of: probe.duration)
            // Output is frame-exact now that every output ends at -t: a few frames of slack.
            let tolerance = max(0.5, min(expected * 0.05, 2))
            let produced = segments.reduce(0) { $0 + $1.duration }
            if produced + tolerance < expected {
                throw MediaError(
                    .malformedVideo,
                    String(format: "the source ends early: %@ covers %.2f s of the expected %.2f s (truncated file?)", name, produced, expected)
                )
            }
            if produced > expected + tolerance {
                throw MediaError(
                    .malformedVideo,
                    String(format: "the source's timestamps run past its measured end: %@ covers %.2f s of the expected %.2f s", name, produced, expected)
                )
            }
        }
    }

    private func sequenceNumber(_ fileName: String) -> Int {
        Int(fileName.drop(while: { !$0.isNumber }).prefix(while: \.isNumber)) ?? 0
    }
}

/// Fails when nothing was heard from ffmpeg for `timeout`.
final class Watchdog: Sendable {
    private let timeout: Duration
    private let lastSeen: Mutex<ContinuousClock.Instant>
    private let stopped = Mutex(false)

    init(timeout: Duration) {
        self.timeout = timeout
        self.lastSeen = Mutex(.now)
    }

    func touch() { lastSeen.withLock { $0 = .now } }

    /// Ends `run` at its next check.
    func stop() { stopped.withLock { $0 = true } }

    func run() async throws {
        while !stopped.withLock({ $0 }) {
            try await Task.sleep(for: .milliseconds(250))
            let silent = ContinuousClock.now - lastSeen.withLock { $0 }
            if silent > timeout {
                throw MediaError(.stalled, "ffmpeg reported no progress for \(timeout)")
            }
        }
    }
}
