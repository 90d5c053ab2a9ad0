import Foundation
@testable import PulseMedia
import PulseTestSupport
import Testing

/// The first rendition of a large HEVC source decodes without the loop filter; nothing else does,
/// and the picture it makes is the same at its size.
@Suite("Decode options")
struct DecodeOptionsTests {
    func probe(_ width: Int, _ height: Int, codec: String = "hevc") -> ProbeResult {
        ProbeResult(
            container: "mov,mp4", duration: 30, declaredDuration: 30, startTime: 0, bitRate: nil,
            video: .init(codec: codec, profile: nil, pixelFormat: "yuv420p10le", bitDepth: 10, codedWidth: width, codedHeight: height,
                         displayWidth: width, displayHeight: height, rotation: 0, frameRate: 30, bitRate: nil, colorTransfer: "arib-std-b67"),
            audio: .init(duration: 30, codec: "aac", channels: 2, sampleRate: 48000, bitRate: nil))
    }

    /// Whether each pass of a plan for a `width` x `height` source skips the loop filter, by its rungs' names.
    func skips(_ width: Int, _ height: Int, codec: String = "hevc") -> [String: Bool] {
        let probe = probe(width, height, codec: codec)
        let plan = PipelinePlan(probe: probe, chunkSeconds: 60, settings: EncodingSettings())
        var skips: [String: Bool] = [:]
        for unit in plan.units {
            for pass in HLSEncoder.passes(for: unit, probe: probe, rungs: plan.rungs(for: unit), schedule: plan.segmentSchedule) {
                let arguments = HLSArguments.build(
                    pass: pass, input: .file("/tmp/x.mov"), probe: probe, settings: EncodingSettings(), staging: "/tmp/s", progressPort: 1)
                let key = pass.rungs.isEmpty ? "audio" : pass.rungs.map(\.name).joined(separator: ",")
                if let index = arguments.firstIndex(of: "-skip_loop_filter") {
                    #expect(index < arguments.firstIndex(of: "-i")!, "an input option")
                    skips[key] = true
                } else {
                    skips[key] = skips[key] ?? false
                }
            }
        }
        return skips
    }

    @Test func onlyTheFirstRenditionOfALargeHEVCSourceSkipsTheLoopFilter() {
        #expect(skips(1920, 1080) == ["360p": true, "1080p,720p,480p,240p": false, "audio": false])
        #expect(skips(1080, 1920) == ["360p": true, "1080p,720p,480p,240p": false, "audio": false])
        #expect(skips(3840, 2160)["360p"] == true)
        // From 720p the first rendition is half the size: the loop filter stays.
        #expect(skips(1280, 720) == ["360p": false, "720p,480p,240p": false, "audio": false])
        #expect(skips(640, 360) == ["360p": false, "240p": false, "audio": false])
        // H.264 keeps its deblocking at any size.
        #expect(skips(1920, 1080, codec: "h264")["360p"] == false)
    }

    /// The 360p picture of 1080p HEVC (1 s of the project's moving noisy pattern, made here)
    /// decoded without the loop filter, against the same decoded with it: SSIM of the luma over
    /// every frame at least 0.99 (measured 0.996 here, 0.999 on the 20 s HLG bench source).
    @Test func aThirdOfTheSizeLooksTheSameWithoutTheLoopFilter() async throws {
        let folder = temporaryDirectory("pulse-loopfilter")
        defer { FileSystem.remove(folder) }
        let source = folder + "/hevc_1080p.mp4"
        let make = try await shell("ffmpeg", [
            "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30:duration=1,noise=alls=20:allf=t",
            "-pix_fmt", "yuv420p10le", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error",
            "-b:v", "12M", source,
        ])
        try #require(make.status == 0, "ffmpeg: \(make.err.suffix(500))")
        let run = try await shell("ffmpeg", [
            "-nostdin", "-hide_banner", "-i", source] + DecodeOptions.arguments(rungs: [rung360], source: probe(1920, 1080).video) + ["-i", source,
            "-filter_complex", "[0:v]scale=640:360:flags=bicubic[a];[1:v]scale=640:360:flags=bicubic[b];[a][b]ssim",
            "-an", "-f", "null", "-",
        ])
        try #require(run.status == 0, "ffmpeg: \(run.err.suffix(500))")
        let luma = try #require(run.err.firstMatch(of: /SSIM Y:([0-9.]+)/).flatMap { Double($0.1) }, "\(run.err.suffix(500))")
        #expect(luma >= 0.99 && luma < 1, "SSIM Y \(luma) (1: the option changed nothing)")
    }

    private var rung360: Rung { LadderPlanner.plan(for: probe(1920, 1080).video).first { $0.name == "360p" }! }
}
