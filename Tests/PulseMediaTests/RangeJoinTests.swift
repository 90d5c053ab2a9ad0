import Foundation
import PulseMedia
import PulseTestSupport
import Testing

/// Ranges encoded apart (other processes, machines, or after a crash) must join into the same
/// playlist as the whole file encoded at once.
@Suite("Range joining", .serialized)
struct RangeJoinTests {
    @Test func threeRangesEqualOneRange() async throws {
        let source = try TestMedia.path("long_7s_320p.mp4")
        let configuration = testConfiguration(segmentSeconds: 2)
        let (whole, wholeResult, _) = try await transcode(source, configuration: configuration)
        let (joined, joinedResult, _) = try await transcode(source, configuration: configuration, chunkSeconds: 2)
        defer {
            try? FileManager.default.removeItem(atPath: whole)
            try? FileManager.default.removeItem(atPath: joined)
        }
        #expect(wholeResult.units == 1)
        #expect(joinedResult.units >= 4)  // at least three video ranges and the audio

        for rung in wholeResult.rungs {
            let a = try mediaSegments("\(whole)/\(rung.name)/index.m3u8")
            let b = try mediaSegments("\(joined)/\(rung.name)/index.m3u8")
            #expect(a.map(\.uri) == b.map(\.uri))
            #expect(zip(a, b).allSatisfy { abs($0.duration - $1.duration) < 0.001 })

            // Timestamps across every join: strictly increasing DTS, one frame apart at most.
            let all = try await packets(of: b, in: "\(joined)/\(rung.name)")
            let dts = all.map(\.dts)
            let frame = 1 / rung.frameRate
            for (previous, next) in zip(dts, dts.dropFirst()) {
                #expect(next > previous && next - previous < frame * 1.5, "DTS \(previous) -> \(next)")
            }
            // The same instants as the whole-file encode.
            let reference = try await packets(of: a, in: "\(whole)/\(rung.name)").map(\.pts).sorted()
            #expect(reference.count == all.count)
            #expect(zip(reference, all.map(\.pts).sorted()).allSatisfy { abs($0 - $1) < 0.001 })

            // The joined playlist decodes without a single error.
            let decoded = try await shell("ffmpeg", ["-nostdin", "-v", "error", "-i", "\(joined)/\(rung.name)/index.m3u8", "-f", "null", "-"])
            #expect(decoded.status == 0 && decoded.err.isEmpty, "\(decoded.err)")
        }

        // Audio is one continuous rendition: no gap, no overlap between packets.
        let audioSegments = try mediaSegments("\(joined)/audio/index.m3u8")
        let audio = try await packets(of: audioSegments, in: "\(joined)/audio", stream: "a")
        let aacFrame = 1024.0 / 48_000
        for (previous, next) in zip(audio, audio.dropFirst()) {
            #expect(abs(next.pts - previous.pts - aacFrame) < 0.0005, "audio \(previous.pts) -> \(next.pts)")
        }
        let audioLength = Double(audio.count) * aacFrame
        #expect(abs(audioLength - 7) < 0.1)
        // Audio and video share one timeline: both start at the same base.
        let firstVideo = try await packets("\(joined)/\(wholeResult.rungs[0].name)/seg_00000.ts").map(\.pts).min()!
        #expect(abs(audio[0].pts - firstVideo) < 0.05)
    }
}

