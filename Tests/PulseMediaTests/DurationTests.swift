import Foundation
@testable import PulseMedia
import PulseTestSupport
import Testing

/// Nothing the container declares is believed: the duration used for limits, plans and progress is
/// measured from the video packets, every unit reads to an explicit end, and the output is checked
/// against the measurement in both directions.
@Suite("Measured duration", .serialized)
struct DurationTests {
    /// A Matroska header that declares 5 s over 60 s of video.
    @Test func aLyingHeaderIsMeasuredAndItsLimitEnforced() async throws {
        let path = try TestMedia.path("lying_duration.mkv")
        let result = try await Prober(configuration: testConfiguration(), logger: TestServices.logger).probe(.file(path))
        #expect(abs((result.declaredDuration ?? 0) - 5) < 0.1, "the fixture should declare 5 s: \(result.declaredDuration ?? -1)")
        #expect(abs(result.duration - 60) < 0.5, "measured \(result.duration) s")

        var limited = testConfiguration()
        limited.limits.maxDurationSeconds = 10
        await expectCode(.durationExceedConstraint) {
            _ = try await Prober(configuration: limited, logger: TestServices.logger).probe(.file(path))
        }
    }

    /// Reads that need only the header's streams skip ffmpeg's stream analysis in MP4 and
    /// QuickTime, and read the same: the tail's packets, and the thumbnail's frame.
    /// `starting_at_3s.mp4` is made here: its timestamps start at 3 s, and the thumbnail is
    /// still the frame 1 s into it.
    @Test(arguments: ["phone_1080p30_30s.mp4", "portrait_rotated.mp4", "hdr_hlg_portrait.mov", "starting_at_3s.mp4"])
    func aHeaderOnlyReadSkipsTheStreamAnalysisAndReadsTheSame(_ name: String) async throws {
        let folder = temporaryDirectory("pulse-header-read")
        defer { FileSystem.remove(folder) }
        let path: String
        if name == "starting_at_3s.mp4" {
            path = folder + "/" + name
            let make = try await shell("ffmpeg", ["-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=6",
                                                  "-output_ts_offset", "3", "-c:v", "libx264", "-preset", "ultrafast", path])
            try #require(make.status == 0, "\(make.err)")
        } else {
            path = try TestMedia.path(name)
        }
        let configuration = testConfiguration()
        let probe = try await Prober(configuration: configuration, logger: TestServices.logger).header(.file(path))
        #expect(probe.headerReadOptions == ["-nofind_stream_info"], "\(probe.container)")
        if name == "starting_at_3s.mp4" { #expect(abs((probe.startTime ?? 0) - 3) < 0.01, "\(probe.startTime ?? -1)") }
        let listing = ["-v", "error", "-read_intervals", "2%", "-show_entries", "packet=stream_index,pts_time,dts_time,duration_time", "-of", "csv=p=0", path]
        let skipped = try await shell("ffprobe", probe.headerReadOptions + listing)
        let analysed = try await shell("ffprobe", listing)
        #expect(skipped.status == 0 && !skipped.out.isEmpty && skipped.out == analysed.out)

        try await Thumbnailer(configuration: configuration, logger: TestServices.logger)
            .makeThumbnail(input: .file(path), probe: probe, to: folder + "/ours.jpg")
        let filter = Thumbnailer.filter(for: probe.video)
        let reference = try await shell("ffmpeg", ["-nostdin", "-v", "error", "-y", "-ss", "1", "-i", path, "-map", "0:v:0", "-frames:v", "1",
                                                   "-vf", filter, "-c:v", "mjpeg", "-q:v", "3", "-f", "image2", "-update", "1", folder + "/analysed.jpg"])
        #expect(reference.status == 0, "\(reference.err)")
        #expect(FileManager.default.contentsEqual(atPath: folder + "/ours.jpg", andPath: folder + "/analysed.jpg"))
    }

    @Test func streamsThatComeWithTheirPacketsKeepTheAnalysis() {
        var probe = ProbeResult(container: "mov,mp4,m4a,3gp,3g2,mj2", duration: 1, video: ProbeResult.Video(
            codec: "h264", pixelFormat: "yuv420p", bitDepth: 8, codedWidth: 16, codedHeight: 16, displayWidth: 16, displayHeight: 16, rotation: 0, frameRate: 30))
        #expect(probe.headerReadOptions == ["-nofind_stream_info"])
        // Matroska too: its audio packets have no duration without the analysis.
        for container in ["matroska,webm", "mpeg", "flv", "mpegts", "avi", "asf", "ogg", "mxf"] {
            probe.container = container
            #expect(probe.headerReadOptions.isEmpty, "\(container)")
        }
    }

    /// The plan, the encode and the reported duration all follow the measurement.
    @Test func aLyingHeaderEncodesWhatWasMeasured() async throws {
        let (root, result, _) = try await transcode(TestMedia.path("lying_duration.mkv"), chunkSeconds: 20)
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(abs(result.probe.duration - 60) < 0.5)
        #expect(result.units >= 3, "a 60 s source in 20 s chunks is several units: \(result.units)")
        for rendition in result.renditions {
            let covered = rendition.duration
            #expect(abs(covered - 60) < 1, "\(rendition.name) covers \(covered) s")
        }
    }

    /// A stream written live (no duration, no index) is not malformed: measured, then processed.
    @Test func aSourceWithNoDeclaredDurationIsMeasuredAndProcessed() async throws {
        let path = try TestMedia.path("no_duration.mkv")
        let probed = try await Prober(configuration: testConfiguration(), logger: TestServices.logger).probe(.file(path))
        #expect(probed.declaredDuration == nil)
        #expect(abs(probed.duration - 12) < 0.5, "measured \(probed.duration) s")

        let (root, result, events) = try await transcode(path, configuration: testConfiguration(segmentSeconds: 4))
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(FileManager.default.fileExists(atPath: root + "/master.m3u8"))
        for rendition in result.renditions {
            let covered = rendition.duration
            #expect(abs(covered - 12) < 0.6, "\(rendition.name) covers \(covered) s")
        }
        #expect(events.last?.percent == 100)
    }

    /// The opposite lie: an index that promises 7 s over data that stops at about 4 s (an MP4
    /// cut off after its moov) is a damaged file, refused before anything is encoded.
    @Test func dataThatStopsBeforeTheIndexIsATruncatedFile() async throws {
        let whole = try Data(contentsOf: URL(fileURLWithPath: try TestMedia.path("long_7s_320p.mp4")))
        let folder = temporaryDirectory("pulse-cut")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let cut = folder + "/cut.mp4"
        try whole.prefix(whole.count * 55 / 100).write(to: URL(fileURLWithPath: cut))
        let error = await mediaError { _ = try await Prober(configuration: testConfiguration(), logger: TestServices.logger).probe(.file(cut)) }
        #expect(error?.code == .malformedVideo)
        #expect(error?.message.contains("truncated") == true, "\(error.map(String.init(describing:)) ?? "no error")")
    }

    /// The thumbnail taken beside the measurement comes back only with it: a cut-off file is
    /// refused as the probe alone refuses it, and a whole one gives the probe alone's result with
    /// the thumbnail and its placeholder.
    @Test func theThumbnailBesideTheProbeWaitsForTheMeasurement() async throws {
        let source = try TestMedia.path("long_7s_320p.mp4")
        let whole = try Data(contentsOf: URL(fileURLWithPath: source))
        let folder = temporaryDirectory("pulse-cut-thumbnail")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let cut = folder + "/cut.mp4"
        try whole.prefix(whole.count * 55 / 100).write(to: URL(fileURLWithPath: cut))
        let pipeline = MediaPipeline(configuration: testConfiguration(), logger: TestServices.logger)

        let error = await mediaError { _ = try await pipeline.probe(.file(cut), thumbnailTo: folder + "/cut.jpg") }
        #expect(error?.code == .malformedVideo)
        #expect(error?.message.contains("truncated") == true, "\(error.map(String.init(describing:)) ?? "no error")")

        let (probe, thumbnail) = try await pipeline.probe(.file(source), thumbnailTo: folder + "/whole.jpg")
        #expect(try await probe == pipeline.probe(.file(source)))
        #expect(thumbnail.path == folder + "/whole.jpg" && (FileSystem.fileSize(thumbnail.path) ?? 0) > 0)
        #expect(try await thumbnail.placeholder == pipeline.placeholder(ofImage: thumbnail.path, scratch: folder + "/again"))
    }

    /// Every output of every unit, the last range and the audio included, gets `-t`: a source
    /// longer than planned is never encoded past the plan.
    @Test func everyOutputEndsExplicitly() throws {
        let probe = try ProbeParser.parse(Data(probeJSON(duration: "30.0").utf8))
        var settings = EncodingSettings()
        settings.segmentSeconds = 10
        for chunkSeconds in [10.0, 60] {
            for firstRendition in [true, false] {
                let plan = PipelinePlan(probe: probe, chunkSeconds: chunkSeconds, settings: settings, firstRendition: firstRendition)
                let passes = plan.units.flatMap { HLSEncoder.passes(for: $0, probe: probe, rungs: plan.rungs(for: $0), schedule: plan.segmentSchedule) }
                for pass in passes {
                    let arguments = HLSArguments.build(
                        pass: pass, input: .file("/tmp/x.mp4"), probe: probe, settings: settings, staging: "/tmp/s", progressPort: 1)
                    let ends = arguments.indices.filter { arguments[$0] == "-t" }.map { Double(arguments[$0 + 1]) }
                    var expected: [Double?] = []
                    if !pass.rungs.isEmpty { expected.append(pass.range.length(of: 30)) }
                    // The audio ends on a whole AAC frame at most a quarter second early, never late.
                    let audioEnd = AudioEnd(probe: probe, segmentSeconds: pass.segmentSeconds).outputLength
                    if pass.audio { expected.append(audioEnd) }
                    // Written with millisecond precision.
                    #expect(ends.count == expected.count && zip(ends, expected).allSatisfy { abs(($0 ?? -1) - ($1 ?? -2)) < 0.001 },
                            "\(pass.range): \(ends), expected \(expected)")
                    #expect(!pass.audio || (audioEnd <= 30 && audioEnd > 30 - AudioEnd.shortestTail), "audio ends at \(audioEnd)")
                    #expect(arguments.indices.filter { arguments[$0] == "-t" }.allSatisfy { $0 > arguments.firstIndex(of: "-i")! }, "-t must be an output option")
                }
            }
        }
    }

