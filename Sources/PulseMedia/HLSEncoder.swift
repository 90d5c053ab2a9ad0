import Foundation
public import Logging
import Synchronization

/// Encodes one work unit into HLS segments in a staging folder, reporting progress and handing
/// over each finished segment while ffmpeg goes on (so local disk holds a few segments at most).
public struct HLSEncoder: Sendable {
    public var configuration: MediaConfiguration
    var runner: ToolRunner
    var logger: Logger

    /// - Parameter background: run ffmpeg under `nice` (the ladder, behind the first rendition).
    public init(configuration: MediaConfiguration, logger: Logger, background: Bool = false) {
        self.configuration = configuration
        self.runner = ToolRunner(logger: logger, background: background)
        self.logger = logger
    }

    /// Encodes `unit` of `input` into `staging` (created, left for the caller to remove).
    ///
    /// - Parameters:
    ///   - rungs: the rungs this unit encodes.
    ///   - stored: for the first rendition, what an earlier attempt already stored: encoding
    ///     resumes after it (video at the next segment boundary; the audio, which is encoded in
    ///     one piece, again from the start, handing over only the segments not stored).
    ///   - onProgress: fraction of this unit done (0...1) and ffmpeg's speed.
    ///   - onSegment: called once per finished segment, in order per rendition; it may move,
    ///     upload or delete the file.
    public func encode(
        unit: WorkUnit,
        input: MediaInput,
        probe: ProbeResult,
        rungs: [Rung],
        schedule: SegmentSchedule,
        stored: StoredSegments = StoredSegments(),
        staging: String,
        onProgress: @escaping @Sendable (Double, Double?) -> Void,
        onSegment: @escaping @Sendable (FinishedSegment) async throws -> Void
    ) async throws -> UnitResult {
        let result: UnitResult
        if unit.kind == .first {
            result = try await encodeFirstRendition(
                unit: unit, input: input, probe: probe, rung: rungs[0], schedule: schedule, stored: stored,
                staging: staging, onProgress: onProgress, onSegment: onSegment)
        } else {
            let pass = Self.passes(for: unit, probe: probe, rungs: rungs, schedule: schedule)[0]
            result = UnitResult(renditions: try await run(
                pass, input: input, probe: probe, staging: staging, onProgress: onProgress,
                progressLength: unit.range.length(of: probe.duration), onSegment: onSegment))
        }
        try validate(result, unit: unit, probe: probe)
        onProgress(1, nil)
        return result
    }

    /// The first rendition: its video in passes that follow the schedule (the lead-in, then full
    /// segments), and beside them the audio in one piece.
    private func encodeFirstRendition(
        unit: WorkUnit, input: MediaInput, probe: ProbeResult, rung: Rung, schedule: SegmentSchedule, stored: StoredSegments,
        staging: String, onProgress: @escaping @Sendable (Double, Double?) -> Void,
        onSegment: @escaping @Sendable (FinishedSegment) async throws -> Void
    ) async throws -> UnitResult {
        let duration = probe.duration
        let storedVideo = stored.segments[rung.name] ?? []
        let storedAudio = stored.segments[audioRenditionName] ?? []
        let passes = Self.passes(for: unit, probe: probe, rungs: [rung], schedule: schedule, stored: stored)
        let videoPasses = passes.filter { !$0.rungs.isEmpty }
        let audioPass = passes.first { $0.audio }

        let (video, audio) = try await withThrowingTaskGroup(of: (String, [SegmentRecord]).self) { group in
            group.addTask {
                var records = storedVideo
                for (index, pass) in videoPasses.enumerated() {
                    let produced = try await self.run(
                        pass, input: input, probe: probe, staging: "\(staging)/video-\(index)",
                        onProgress: { fraction, speed in
                            onProgress(min(1, (pass.range.start + fraction * pass.range.length(of: duration)) / duration), speed)
                        },
                        progressLength: pass.range.length(of: duration), onSegment: onSegment)
                    records += produced[rung.name] ?? []
                }
                return (rung.name, records)
            }
            if let pass = audioPass {
                group.addTask {
                    // Encoded whole again after a crash (AAC priming would click at a join), but a
                    // segment already stored is the same bytes and is not sent again.
                    let skip = storedAudio.count
                    let produced = try await self.run(
                        pass, input: input, probe: probe, staging: "\(staging)/audio", onProgress: { _, _ in },
                        progressLength: duration,
                        onSegment: { segment in
                            if segment.record.sequence < skip {
                                try? FileManager.default.removeItem(atPath: segment.path)
                            } else {
                                try await onSegment(segment)
                            }
                        })
                    return (audioRenditionName, storedAudio + (produced[audioRenditionName] ?? []).filter { $0.sequence >= skip })
                }
            }
            var video: [SegmentRecord] = storedVideo
            var audio: [SegmentRecord]? = probe.audio == nil ? nil : storedAudio
            while let (name, records) = try await group.next() {
                if name == audioRenditionName { audio = records } else { video = records }
            }
            return (video, audio)
        }
        var renditions = [rung.name: video]
        if let audio { renditions[audioRenditionName] = audio }
        return UnitResult(renditions: renditions)
    }