extension RangeJoinTests {
    /// With a first rendition, the plan has three kinds of pieces: the first rendition (its lead-in
    /// and the rest, two processes, and the audio in a third), the ladder's lead-in range and its
    /// chunks. Every rung has the same segment boundaries, and each joins without a gap.
    @Test func theFirstRenditionAndTheLeadInJoinLikeAnyRange() async throws {
        let source = try TestMedia.path("bigbuckbunny.mp4")  // 1280x720, 5.3 s: first rendition 360p
        let configuration = testConfiguration(segmentSeconds: 2)
        var settings = configuration.encoding
        settings.keyframeIntervalSeconds = 1  // lead-in: 3 segments of 1 s (3 s >= 2 + 1), then 2 s segments
        var withKeyframes = configuration
        withKeyframes.encoding = settings
        let (root, result, _) = try await transcode(source, configuration: withKeyframes, chunkSeconds: 2, firstRendition: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(result.units >= 4, "first rendition, lead-in range and chunks: \(result.units)")
        var boundaries: [[String]] = []
        for rung in result.rungs {
            let segments = try mediaSegments("\(root)/\(rung.name)/index.m3u8")
            boundaries.append(segments.map { String(format: "%.3f", $0.duration) })
            let all = try await packets(of: segments, in: "\(root)/\(rung.name)")
            let frame = 1 / rung.frameRate
            for (previous, next) in zip(all.map(\.dts), all.map(\.dts).dropFirst()) {
                #expect(next > previous && next - previous < frame * 1.5, "\(rung.name) DTS \(previous) -> \(next)")
            }
            let decoded = try await shell("ffmpeg", ["-nostdin", "-v", "error", "-i", "\(root)/\(rung.name)/index.m3u8", "-f", "null", "-"])
            #expect(decoded.status == 0 && decoded.err.isEmpty, "\(decoded.err)")
        }
        #expect(boundaries.first?.prefix(4) == ["1.000", "1.000", "1.000", "2.000"], "\(boundaries)")
        #expect(Set(boundaries.map { $0.joined(separator: ",") }).count == 1, "rungs disagree on segment boundaries: \(boundaries)")
        let decoded = try await shell("ffmpeg", ["-nostdin", "-v", "error", "-i", "\(root)/master.m3u8", "-map", "0", "-f", "null", "-"])
        #expect(decoded.status == 0 && decoded.err.isEmpty, "\(decoded.err)")
    }
}

@Suite("Safety and cancellation", .serialized)
struct SafetyTests {
    /// An HLS playlist saved as .mp4 that names a local file must not be opened as a playlist.
    @Test func playlistDisguisedAsMP4IsRefused() async throws {
        let root = temporaryDirectory("pulse-out")
        defer { try? FileManager.default.removeItem(atPath: root) }
        await expectCode(.nonVideo) {
            _ = try await Transcoder(configuration: testConfiguration(), logger: TestServices.logger).transcode(
                input: .file(try TestMedia.path("playlist_as.mp4")), output: DirectoryOutput(root: root), workDirectory: root + "/.work")
        }
    }

    @Test func argumentsCarryTheWhitelists() throws {
        let input = MediaInput.file("/tmp/x.mp4")
        #expect(input.protocolWhitelist == "file" && input.location == "file:/tmp/x.mp4")
        let remote = try MediaInput.url("https://bucket.example/x.mp4?X-Amz-Signature=s", plainHTTP: PlainHTTPPolicy())
        #expect(remote.protocolWhitelist == "https,tls,tcp")
        #expect(!remote.description.contains("Signature"))
    }

    /// Cancelling a transcode stops ffmpeg: no process is left that works on our folder.
    @Test func cancelLeavesNoFFmpeg() async throws {
        let source = try TestMedia.path("landscape_1080p30_audio.mp4")
        let root = temporaryDirectory("pulse-cancel")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var configuration = testConfiguration()
        configuration.encoding.preset = "veryslow"  // slow enough to be caught mid-encode
        let transcoding = Task {
            try await Transcoder(configuration: configuration, logger: TestServices.logger).transcode(
                input: .file(source), output: DirectoryOutput(root: root), workDirectory: root + "/.work")
        }
        // Wait until an ffmpeg encodes into our folder, then cancel.
        let deadline = ContinuousClock.now + .seconds(30)
        while processes(mentioning: root + "/.work").isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        let running = processes(mentioning: root + "/.work/")
        #expect(!running.isEmpty, "ffmpeg never started")
        transcoding.cancel()
        _ = await transcoding.result
        #expect(processes(mentioning: root + "/.work").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: root + "/master.m3u8"))
    }
}

/// PIDs of live processes whose command line mentions `text`.
func processes(mentioning text: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry -> Int32? in
        guard let pid = Int32(entry), pid != getpid(),
              let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"), !data.isEmpty else { return nil }
        let commandLine = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        // A zombie or the state file being gone means it has ended.
        guard let status = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8), !status.contains(") Z ") else { return nil }
        return commandLine.contains(text) && commandLine.contains("ffmpeg") ? pid : nil
    }
}
