import Foundation
import PulseMedia
import PulseTestSupport
import Testing

/// The rate control each rung is encoded with, read back from the encoder's own record of its
/// options (x264 writes them into every stream it makes, as a user-data SEI), so the check is on
/// what ran, not on the arguments we wrote.
@Suite("Encoder settings")
struct EncoderSettingsTests {
    @Test func everyRungRunsTheDefaultRateControl() async throws {
        var configuration = testConfiguration()
        configuration.encoding.preset = EncodingSettings().preset
        let (root, result, _) = try await transcode(TestMedia.path("sd_480p.mp4"), configuration: configuration)
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(result.rungs.map(\.name) == ["480p", "360p", "240p"])
        for rung in result.rungs {
            let options = try await x264Options(root + "/\(rung.name)/seg_00000.ts")
            #expect(options["crf"] == "23.0", "\(rung.name): \(options)")
            #expect(options["ref"] == "2", "\(rung.name): \(options)")
            #expect(options["subme"] == "2", "\(rung.name): veryfast's subme, \(options)")
            #expect(options["vbv_maxrate"] == "\(rung.maxBitRate / 1000)", "\(rung.name): \(options)")
            #expect(options["vbv_bufsize"] == "\(rung.maxBitRate * 2 / 1000)", "\(rung.name): \(options)")
        }
    }

    @Test func aPresetWithMoreReferenceFramesKeepsThem() async throws {
        var configuration = testConfiguration()
        configuration.encoding.preset = "medium"
        let (root, result, _) = try await transcode(TestMedia.path("short_0_5s.mp4"), configuration: configuration)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let options = try await x264Options(root + "/\(result.rungs[0].name)/seg_00000.ts")
        #expect(options["ref"] == "3", "medium's own, \(options)")
    }
}

/// x264's options as it records them in the stream (`key=value` pairs after "options: ").
func x264Options(_ segment: String) async throws -> [String: String] {
    // The elementary stream, so no transport packet header splits the record.
    let stream = try await shell("ffmpeg", ["-v", "error", "-i", segment, "-map", "0:v:0", "-c", "copy", "-f", "h264", "-"]).out
    let record = try #require(stream.range(of: "x264 - core"), "no x264 record in \(segment)")
    let text = stream[record.lowerBound...].prefix { $0 != "\0" }
    let options = try #require(text.range(of: "options: "), "no options in the x264 record")
    return Dictionary(text[options.upperBound...].split(separator: " ").compactMap { pair in
        let parts = pair.split(separator: "=", maxSplits: 1)
        return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
    }, uniquingKeysWith: { first, _ in first })
}
