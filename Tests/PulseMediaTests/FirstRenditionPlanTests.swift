import Foundation
@testable import PulseMedia
import Testing

@Suite("First rendition: segment schedule and plan")
struct FirstRenditionPlanTests {
    let settings = EncodingSettings()  // 10 s segments, keyframes every 2 s

    func probe(_ width: Int, _ height: Int, duration: Double, audio: Bool = false) -> ProbeResult {
        ProbeResult(
            container: "mov,mp4", duration: duration, declaredDuration: duration, startTime: 0, bitRate: nil,
            video: .init(codec: "h264", profile: nil, pixelFormat: "yuv420p", bitDepth: 8, codedWidth: width, codedHeight: height,
                         displayWidth: width, displayHeight: height, rotation: 0, frameRate: 30, bitRate: nil, colorTransfer: nil),
            audio: audio ? .init(duration: duration, codec: "aac", channels: 2, sampleRate: 48000, bitRate: nil) : nil)
    }

    @Test func leadInCoversOneTargetDurationAndMoreInShortSegments() {
        let schedule = SegmentSchedule(settings: settings)
        // 6 segments of 2 s: 12 s, more than the 10 s a native player waits before reloading.
        #expect(schedule.leadInCount == 6)
        #expect(schedule.leadInEnd == 12)
        #expect((0...8).map(schedule.start(ofSegment:)) == [0, 2, 4, 6, 8, 10, 12, 22, 32])
        #expect(schedule.targetDuration == 10)
        #expect(schedule.segmentCount(for: 5) == 3)
        #expect(schedule.segmentCount(for: 12) == 6)
        #expect(schedule.segmentCount(for: 30) == 8)  // 6 short, 10, then 8
        // Never fewer than 3 lead-in segments (Chromium refuses an open playlist with fewer).
        var long = settings
        long.segmentSeconds = 2
        #expect(SegmentSchedule(settings: long).leadInCount == 3)
    }

    @Test func planStartsWithTheFirstRenditionThenTheRestOfTheLadderOnTheSameBoundaries() throws {
        let plan = PipelinePlan(probe: probe(1920, 1080, duration: 185, audio: true), chunkSeconds: 60, settings: settings)
        #expect(plan.firstRendition == "360p")
        #expect(plan.units.map(\.kind) == [.first, .video, .video, .video, .video])
        // The lead-in [0, 12) alone in 2 s segments, then 60 s chunks of 10 s segments from 12 s.
        #expect(plan.units.dropFirst().map(\.range.start) == [0, 12, 72, 132])
        #expect(plan.units.dropFirst().map(\.range.end) == [12, 72, 132, nil])
        #expect(plan.units.dropFirst().map(\.range.firstSegment) == [0, 6, 12, 18])
        #expect(plan.units.dropFirst().map(\.range.segmentSeconds) == [2, 10, 10, 10])
        // The first rendition is not encoded again with the ladder.
        #expect(plan.rungs(for: plan.units[0]).map(\.name) == ["360p"])
        #expect(plan.rungs(for: plan.units[1]).map(\.name) == ["1080p", "720p", "480p", "240p"])
        // Stored with the asset: decodes to the same plan.
        let decoded = try JSONDecoder().decode(PipelinePlan.self, from: JSONEncoder().encode(plan))
        #expect(decoded == plan)
    }

    @Test func aSmallSourceIsItsOwnFirstRenditionAndAShortOneIsAllLeadIn() {
        let tiny = PipelinePlan(probe: probe(160, 120, duration: 30), chunkSeconds: 60, settings: settings)
        #expect(tiny.units.map(\.kind) == [.first])
        #expect(tiny.firstRendition == tiny.rungs[0].name)
        let short = PipelinePlan(probe: probe(1280, 720, duration: 7), chunkSeconds: 60, settings: settings)
        #expect(short.units.map(\.kind) == [.first, .video])
        #expect(short.units[1].range == MediaRange(start: 0, end: nil, firstSegment: 0, segmentSeconds: 2))
    }

    @Test func plansStoredBeforeTheFirstRenditionStillDecode() throws {
        // A plan as issue 9's code stored it: no firstRendition, no schedule, no per-range length.
        let old = #"{"rungs":[{"name":"240p","width":426,"height":240,"frameRate":30,"maxBitRate":400000,"halvesFrameRate":false}],"segmentSeconds":10,"units":[{"index":0,"kind":"videoAndAudio","range":{"firstSegment":0,"start":0}}]}"#
        let plan = try JSONDecoder().decode(PipelinePlan.self, from: Data(old.utf8))
        #expect(plan.firstRendition == nil)
        #expect(plan.segmentSchedule == .uniform(10))
        #expect(plan.rungs(for: plan.units[0]).map(\.name) == ["240p"])
    }

