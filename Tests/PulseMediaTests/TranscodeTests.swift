import Foundation
import PulseMedia
import PulseTestSupport
import Testing

@Suite("Transcode", .serialized)
struct TranscodeTests {
    @Test func fullLadderWithValidPlaylists() async throws {
        let (root, result, events) = try await transcode(TestMedia.path("landscape_1080p30_audio.mp4"))
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(result.rungs.map(\.name) == ["1080p", "720p", "480p", "360p", "240p"])

        let master = try String(contentsOfFile: root + "/master.m3u8", encoding: .utf8)
        #expect(master.contains("#EXT-X-MEDIA:TYPE=AUDIO") && master.contains("URI=\"audio/index.m3u8\""))
        let variants = masterVariants(master)
        #expect(variants.map(\.uri) == result.rungs.map { "\($0.name)/index.m3u8" })
        for (variant, rung) in zip(variants, result.rungs) {
            for key in ["BANDWIDTH", "AVERAGE-BANDWIDTH", "RESOLUTION", "CODECS", "FRAME-RATE", "AUDIO"] {
                #expect(variant.attributes[key] != nil, "\(rung.name) lacks \(key)")
            }
            #expect(variant.attributes["RESOLUTION"] == "\(rung.width)x\(rung.height)")
            let peak = try peakSegmentBitRate(root + "/" + rung.name) + peakSegmentBitRate(root + "/audio")
            let bandwidth = Int(variant.attributes["BANDWIDTH"] ?? "") ?? 0
            #expect(bandwidth >= peak, "\(rung.name): BANDWIDTH \(bandwidth) below the peak \(peak)")
            #expect(Int(variant.attributes["AVERAGE-BANDWIDTH"] ?? "")! <= bandwidth)
            try await expectValidVariant(root: root, rung: rung, codecs: variant.attributes["CODECS"] ?? "")
        }
        try await expectAlignedSegments(root: root, rungs: result.rungs)

        // Thumbnail: a JPEG at most 1280 wide, upright.
        let size = try await imageSize(root + "/thumbnail.jpg")
        #expect(size.width == 1280 && size.height == 720)

        // Progress: announced thumbnail first, monotonic, ends at 100.
        let percents = events.map(\.percent)
        #expect(zip(percents, percents.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(percents.last == 100)
        let thumbnailIndex = try #require(events.firstIndex { $0.thumbnailReady })
        #expect(events[thumbnailIndex].percent == 5)
        #expect(events[..<thumbnailIndex].allSatisfy { $0.stage != .transcoding })
    }

    @Test func portraitPhoneClipGivesPortraitRungsAndUprightThumbnail() async throws {
        let (root, result, _) = try await transcode(TestMedia.path("portrait_rotated.mp4"))
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(result.rungs.map(\.name) == ["360p", "240p"])
        #expect(result.rungs.allSatisfy { $0.height > $0.width })
        let size = try await imageSize(root + "/thumbnail.jpg")
        #expect(size.height > size.width)
        let stream = try await shell("ffprobe", ["-v", "error", "-select_streams", "v", "-show_entries", "stream=width,height", "-of", "csv=p=0", root + "/360p/seg_00000.ts"])
        #expect(firstLine(stream.out) == "360,640")
    }

    @Test func noAudioGivesVideoOnlyVariants() async throws {
        let (root, result, _) = try await transcode(TestMedia.path("no_audio_360p.mp4"))
        defer { try? FileManager.default.removeItem(atPath: root) }
        let master = try String(contentsOfFile: root + "/master.m3u8", encoding: .utf8)
        #expect(!master.contains("TYPE=AUDIO") && !master.contains("mp4a"))
        #expect(!FileManager.default.fileExists(atPath: root + "/audio"))
        #expect(result.renditions.map(\.name) == ["360p", "240p"])
    }

    /// Every generated case and the real footage gives a valid ladder.
    @Test(arguments: [
        "sd_480p.mp4", "tiny_160x120.mp4", "odd_size_563p.mp4", "hevc_10bit.mp4", "vp9.webm", "vfr.mp4",
        "fps60_720p.mp4", "short_0_5s.mp4", "surround_5_1.mp4", "hdr_pq.mp4", "corrupt_middle.mp4",
        "bigbuckbunny.mp4", "bikes.mp4",
    ])
    func everyCaseGivesAValidLadder(name: String) async throws {
        let path = try TestMedia.path(name)
        let (root, result, _) = try await transcode(path)
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(result.rungs == LadderPlanner.plan(for: result.probe.video))
        let variants = masterVariants(try String(contentsOfFile: root + "/master.m3u8", encoding: .utf8))
        #expect(variants.count == result.rungs.count)
        for (variant, rung) in zip(variants, result.rungs) {
            try await expectValidVariant(root: root, rung: rung, codecs: variant.attributes["CODECS"] ?? "")
        }
        if result.probe.audio != nil {
            let decoded = try await shell("ffmpeg", ["-nostdin", "-v", "error", "-i", root + "/audio/index.m3u8", "-f", "null", "-"])
            #expect(decoded.status == 0 && decoded.err.isEmpty, "audio: \(decoded.err)")
            let channels = try await shell("ffprobe", ["-v", "error", "-select_streams", "a", "-show_entries", "stream=channels,sample_rate", "-of", "csv=p=0", root + "/audio/seg_00000.ts"])
            #expect(firstLine(channels.out) == "48000,2")
        }
    }

