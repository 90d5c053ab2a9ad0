import Foundation
@testable import PulseMedia
import Testing

@Suite("Ladder")
struct LadderTests {
    func video(_ width: Int, _ height: Int, fps: Double = 30, bitRate: Int? = nil) -> ProbeResult.Video {
        .init(codec: "h264", profile: nil, pixelFormat: "yuv420p", bitDepth: 8, codedWidth: width, codedHeight: height,
              displayWidth: width, displayHeight: height, rotation: 0, frameRate: fps, bitRate: bitRate, colorTransfer: nil)
    }

    @Test func fullLadderFor1080p() {
        let rungs = LadderPlanner.plan(for: video(1920, 1080))
        #expect(rungs.map(\.name) == ["1080p", "720p", "480p", "360p", "240p"])
        #expect(rungs.map(\.width) == [1920, 1280, 854, 640, 426])
        #expect(rungs.map(\.height) == [1080, 720, 480, 360, 240])
    }

    @Test func neverUpscales() {
        #expect(LadderPlanner.plan(for: video(854, 480)).map(\.name) == ["480p", "360p", "240p"])
        // 563p is above 480 but below 720.
        let odd = LadderPlanner.plan(for: video(1001, 563))
        #expect(odd.map(\.name) == ["480p", "360p", "240p"])
        #expect(odd.allSatisfy { $0.width % 2 == 0 && $0.height % 2 == 0 })
        #expect(odd[0].width == 854)
    }

    @Test func portraitUsesTheShortSide() {
        let rungs = LadderPlanner.plan(for: video(1080, 1920))
        #expect(rungs.map(\.name) == ["1080p", "720p", "480p", "360p", "240p"])
        #expect(rungs.allSatisfy { $0.height > $0.width })
        #expect(rungs[1].width == 720 && rungs[1].height == 1280)
    }

    @Test func tinySourceKeepsItsOwnSize() {
        let rungs = LadderPlanner.plan(for: video(160, 120))
        #expect(rungs.count == 1)
        #expect(rungs[0].width == 160 && rungs[0].height == 120 && rungs[0].name == "120p")
        let odd = LadderPlanner.plan(for: video(175, 131))
        #expect(odd[0].width == 174 && odd[0].height == 130)
    }

    @Test func frameRateKeptHighHalvedLow() {
        let rungs = LadderPlanner.plan(for: video(1280, 720, fps: 60))
        #expect(rungs[0].frameRate == 60 && !rungs[0].halvesFrameRate)
        #expect(rungs.dropFirst().allSatisfy { $0.frameRate == 30 && $0.halvesFrameRate })
        let pal = LadderPlanner.plan(for: video(854, 480, fps: 50))
        #expect(pal.allSatisfy { $0.frameRate == 25 })
        let ntsc = LadderPlanner.plan(for: video(854, 480, fps: 29.97))
        #expect(ntsc.allSatisfy { $0.frameRate == 29.97 && !$0.halvesFrameRate })
    }

    @Test func bitRateNeverAboveTheSource() {
        let capped = LadderPlanner.plan(for: video(1920, 1080, bitRate: 2_000_000))
        #expect(capped[0].maxBitRate == 2_000_000)
        #expect(capped[4].maxBitRate == 400_000)
        let uncapped = LadderPlanner.plan(for: video(1920, 1080))
        #expect(uncapped.map(\.maxBitRate) == [5_000_000, 2_800_000, 1_400_000, 800_000, 400_000])
    }

    @Test func levelsFitTheRung() {
        let rungs = LadderPlanner.plan(for: video(1920, 1080, fps: 60))
        #expect(H264Level.codecString(for: rungs[0]) == "avc1.64002A")  // 1080p60 needs 4.2
        let rungs30 = LadderPlanner.plan(for: video(1920, 1080))
        #expect(H264Level.codecString(for: rungs30[0]) == "avc1.640028")  // 4.0
        #expect(H264Level.codecString(for: rungs30[1]) == "avc1.64001F")  // 720p30: 3.1
    }
}

@Suite("Work planning")
struct WorkPlanTests {
    let settings = EncodingSettings()

    /// The ladder alone, as `transcode` plans it: uniform segments, no first rendition.
    func ladder(duration: Double, hasAudio: Bool, chunkSeconds: Double?) -> [WorkUnit] {
        WorkPlanner.plan(
            duration: duration, hasAudio: hasAudio, schedule: .uniform(settings.segmentSeconds), chunkSeconds: chunkSeconds,
            firstRendition: false)
    }

    @Test func shortVideoIsOneUnitWithAudio() {
        let units = ladder(duration: 42, hasAudio: true, chunkSeconds: 60)
        #expect(units == [WorkUnit(kind: .video, index: 0, range: MediaRange(start: 0, end: nil, firstSegment: 0, segmentSeconds: 10), includesAudio: true)])
        #expect(units[0].id == WorkUnit.ID(kind: .video, index: 0))
    }

    @Test func longVideoIsSegmentAlignedRangesPlusAudio() {
        let units = ladder(duration: 185, hasAudio: true, chunkSeconds: 60)
        // 19 segments: 0-6, 6-12, 12-19 (the 5 s tail joins the last full range).
        #expect(units.map(\.kind) == [.video, .video, .video, .audio])
        #expect(units.map(\.includesAudio) == [false, false, false, true])
        #expect(units.map(\.range.start) == [0, 60, 120, 0])
        #expect(units.map(\.range.end) == [60, 120, nil, nil])
        #expect(units.map(\.range.firstSegment) == [0, 6, 12, 0])
    }

    @Test func chunkLengthRoundsUpToWholeSegments() {
        let units = ladder(duration: 100, hasAudio: false, chunkSeconds: 25)
        #expect(units.map(\.range.start) == [0, 30, 60])
        #expect(units.allSatisfy { $0.kind == .video && !$0.includesAudio })
    }

    @Test func aUnitIsStoredInTheLayoutPlansAreKeptIn() throws {
        let range = MediaRange(start: 0, end: nil, firstSegment: 0)
        let both = WorkUnit(kind: .video, index: 0, range: range, includesAudio: true)
        let text = String(decoding: try JSONEncoder().encode(both), as: UTF8.self)
        #expect(text.contains(#""kind":"videoAndAudio""#))
        #expect(try JSONDecoder().decode(WorkUnit.self, from: Data(text.utf8)) == both)
        let audio = WorkUnit(kind: .audio, index: 0, range: range)
        #expect(try JSONDecoder().decode(WorkUnit.self, from: JSONEncoder().encode(audio)) == audio)
        #expect(audio.includesAudio && !audio.includesVideo)
    }
}
