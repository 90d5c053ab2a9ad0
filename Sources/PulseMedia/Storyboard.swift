import Foundation

/// The scrubbing storyboard: sprite sheets of small frames and a WebVTT file whose cues tile the
/// whole video, each naming a rectangle of a sheet (`storyboard_000.jpg#xywh=x,y,w,h`, relative to
/// the VTT's own URL, so a signed asset's token path carries over as it does for playlists).
///
/// Cues: `duration / 10`, held between 1 and 5 s, so a video of 10 s or more has at least 10 cues
/// and none lasts more than 5 s; the last ends at the duration. Times are whole milliseconds
/// computed once per boundary, so consecutive cues share their boundary exactly: no gap, no overlap.
public struct StoryboardLayout: Sendable, Equatable {
    /// One cue: a span of the video and the tile that shows it.
    public struct Cue: Sendable, Equatable {
        public var startMilliseconds: Int
        public var endMilliseconds: Int
        public var sheet: Int
        public var x: Int
        public var y: Int
    }

    /// The longer side of a tile, in pixels.
    public static let tileLongSide = 160
    /// Tiles per row and rows per sheet at most: 100 frames a sheet (a few sheets for an hour).
    public static let maxColumns = 10
    public static let maxRows = 10

    public var tileWidth: Int
    public var tileHeight: Int
    public var columns: Int
    /// Rows of every sheet (the last may have empty tiles).
    public var rows: Int
    /// The span of each cue but the last.
    public var cueMilliseconds: Int
    public var cues: [Cue]

    /// The layout for a video of `duration` seconds whose frames are `width` x `height`.
    public init(duration: Double, width: Int, height: Int) {
        let total = max(1, Int((duration * 1000).rounded()))
        cueMilliseconds = min(5000, max(1000, total / 10))
        let count = (total + cueMilliseconds - 1) / cueMilliseconds
        let long = Self.tileLongSide
        let landscape = width >= height
        let short = Self.even(Double(long) * Double(min(width, height)) / Double(max(max(width, height), 1)))
        (tileWidth, tileHeight) = landscape ? (long, short) : (short, long)
        let (span, columns) = (cueMilliseconds, min(Self.maxColumns, count))
        let rows = min(Self.maxRows, (count + columns - 1) / columns)
        (self.columns, self.rows) = (columns, rows)
        cues = (0..<count).map { index in
            let slot = index % (columns * rows)
            return Cue(
                startMilliseconds: index * span, endMilliseconds: min((index + 1) * span, total),
                sheet: index / (columns * rows), x: slot % columns, y: slot / columns)
        }
    }

    /// How many sprite sheets the cues use.
    public var sheetCount: Int { (cues.last?.sheet ?? 0) + 1 }

    /// The WebVTT's file name; the sheets lie beside it.
    public static let fileName = "storyboard.vtt"

    /// The file name of sheet `index`.
    public static func sheetName(_ index: Int) -> String { String(format: "storyboard_%03d.jpg", index) }

    /// The WebVTT file: one cue per tile, in order.
    public var webVTT: String {
        var text = "WEBVTT\n"
        for cue in cues {
            text += "\n\(Self.timestamp(cue.startMilliseconds)) --> \(Self.timestamp(cue.endMilliseconds))\n"
            text += "\(Self.sheetName(cue.sheet))#xywh=\(cue.x * tileWidth),\(cue.y * tileHeight),\(tileWidth),\(tileHeight)\n"
        }
        return text
    }

    static func timestamp(_ milliseconds: Int) -> String {
        let (hours, rest) = milliseconds.quotientAndRemainder(dividingBy: 3_600_000)
        let (minutes, rest2) = rest.quotientAndRemainder(dividingBy: 60_000)
        let (seconds, millis) = rest2.quotientAndRemainder(dividingBy: 1000)
        return String(format: "%02d:%02d:%02d.%03d", hours, minutes, seconds, millis)
    }