    @Test func sixtyFpsHalvedOnLowRungs() async throws {
        let (root, _, _) = try await transcode(TestMedia.path("fps60_720p.mp4"))
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try await frameRate(root + "/720p/seg_00000.ts") == "60/1")
        #expect(try await frameRate(root + "/480p/seg_00000.ts") == "30/1")
    }

    @Test func errorsLeaveNothingBehind() async throws {
        let root = temporaryDirectory("pulse-out")
        defer { try? FileManager.default.removeItem(atPath: root) }
        await expectCode(.nonVideo) {
            _ = try await Transcoder(configuration: testConfiguration(), logger: TestServices.logger).transcode(
                input: .file(try TestMedia.path("not_video.mp4")), output: DirectoryOutput(root: root), workDirectory: root + "/.work")
        }
        #expect(!FileManager.default.fileExists(atPath: root + "/master.m3u8"))
        #expect(!FileManager.default.fileExists(atPath: root + "/.work"))
    }
}

func frameRate(_ path: String) async throws -> String {
    firstLine(try await shell("ffprobe", ["-v", "error", "-select_streams", "v", "-show_entries", "stream=r_frame_rate", "-of", "csv=p=0", path]).out)
}

func imageSize(_ path: String) async throws -> (width: Int, height: Int) {
    let out = try await shell("ffprobe", ["-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", path]).out
    let parts = firstLine(out).split(separator: ",").compactMap { Int($0) }
    try #require(parts.count == 2)
    return (parts[0], parts[1])
}

func peakSegmentBitRate(_ folder: String) throws -> Int {
    guard FileManager.default.fileExists(atPath: folder) else { return 0 }
    return try mediaSegments(folder + "/index.m3u8").map { segment in
        let bytes = try FileManager.default.attributesOfItem(atPath: folder + "/" + segment.uri)[.size] as! NSNumber
        return Int((bytes.doubleValue * 8 / segment.duration).rounded(.down))
    }.max() ?? 0
}

/// A variant: VOD playlist with ENDLIST, no segment over target + 0.5 s, an IDR first in every
/// segment, the stated size and H.264 level, and it decodes without an error.
func expectValidVariant(root: String, rung: Rung, codecs: String) async throws {
    let playlistPath = "\(root)/\(rung.name)/index.m3u8"
    let text = try String(contentsOfFile: playlistPath, encoding: .utf8)
    #expect(text.contains("#EXT-X-PLAYLIST-TYPE:VOD") && text.hasSuffix("#EXT-X-ENDLIST\n"))
    let target = Double(text.split(separator: "\n").first { $0.hasPrefix("#EXT-X-TARGETDURATION:") }!.dropFirst(22))!
    let segments = try mediaSegments(playlistPath)
    #expect(!segments.isEmpty)
    for segment in segments {
        #expect(segment.duration <= target + 0.5)
        let path = "\(root)/\(rung.name)/\(segment.uri)"
        let frames = try await shell("ffprobe", ["-v", "error", "-select_streams", "v", "-read_intervals", "%+#1",
                                                 "-show_entries", "frame=key_frame,pict_type,width,height", "-of", "csv=p=0", path])
        #expect(frames.out.hasPrefix("1,\(rung.width),\(rung.height),I"), "\(path): first frame \(frames.out)")
        let level = try await shell("ffprobe", ["-v", "error", "-select_streams", "v", "-show_entries", "stream=profile,level", "-of", "csv=p=0", path])
        let parts = firstLine(level.out).split(separator: ",")
        #expect(parts.first == "High")
        if let idc = parts.last.flatMap({ Int($0) }) {
            #expect(codecs.hasPrefix("avc1.6400" + String(format: "%02X", idc)), "\(rung.name): \(codecs) vs level \(idc)")
        }
    }
    let decoded = try await shell("ffmpeg", ["-nostdin", "-v", "error", "-i", playlistPath, "-f", "null", "-"])
    #expect(decoded.status == 0 && decoded.err.isEmpty, "\(rung.name): \(decoded.err)")
}

/// Segment k starts at the same instant in every rung.
func expectAlignedSegments(root: String, rungs: [Rung]) async throws {
    var starts: [[Double]] = []
    for rung in rungs {
        let segments = try mediaSegments("\(root)/\(rung.name)/index.m3u8")
        var rungStarts: [Double] = []
        for segment in segments {
            rungStarts.append(try #require(await packets("\(root)/\(rung.name)/\(segment.uri)").map(\.pts).min()))
        }
        starts.append(rungStarts)
    }
    for other in starts.dropFirst() {
        #expect(other.count == starts[0].count)
        for (a, b) in zip(starts[0], other) { #expect(abs(a - b) < 0.001) }
    }
}