    /// The ffmpeg processes that encode `unit`: one for a ladder unit (every rung of its range,
    /// with the audio when the unit has it); for the first rendition, its video from the first
    /// segment not yet `stored` (see `firstRenditionPasses`) and, unless it is all stored, the
    /// audio in one piece.
    static func passes(for unit: WorkUnit, probe: ProbeResult, rungs: [Rung], schedule: SegmentSchedule, stored: StoredSegments = StoredSegments()) -> [EncodePass] {
        guard unit.kind == .first else {
            return [EncodePass(
                range: unit.range, rungs: unit.includesVideo ? rungs : [], audio: unit.includesAudio && probe.audio != nil,
                segmentSeconds: unit.range.segmentSeconds ?? schedule.segmentSeconds)]
        }
        var passes = firstRenditionPasses(rung: rungs[0], schedule: schedule, from: stored.segments[rungs[0].name]?.count ?? 0, duration: probe.duration)
        if let audio = probe.audio {
            // The audio ends at its own measured extent, cut at the video's end (as `validate` expects).
            let end = min(audio.duration ?? probe.duration, probe.duration)
            let storedAudio = stored.segments[audioRenditionName] ?? []
            if storedAudio.isEmpty || storedAudio.reduce(0, { $0 + $1.duration }) < end - 0.1 {
                passes.append(EncodePass(range: MediaRange(start: 0, end: nil, firstSegment: 0), rungs: [], audio: true, segmentSeconds: schedule.segmentSeconds))
            }
        }
        return passes
    }

    /// The first rendition's video passes from segment `next` on: the rest of the lead-in (short
    /// segments), then the rest (full segments); a pass that would start at the end is left out.
    static func firstRenditionPasses(rung: Rung, schedule: SegmentSchedule, from next: Int, duration: Double) -> [EncodePass] {
        var passes: [EncodePass] = []
        let start = schedule.start(ofSegment: next)
        // A stored prefix this close to the end is the whole video (the tail is under a frame).
        guard duration - start > 0.01 else { return [] }
        if next < schedule.leadInCount {
            let end: Double? = duration > schedule.leadInEnd + 0.01 ? schedule.leadInEnd : nil
            passes.append(EncodePass(
                range: MediaRange(start: start, end: end, firstSegment: next, segmentSeconds: schedule.leadInSegmentSeconds),
                rungs: [rung], audio: false, segmentSeconds: schedule.leadInSegmentSeconds))
            guard end != nil else { return passes }
        }
        let restFrom = max(next, schedule.leadInCount)
        passes.append(EncodePass(
            range: MediaRange(start: schedule.start(ofSegment: restFrom), end: nil, firstSegment: restFrom, segmentSeconds: schedule.segmentSeconds),
            rungs: [rung], audio: false, segmentSeconds: schedule.segmentSeconds))
        return passes
    }

    /// One ffmpeg process: encodes `pass` into `staging`, hands over each segment as ffmpeg
    /// finishes it, and returns what ffmpeg's playlists list, per rendition.
    private func run(
        _ pass: EncodePass, input: MediaInput, probe: ProbeResult, staging: String,
        onProgress: @escaping @Sendable (Double, Double?) -> Void,
        progressLength length: Double,
        onSegment: @escaping @Sendable (FinishedSegment) async throws -> Void
    ) async throws -> [String: [SegmentRecord]] {
        let renditions = pass.renditions
        guard !renditions.isEmpty else { return [:] }
        for name in renditions { try FileSystem.makeDirectory("\(staging)/\(name)") }

        let watchdog = Watchdog(timeout: configuration.stallTimeout)
        let watcher = SegmentWatcher(staging: staging, renditions: renditions, onSegment: onSegment)
        let runner = self.runner
        let toneMapLUT = await ToneMapLUT(
            ffmpegPath: configuration.ffmpegPath, runner: runner, deadline: configuration.probeTimeout, logger: logger
        ).cube(probe: probe, rungs: pass.rungs)

        let outcome: ToolOutcome = try await ProgressListener.withListener(onReport: { report in
            watchdog.touch()
            guard let micros = report.outTimeMicroseconds, length > 0 else { return }
            let fraction = report.isEnd ? 1 : min(1, Double(micros) / 1e6 / length)
            onProgress(fraction, report.speed)
        }) { port in
            let arguments = HLSArguments.build(
                pass: pass, input: input, probe: probe, settings: configuration.encoding, staging: staging, progressPort: port,
                toneMapLUT: toneMapLUT)
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
        return try collect(renditions: renditions, staging: staging, records: watcher.records)
    }

    /// Reads ffmpeg's playlists for the durations. ffmpeg's HLS muxer exits 0 even when it could
    /// not write, so a missing playlist or segment is an error here.
    private func collect(renditions: [String], staging: String, records: [String: SegmentRecord]) throws -> [String: [SegmentRecord]] {
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
                guard var record = records["\(name)/\(entry.uri)"] else {
                    throw MediaError(.outputMissing, "segment \(name)/\(entry.uri) was listed but not written")
                }
                record.duration = entry.duration
                return record
            }
        }
        return result
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
