/// Where the audio rendition ends, in whole AAC frames, so that its last segment is never a sliver.
///
/// ffmpeg's AAC encoder writes one frame of priming before the audio and the HLS muxer cuts a new
/// segment at the first frame at or past each multiple of the segment length (counted from the
/// first frame). Audio that runs a few frames past the last boundary would end in a segment of
/// those few frames: a 30 s source gave a 0.021 s, 752-byte segment whose per-second rate (282
/// kbit/s, PAT and PMT included) is no rate a player sees, yet a measured peak counts it. So a
/// tail shorter than `shortestTail` is not encoded: the audio ends at the frame before that
/// boundary, at most `shortestTail` before the video.
struct AudioEnd: Sendable, Equatable {
    /// The audio rendition's rate (`-ar`) and AAC's frame length in samples.
    static let sampleRate = 48_000.0
    static let frameSamples = 1024.0
    static var frameSeconds: Double { frameSamples / sampleRate }
    /// The shortest last segment kept. At 128 kbit/s a TS segment of 9 frames or more stays
    /// under the full segments' rate plus 7 %; 12 frames is a quarter of a second.
    static let shortestTail = 0.25

    /// Frames of the source's audio that are encoded (the priming frame not counted).
    let frames: Int

    /// - Parameters:
    ///   - extent: the audio's measured extent, already cut at the video's end.
    ///   - segmentSeconds: the audio rendition's segment length.
    init(extent: Double, segmentSeconds: Double) {
        let frame = Self.frameSeconds
        var frames = max(1, Int((extent / frame - 1e-6).rounded(.up)))
        // Frame `frames` (0-based, after the priming frame) is the last one out.
        let lastStart = Double(frames) * frame
        let boundary = (lastStart / segmentSeconds + 1e-9).rounded(.down) * segmentSeconds
        let tail = Double(frames + 1) * frame - boundary
        if boundary > 0, tail < Self.shortestTail {
            frames = max(1, Int((boundary / frame - 1e-6).rounded(.up)) - 1)
        }
        self.frames = frames
    }

    init(probe: ProbeResult, segmentSeconds: Double) {
        self.init(extent: min(probe.audio?.duration ?? probe.duration, probe.duration), segmentSeconds: segmentSeconds)
    }

    /// The source audio encoded, in seconds.
    var seconds: Double { Double(frames) * Self.frameSeconds }

    /// The output `-t`: half a frame short of `seconds`, so that ffmpeg's rounding up to whole
    /// frames lands on `frames` exactly.
    var outputLength: Double { (Double(frames) - 0.5) * Self.frameSeconds }
}
