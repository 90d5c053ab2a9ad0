/// One rendition of the ladder.
public struct Rung: Codable, Sendable, Equatable, Hashable {
    /// Name used in paths and the master playlist, e.g. `720p` (the short side).
    public var name: String
    public var width: Int
    public var height: Int
    /// Output frame rate (frames per second).
    public var frameRate: Double
    /// `-maxrate` in bits per second (CRF is capped by it); `-bufsize` is twice this.
    public var maxBitRate: Int
    /// Whether the fps filter is needed (the source rate is halved on low rungs).
    public var halvesFrameRate: Bool
}

/// The adaptive ladder: 1080/720/480/360/240 on the short display side, never upscaled.
///
/// Bit-rate caps (per rung, at up to 30 fps; x1.5 above 30 fps), never above the source's own
/// video rate: 1080: 5 Mb/s, 720: 2.8 Mb/s, 480: 1.4 Mb/s, 360: 0.8 Mb/s, 240: 0.4 Mb/s.
/// Frame rate: kept on rungs >= 720 (halved while above 60); on lower rungs a source above 30 fps
/// is halved (60 -> 30, 50 -> 25).
public enum LadderPlanner {
    /// Target short sides, highest first.
    public static let shortSides = [1080, 720, 480, 360, 240]
    static let capsAt30fps = [1080: 5_000_000, 720: 2_800_000, 480: 1_400_000, 360: 800_000, 240: 400_000]

    /// Plans the rungs for `video`: highest first. A source under 240 gets one rung at its own size.
    public static func plan(for video: ProbeResult.Video) -> [Rung] {
        let shortSide = video.shortSide
        let longSide = max(video.displayWidth, video.displayHeight)
        var targets = shortSides.filter { $0 <= shortSide }
        var ownSize = false
        if targets.isEmpty {
            targets = [shortSide]
            ownSize = true
        }
        return targets.map { target in
            let short = ownSize ? floorEven(target) : target
            let long = ownSize ? floorEven(longSide) : nearestEven(Double(longSide) * Double(target) / Double(shortSide))
            let (frameRate, halved) = outputFrameRate(source: video.frameRate, shortSide: target)
            var cap = capsAt30fps[target] ?? capsAt30fps[240]!
            if frameRate > 31 { cap = cap * 3 / 2 }
            if let source = video.bitRate, source > 0 { cap = min(cap, max(source, 100_000)) }
            return Rung(
                name: "\(short)p",
                width: video.isPortrait ? short : long,
                height: video.isPortrait ? long : short,
                frameRate: frameRate,
                maxBitRate: cap,
                halvesFrameRate: halved
            )
        }
    }

    static func outputFrameRate(source: Double, shortSide: Int) -> (Double, Bool) {
        let ceiling = shortSide >= 720 ? 60.5 : 30.5
        var rate = source
        var halved = false
        while rate > ceiling {
            rate /= 2
            halved = true
        }
        return (rate, halved)
    }

    /// Nearest even number (x264 with 4:2:0 needs even sizes), at least 2.
    static func nearestEven(_ value: Double) -> Int { max(2, Int((value / 2).rounded()) * 2) }

    /// Even number at or below `value` (never upscale a source's own size), at least 2.
    static func floorEven(_ value: Int) -> Int { max(2, value / 2 * 2) }
}