    @Test func packetEndsArePerStreamPtsOrDtsPlusDuration() {
        let csv = "0,0.000000,0.000000,0.033333\n1,0.000000,0.000000,0.021333\n0,9.966667,9.933333,0.033333\n0,4.0,4.0,0.03\n1,N/A,12.000000,0.500000\n2,N/A,N/A,N/A\n"
        #expect(Prober.packetEnds(csv) == [0: 10.0, 1: 12.5])
        #expect(Prober.packetEnds("").isEmpty)
    }

    /// A clip whose audio outlasts its video is not a truncated file: the container's duration
    /// is compared with the furthest stream, and the audio's extent is measured for its check.
    @Test func audioLongerThanVideoIsNotTruncation() async throws {
        let folder = temporaryDirectory("pulse-longaudio")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/long-audio.mp4"
        let made = try await shell("ffmpeg", ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30:duration=3",
                                              "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=6",
                                              "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-movflags", "+faststart", path])
        try #require(made.status == 0, "\(made.err)")
        let probe = try await Prober(configuration: testConfiguration(), logger: TestServices.logger).probe(.file(path))
        #expect(abs(probe.duration - 3) < 0.1, "video \(probe.duration)")
        #expect(abs((probe.audio?.duration ?? 0) - 6) < 0.1, "audio \(probe.audio?.duration ?? -1)")
        let (root, result, _) = try await transcode(path, configuration: testConfiguration(segmentSeconds: 2))
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(result.renditions.allSatisfy { abs($0.duration - 3) < 0.5 }, "\(result.renditions.map { "\($0.name) \($0.duration)" })")
    }

    /// A tool that never finishes (here ffprobe blocked opening a FIFO nobody writes) is killed at
    /// its deadline with its own code, and no process is left behind.
    @Test func aHungToolIsKilledAtItsDeadline() async throws {
        let folder = temporaryDirectory("pulse-fifo")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fifo = folder + "/hang.mp4"
        #expect(mkfifo(fifo, 0o600) == 0)
        var configuration = testConfiguration()
        configuration.probeTimeout = .seconds(2)
        let started = ContinuousClock.now
        await expectCode(.toolTimeout) {
            _ = try await Prober(configuration: configuration, logger: TestServices.logger).probe(.file(fifo))
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        try await Task.sleep(for: .milliseconds(500))
        #expect(probeProcesses(mentioning: fifo).isEmpty, "ffprobe still runs after its deadline")
    }

    private func probeProcesses(mentioning text: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard Int32(entry) != nil, let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8), !stat.contains(") Z ") else { return nil }
            return line.contains(text) && line.contains("ffprobe") ? line : nil
        }
    }

    private func probeJSON(duration: String) -> String {
        """
        {"streams": [
          {"codec_type": "video", "codec_name": "h264", "width": 1280, "height": 720, "pix_fmt": "yuv420p",
           "avg_frame_rate": "30/1", "bit_rate": "4000000"},
          {"codec_type": "audio", "codec_name": "aac", "channels": 2, "sample_rate": "48000"}
        ], "format": {"format_name": "mov", "duration": "\(duration)"}}
        """
    }
}
