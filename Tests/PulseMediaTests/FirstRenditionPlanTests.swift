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

    @Test func leadInIsThreeKeyframeIntervalsOfShortSegmentsThenFullOnes() {
        let schedule = SegmentSchedule(settings: settings)
        #expect(schedule.leadInCount == 6 && schedule.leadInSegmentSeconds == 1 && schedule.leadInEnd == 6)
        #expect((0...8).map(schedule.start(ofSegment:)) == [0, 1, 2, 3, 4, 5, 6, 16, 26])
        #expect(schedule.targetDuration == 10)
        #expect(schedule.segmentCount(for: 4.5) == 5)
        #expect(schedule.segmentCount(for: 30) == 9)  // 6 short, 10, 10, then 4
        // The planned list: the last segment ends at the measured end; a tail under 50 ms (less
        // than a frame, which the encoder may or may not cut apart) stays in the one before.
        #expect(schedule.plannedSegments(duration: 30).map(\.duration) == [1, 1, 1, 1, 1, 1, 10, 10, 4])
        #expect(schedule.plannedSegments(duration: 26.02).map(\.duration).last.map { abs($0 - 10.02) < 1e-9 } == true)
        #expect(schedule.plannedSegments(duration: 26.02).count == 8)
        #expect(schedule.plannedSegments(duration: 2.5).map(\.duration) == [1, 1, 0.5])
        // The lead-in's segments are never longer than a keyframe interval, nor its length other
        // than three intervals.
        var short = settings
        short.keyframeIntervalSeconds = 0.5
        #expect(SegmentSchedule(settings: short) == SegmentSchedule(leadInSegmentSeconds: 0.5, leadInCount: 3, segmentSeconds: 10))
        var long = settings
        long.leadInSegmentSeconds = 2
        #expect(SegmentSchedule(settings: long) == SegmentSchedule(leadInSegmentSeconds: 2, leadInCount: 3, segmentSeconds: 10))
    }

    @Test func planStartsWithTheFirstRenditionThenTheRestOfTheLadderOnTheSameBoundaries() throws {
        let plan = PipelinePlan(probe: probe(1920, 1080, duration: 185, audio: true), chunkSeconds: 60, settings: settings)
        #expect(plan.firstRendition == "360p")
        #expect(plan.units.map(\.kind) == [.first, .video, .video, .video, .video])
        // The lead-in [0, 6) alone in 1 s segments, then 60 s chunks of 10 s segments from 6 s.
        #expect(plan.units.dropFirst().map(\.range.start) == [0, 6, 66, 126])
        #expect(plan.units.dropFirst().map(\.range.end) == [6, 66, 126, nil])
        #expect(plan.units.dropFirst().map(\.range.firstSegment) == [0, 6, 12, 18])
        #expect(plan.units.dropFirst().map(\.range.segmentSeconds) == [1, 10, 10, 10])
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
        let short = PipelinePlan(probe: probe(1280, 720, duration: 5), chunkSeconds: 60, settings: settings)
        #expect(short.units.map(\.kind) == [.first, .video])
        #expect(short.units[1].range == MediaRange(start: 0, end: nil, firstSegment: 0, segmentSeconds: 1))
    }

    @Test func plansStoredBeforeTheFirstRenditionStillDecode() throws {
        // A plan of the older layout: no firstRendition, no schedule, no per-range length.
        let old = #"{"rungs":[{"name":"240p","width":426,"height":240,"frameRate":30,"maxBitRate":400000,"halvesFrameRate":false}],"segmentSeconds":10,"units":[{"index":0,"kind":"videoAndAudio","range":{"firstSegment":0,"start":0}}]}"#
        let plan = try JSONDecoder().decode(PipelinePlan.self, from: Data(old.utf8))
        #expect(plan.firstRendition == nil)
        #expect(plan.segmentSchedule == .uniform(10))
        #expect(plan.rungs(for: plan.units[0]).map(\.name) == ["240p"])
        // Read into the one model: a video unit that carries the audio, checkpointed as video-0.
        #expect(plan.units == [WorkUnit(kind: .video, index: 0, range: MediaRange(start: 0, end: nil, firstSegment: 0), includesAudio: true)])
        #expect(plan.units[0].id.description == "video-0")
    }

    @Test func withoutAFirstRenditionTheSamePlannerPlansTheLadderAlone() {
        let plan = PipelinePlan(probe: probe(1280, 720, duration: 185, audio: true), chunkSeconds: 60, settings: settings, firstRendition: false)
        #expect(plan.firstRendition == nil && plan.schedule == nil)
        #expect(plan.units.map(\.kind) == [.video, .video, .video, .audio])
        #expect(plan.units.map(\.range.firstSegment) == [0, 6, 12, 0])
        #expect(plan.rungs(for: plan.units[0]) == plan.rungs)
        let whole = PipelinePlan(probe: probe(1280, 720, duration: 185, audio: true), chunkSeconds: nil, settings: settings, firstRendition: false)
        #expect(whole.units.count == 1 && whole.units[0].includesAudio)
    }

    @Test func theFirstRenditionResumesAtTheNextSegmentBoundary() {
        let schedule = SegmentSchedule(settings: settings)
        let rung = Rung(name: "360p", width: 640, height: 360, frameRate: 30, maxBitRate: 800_000, halvesFrameRate: false)
        let fresh = HLSEncoder.firstRenditionPasses(rung: rung, schedule: schedule, from: 0, duration: 60)
        #expect(fresh.map(\.range) == [
            MediaRange(start: 0, end: 6, firstSegment: 0, segmentSeconds: 1),
            MediaRange(start: 6, end: nil, firstSegment: 6, segmentSeconds: 10),
        ])
        // Killed after 4 stored segments: the lead-in goes on from 4 s.
        let midLeadIn = HLSEncoder.firstRenditionPasses(rung: rung, schedule: schedule, from: 4, duration: 60)
        #expect(midLeadIn.map(\.range.start) == [4, 6])
        #expect(midLeadIn.map(\.range.firstSegment) == [4, 6])
        // After 7: from 16 s, full segments only.
        let later = HLSEncoder.firstRenditionPasses(rung: rung, schedule: schedule, from: 7, duration: 60)
        #expect(later.map(\.range) == [MediaRange(start: 16, end: nil, firstSegment: 7, segmentSeconds: 10)])
        // Everything stored: nothing left.
        #expect(HLSEncoder.firstRenditionPasses(rung: rung, schedule: schedule, from: 12, duration: 60).isEmpty)
        // A 5 s video is all lead-in: one pass to the end.
        #expect(HLSEncoder.firstRenditionPasses(rung: rung, schedule: schedule, from: 0, duration: 5).map(\.range) == [
            MediaRange(start: 0, end: nil, firstSegment: 0, segmentSeconds: 1),
        ])
    }

    @Test func playlistsKeepThePlannedTargetDuration() {
        // The lead-in alone (2 s segments) states the target of the 10 s segments that follow.
        let segments = (0..<3).map { SegmentRecord(fileName: String(format: "seg_%05d.ts", $0), sequence: $0, duration: 2, bytes: 1000) }
        let planned = PlaylistWriter.mediaPlaylist(segments, targetDuration: 10)
        #expect(planned.contains("#EXT-X-TARGETDURATION:10\n") && planned.contains("#EXT-X-PLAYLIST-TYPE:VOD\n"))
        #expect(planned.hasSuffix("seg_00002.ts\n#EXT-X-ENDLIST\n"))
        #expect(PlaylistWriter.mediaPlaylist(segments).contains("#EXT-X-TARGETDURATION:2\n"))  // measured, as before
    }

    @Test func theFirstRenditionIsListedWholeFromTheStartAndPlaysOnceItsFirstSegmentsAreStored() {
        let probe = probe(1920, 1080, duration: 33, audio: true)
        let plan = PipelinePlan(probe: probe, chunkSeconds: 60, settings: settings)
        let pipeline = MediaPipeline(configuration: MediaConfiguration(), logger: .init(label: "test"))
        let planned = pipeline.plannedFirstRendition(of: plan, probe: probe)
        #expect(planned["360p"]?.map(\.duration) == [1, 1, 1, 1, 1, 1, 10, 10, 7])
        #expect(planned["360p"]?.map(\.fileName) == (0..<9).map { String(format: "seg_%05d.ts", $0) })
        #expect(planned["audio"]?.map(\.duration) == [10, 10, 10, 3])
        func seg(_ n: Int, _ d: Double) -> SegmentRecord { SegmentRecord(fileName: String(format: "seg_%05d.ts", n), sequence: n, duration: d, bytes: 1) }
        var stored = StoredSegments()
        #expect(!pipeline.isPlayable(stored, of: plan, probe: probe))
        stored.add(seg(0, 1), to: "360p")
        stored.add(seg(0, 1), to: "360p")  // handed over again after a crash: recorded once
        #expect(stored.segments["360p"]?.count == 1)
        #expect(!pipeline.isPlayable(stored, of: plan, probe: probe))  // no audio yet
        stored.add(seg(0, 10.005), to: "audio")
        #expect(pipeline.isPlayable(stored, of: plan, probe: probe))
    }
}
