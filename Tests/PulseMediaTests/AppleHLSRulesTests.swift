import Foundation
@testable import PulseMedia
import PulseTestSupport
import Testing

/// Apple's HLS authoring rules on a transcoded ladder: I-frame playlists whose byte ranges each
/// decode to one key frame, an audio-only variant under 192 kbit/s, no audio segment shorter than
/// a frame. (The served stream is checked again from outside in Tests/browser/test_apple_hls.py.)
@Suite("Apple HLS rules", .serialized)
struct AppleHLSRulesTests {
    @Test func audioEndsBeforeASliverOfASegment() {
        let frame = AudioEnd.frameSeconds
        // 30 s of audio would spill one frame past the 30 s boundary: it ends before it.
        let thirty = AudioEnd(extent: 30, segmentSeconds: 10)
        #expect(thirty.frames == 1406)
        #expect(Double(thirty.frames) * frame < 30 && thirty.seconds > 30 - AudioEnd.shortestTail)
        // Half a second past the boundary is a real segment: kept.
        let longer = AudioEnd(extent: 30.5, segmentSeconds: 10)
        #expect(longer.seconds >= 30.5 - frame)
        // Shorter than one segment: nothing to trim.
        #expect(AudioEnd(extent: 0.5, segmentSeconds: 10).frames == 24)
        #expect(abs(AudioEnd(extent: 7, segmentSeconds: 10).seconds - 7) < frame)
    }

    @Test func iFramePlaylistsAudioOnlyVariantAndNoSliver() async throws {
        let (root, result, _) = try await transcode(TestMedia.path("landscape_1080p30_audio.mp4"))
        let scratch = temporaryDirectory("pulse-iframe")
        defer {
            try? FileManager.default.removeItem(atPath: root)
            try? FileManager.default.removeItem(atPath: scratch)
        }
        let master = try String(contentsOfFile: root + "/master.m3u8", encoding: .utf8)
        let lines = master.split(separator: "\n").map(String.init)

        // 6.1/6.2: one I-frame stream per video rung, each range one decodable key frame.
        let iFrameLines = lines.filter { $0.hasPrefix("#EXT-X-I-FRAME-STREAM-INF:") }
        #expect(iFrameLines.count == result.rungs.count)
        for line in iFrameLines {
            let attributes = parseAttributes(String(line.dropFirst("#EXT-X-I-FRAME-STREAM-INF:".count)))
            for key in ["BANDWIDTH", "AVERAGE-BANDWIDTH", "CODECS", "RESOLUTION", "URI"] {
                #expect(attributes[key] != nil, "\(line) lacks \(key)")
            }
            let uri = try #require(attributes["URI"])
            let playlist = try String(contentsOfFile: "\(root)/\(uri)", encoding: .utf8)
            #expect(playlist.contains("#EXT-X-I-FRAMES-ONLY") && playlist.hasSuffix("#EXT-X-ENDLIST\n"))
            let folder = "\(root)/\((uri as NSString).deletingLastPathComponent)"
            let ranges = byteRanges(playlist)
            // A key frame every 2 s: a 3 s clip has two.
            #expect(ranges.count == 2, "\(uri): \(ranges)")
            for range in ranges {
                let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(range.uri)"))
                let piece = scratch + "/frame.ts"
                try data.subdata(in: range.offset..<(range.offset + range.length)).write(to: URL(fileURLWithPath: piece))
                let frames = try await shell("ffprobe", ["-v", "error", "-select_streams", "v", "-show_entries", "frame=key_frame,pict_type", "-of", "csv=p=0", piece])
                // key_frame,pict_type per frame (the first frame of a file may add an empty field).
                let decoded = frames.out.split(separator: "\n").map { $0.split(separator: ",").prefix(2).joined(separator: ",") }
                #expect(decoded == ["1,I"], "\(uri) \(range): \(frames.out) \(frames.err)")
            }
        }

        // 9.21: the audio alone, as a variant under 192 kbit/s.
        let audioOnly = lines.indices.first { lines[$0].hasPrefix("#EXT-X-STREAM-INF:") && lines[$0 + 1] == "audio/index.m3u8" }
        let attributes = parseAttributes(String(lines[try #require(audioOnly)].dropFirst("#EXT-X-STREAM-INF:".count)))
        #expect(attributes["CODECS"] == "mp4a.40.2")
        #expect(try #require(Int(attributes["BANDWIDTH"] ?? "")) <= 192_000)

        // No audio segment shorter than a frame (a sliver's per-second rate is no real peak).
        for segment in try mediaSegments(root + "/audio/index.m3u8") {
            #expect(segment.duration >= AudioEnd.frameSeconds, "\(segment.uri) lasts \(segment.duration) s")
        }
    }

    /// The `EXT-X-BYTERANGE` entries of an I-frame playlist: file, offset, length.
    private func byteRanges(_ playlist: String) -> [(uri: String, offset: Int, length: Int)] {
        let lines = playlist.split(separator: "\n").map(String.init)
        return lines.indices.compactMap { index in
            guard lines[index].hasPrefix("#EXT-X-BYTERANGE:") else { return nil }
            let parts = lines[index].dropFirst("#EXT-X-BYTERANGE:".count).split(separator: "@")
            guard parts.count == 2, let length = Int(parts[0]), let offset = Int(parts[1]) else { return nil }
            return (lines[index + 1], offset, length)
        }
    }
}
