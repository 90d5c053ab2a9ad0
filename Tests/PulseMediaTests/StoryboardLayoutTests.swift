import Foundation
@testable import PulseMedia
import Testing

/// The storyboard's cues tile the whole video: no gap, no overlap, at most 5 s each, at least 10
/// when the video lasts 10 s or more, every tile inside its sheet.
@Suite("Storyboard layout")
struct StoryboardLayoutTests {
    func checkTiling(_ layout: StoryboardLayout, duration: Double) {
        let total = Int((duration * 1000).rounded())
        #expect(layout.cues.first?.startMilliseconds == 0)
        #expect(layout.cues.last?.endMilliseconds == total)
        for (cue, next) in zip(layout.cues, layout.cues.dropFirst()) {
            #expect(cue.endMilliseconds == next.startMilliseconds)
        }
        for cue in layout.cues {
            #expect(cue.endMilliseconds > cue.startMilliseconds)
            #expect(cue.endMilliseconds - cue.startMilliseconds <= 5000)
            #expect(cue.x < layout.columns && cue.y < layout.rows)
        }
        if duration >= 10 { #expect(layout.cues.count >= 10) }
    }

    @Test(arguments: [0.5, 3.0, 9.99, 10.0, 12.34, 40.0, 60.0, 61.7, 600.0, 3600.0])
    func cuesTileTheWholeDuration(duration: Double) {
        checkTiling(StoryboardLayout(duration: duration, width: 426, height: 240), duration: duration)
    }

    @Test func aMinuteIsTwelveCuesOfFiveSecondsOnOneSheet() {
        let layout = StoryboardLayout(duration: 60, width: 426, height: 240)
        #expect(layout.cues.count == 12 && layout.cueMilliseconds == 5000)
        #expect(layout.sheetCount == 1 && layout.columns == 10 && layout.rows == 2)
        #expect((layout.tileWidth, layout.tileHeight) == (160, 90))
    }

    @Test func anHourTakesAFewSheetsOfAHundredTiles() {
        let layout = StoryboardLayout(duration: 3600, width: 426, height: 240)
        #expect(layout.cues.count == 720 && layout.sheetCount == 8)
        #expect(layout.cues[100].sheet == 1 && layout.cues[100].x == 0 && layout.cues[100].y == 0)
    }

    @Test func portraitTilesStandUp() {
        let layout = StoryboardLayout(duration: 20, width: 240, height: 426)
        #expect((layout.tileWidth, layout.tileHeight) == (90, 160))
    }

    @Test func theWebVTTNamesEachTile() {
        let layout = StoryboardLayout(duration: 12.5, width: 426, height: 240)
        let lines = layout.webVTT.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "WEBVTT")
        #expect(lines.contains("00:00:00.000 --> 00:00:01.250"))
        #expect(lines.contains("storyboard_000.jpg#xywh=160,0,160,90"))
        #expect(lines.contains("00:00:11.250 --> 00:00:12.500"))
        #expect(StoryboardLayout.timestamp(3_723_004) == "01:02:03.004")
    }
}