    private static func even(_ value: Double) -> Int { max(2, Int((value / 2).rounded()) * 2) }
}

extension MediaPipeline {
    /// The storyboard of a finished ladder, made from its work rather than a second pass over the
    /// source: the lowest rung's segments (cheap to decode) are read back from `output` into
    /// `staging` (a fresh scratch folder, removed here), drawn into sprite sheets by one ffmpeg,
    /// and stored in `output`: the sheets first and the WebVTT that names them last, so a stored
    /// VTT always has its sheets. The same step for `transcode` and the job system's finalize.
    public func storyboard(
        of plan: PipelinePlan, results: [UnitResult], duration: Double, output: some TranscodeOutput, staging: String
    ) async throws -> StoryboardLayout {
        guard let lowest = plan.rungs.min(by: { $0.width * $0.height < $1.width * $1.height }) else {
            throw MediaError(.outputMissing, "the plan has no rungs")
        }
        try FileSystem.makeDirectory(staging)
        defer { FileSystem.remove(staging) }
        let video = "\(staging)/\(lowest.name).ts"
        try await RenditionJoiner(output: output).join(results.segments(of: lowest.name), rendition: lowest.name, into: video)
        let layout = StoryboardLayout(duration: duration, width: lowest.width, height: lowest.height)
        let sheets = try await storyboardSheets(video: video, layout: layout, duration: duration, folder: "\(staging)/sheets")
        for sheet in sheets {
            try await output.storeFile(at: sheet, as: (sheet as NSString).lastPathComponent, contentType: ContentType.jpeg)
        }
        try await output.storeText(layout.webVTT, as: StoryboardLayout.fileName, contentType: ContentType.webVTT)
        return layout
    }

    /// Draws the sprite sheets of `layout` from `video` (a rendition's segments joined into one
    /// MPEG-TS file: the ladder's lowest rung, already encoded and cheap to decode) into `folder`,
    /// as `storyboard_000.jpg`, ...: the frame at the start of each cue, scaled to a tile. One
    /// ffmpeg, one decode. Returns the sheets' paths, checked to be all there.
    public func storyboardSheets(video: String, layout: StoryboardLayout, duration: Double, folder: String) async throws -> [String] {
        try FileSystem.makeDirectory(folder)
        let filter = [
            "setpts=PTS-STARTPTS",
            // `eof_action=pass`: a video shorter than one cue still gives its one frame (the
            // filter's default drops a last frame that does not reach the next output time).
            "fps=1000/\(layout.cueMilliseconds):round=down:eof_action=pass",
            "scale=\(layout.tileWidth):\(layout.tileHeight):flags=bilinear",
            "tile=\(layout.columns)x\(layout.rows)",
        ].joined(separator: ",")
        let arguments = [
            "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-y", "-i", video, "-map", "0:v:0", "-an",
            "-vf", filter, "-frames:v", "\(layout.sheetCount)", "-c:v", "mjpeg", "-q:v", "5", "-start_number", "0",
            "-f", "image2", "\(folder)/storyboard_%03d.jpg",
        ]
        // Decoding a small rung runs many times faster than real time.
        let deadline = configuration.probeTimeout + .seconds(duration / 4)
        let outcome = try await ToolRunner(logger: logger).run(configuration.ffmpegPath, arguments, deadline: deadline)
        // Our own segments: a failure here is never the uploader's input, so it is retried.
        guard outcome.succeeded else { throw MediaError(.encoderFailed, "drawing the storyboard failed: \(outcome.stderrTail)") }
        let sheets = (0..<layout.sheetCount).map { "\(folder)/\(StoryboardLayout.sheetName($0))" }
        for sheet in sheets where (FileSystem.fileSize(sheet) ?? 0) == 0 {
            throw MediaError(.outputMissing, "the storyboard has no \((sheet as NSString).lastPathComponent)")
        }
        return sheets
    }
}