    @Test func theFirstRenditionResumesAtTheNextSegmentBoundary() {
        let schedule = SegmentSchedule(settings: settings)
        let rung = Rung(name: "360p", width: 640, height: 360, frameRate: 30, maxBitRate: 800_000, halvesFrameRate: false)
        let fresh = HLSEncoder.firstRenditionPasses(rung: rung, schedule: schedule, from: 0, duration: 60)
        #expect(fresh.map(\.range) == [
            MediaRange(start: 0, end: 12, firstSegment: 0, segmentSeconds: 2),
            MediaRange(start: 12, end: nil, firstSegment: 6, segmentSeconds: 10),
        ])
        // Killed after 4 stored segments: the lead-in goes on from 8 s.
        let midLeadIn = HLSEncoder.firstRenditionPasses(rung: rung, schedule: schedule, from: 4, duration: 60)
        #expect(midLeadIn.map(\.range.start) == [8, 12])
        #expect(midLeadIn.map(\.range.firstSegment) == [4, 6])
        // After 7: from 22 s, full segments only.
        let later = HLSEncoder.firstRenditionPasses(rung: rung, schedule: schedule, from: 7, duration: 60)
        #expect(later.map(\.range) == [MediaRange(start: 22, end: nil, firstSegment: 7, segmentSeconds: 10)])
        // Everything stored: nothing left.
        #expect(HLSEncoder.firstRenditionPasses(rung: rung, schedule: schedule, from: 11, duration: 60).isEmpty)
        // A 9 s video is all lead-in: one pass to the end.
        #expect(HLSEncoder.firstRenditionPasses(rung: rung, schedule: schedule, from: 0, duration: 9).map(\.range) == [
            MediaRange(start: 0, end: nil, firstSegment: 0, segmentSeconds: 2),
        ])
    }

    @Test func eventPlaylistsKeepThePlannedTargetAndCloseWithEndlist() {
        let segments = (0..<3).map { SegmentRecord(fileName: String(format: "seg_%05d.ts", $0), sequence: $0, duration: 2, bytes: 1000) }
        let open = PlaylistWriter.mediaPlaylist(segments, targetDuration: 10, open: true)
        #expect(open.contains("#EXT-X-TARGETDURATION:10\n"))
        #expect(open.contains("#EXT-X-PLAYLIST-TYPE:EVENT\n"))
        #expect(!open.contains("#EXT-X-ENDLIST"))
        let closed = PlaylistWriter.mediaPlaylist(segments, targetDuration: 10)
        #expect(closed.contains("#EXT-X-TARGETDURATION:10\n"))
        #expect(closed.hasSuffix("seg_00002.ts\n#EXT-X-ENDLIST\n"))
        // The closed playlist only adds to the open one (bar the type): a player keeps its URLs.
        #expect(closed.replacingOccurrences(of: "VOD", with: "EVENT").hasPrefix(open))
    }

    @Test func playableNeedsTheLeadInOfVideoAndAudioOrTheWholeRendition() {
        let probe = probe(1920, 1080, duration: 60, audio: true)
        let plan = PipelinePlan(probe: probe, chunkSeconds: 60, settings: settings)
        let pipeline = MediaPipeline(configuration: MediaConfiguration(), logger: .init(label: "test"))
        func seg(_ n: Int, _ d: Double) -> SegmentRecord { SegmentRecord(fileName: String(format: "seg_%05d.ts", n), sequence: n, duration: d, bytes: 1) }
        var stored = StoredSegments()
        for n in 0..<5 { stored.add(seg(n, 2), to: "360p") }
        stored.add(seg(0, 10), to: "audio"); stored.add(seg(1, 10), to: "audio"); stored.add(seg(2, 10), to: "audio")
        #expect(!pipeline.isPlayable(stored, of: plan, probe: probe, complete: false))  // 10 s of video
        stored.add(seg(5, 2), to: "360p")
        stored.add(seg(5, 2), to: "360p")  // handed over again after a crash: recorded once
        #expect(stored.segments["360p"]?.count == 6)
        #expect(pipeline.isPlayable(stored, of: plan, probe: probe, complete: false))
        stored.segments["audio"] = [seg(0, 10)]
        #expect(!pipeline.isPlayable(stored, of: plan, probe: probe, complete: false))  // audio behind
        #expect(pipeline.isPlayable(stored, of: plan, probe: probe, complete: true))
    }
}
