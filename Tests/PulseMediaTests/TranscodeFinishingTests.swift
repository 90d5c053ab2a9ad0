import Foundation
import PulseMedia
import PulseTestSupport
import Testing

/// `transcode` makes what `serve` makes beside the ladder, from the same pipeline steps: the
/// thumbnail's BlurHash placeholder and the scrubbing storyboard (its WebVTT and sprite sheets).
@Suite("Transcode placeholder and storyboard", .serialized)
struct TranscodeFinishingTests {
    @Test func makesThePlaceholderAndTheStoryboard() async throws {
        let (root, result, _) = try await transcode(TestMedia.path("long_7s_320p.mp4"))
        defer { try? FileManager.default.removeItem(atPath: root) }

        // The placeholder: the BlurHash of the thumbnail stored, 4 x 3 components.
        #expect(result.placeholder.count == 28)
        let again = try await MediaPipeline(configuration: testConfiguration(), logger: TestServices.logger)
            .placeholder(ofImage: root + "/thumbnail.jpg", scratch: temporaryDirectory("pulse-placeholder") + "/hash")
        #expect(result.placeholder == again)

        // The storyboard: the layout for the measured duration and the lowest rung, its cues
        // tiling the whole video, every sheet it names stored as a JPEG of whole tiles.
        #expect(result.storyboard == StoryboardLayout.fileName)
        let vtt = try String(contentsOfFile: root + "/" + result.storyboard, encoding: .utf8)
        let lowest = try #require(result.rungs.min { $0.width * $0.height < $1.width * $1.height })
        let layout = StoryboardLayout(duration: result.probe.duration, width: lowest.width, height: lowest.height)
        #expect(vtt == layout.webVTT)
        #expect(layout.cues.first?.startMilliseconds == 0)
        #expect(layout.cues.last?.endMilliseconds == Int((result.probe.duration * 1000).rounded()))
        #expect(zip(layout.cues, layout.cues.dropFirst()).allSatisfy { $0.endMilliseconds == $1.startMilliseconds })
        for sheet in 0..<layout.sheetCount {
            let size = try await imageSize(root + "/" + StoryboardLayout.sheetName(sheet))
            #expect(size.width == layout.tileWidth * layout.columns && size.height == layout.tileHeight * layout.rows)
        }
        // Nothing of the work is left beside the output.
        #expect(!FileManager.default.fileExists(atPath: root + "/.work"))
    }
}
