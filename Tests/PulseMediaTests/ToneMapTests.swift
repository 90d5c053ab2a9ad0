import Foundation
@testable import PulseMedia
import PulseTestSupport
import Testing

/// HDR (HLG and PQ) sources come out as SDR BT.709 whose colours match the float reference tone map
/// (`ToneMap.exact` on the whole frame, the one curve both paths come from).
///
/// Colour is compared on the average of each 8x8 block, per RGB channel in 8-bit units, so that the
/// x264 encode's own loss (fine detail, at CRF 23 and the rung's rate cap, here the clips' own
/// ~0.3 Mb/s) mostly averages out and a colour shift does not. A rendition is compared at five
/// instants half a second apart, pooled: the encode's loss on one frame depends on where the frame
/// falls in its keyframe interval (from 1.4 to 3.7 mean on the same clip), a colour shift does not.
/// Tolerance: mean difference <= 4 and 99th percentile <= 15 in the worst channel. Most of it is
/// the encode's own loss: the first rendition runs the reference curve itself, and still measures
/// up to 3.5 and 13.6 on these clips. A frame whose BT.2020 HLG pixels were shown as BT.709 (washed
/// out, no tone map) is far outside it (13.8 mean, checked below, so the comparison can fail).
/// Measured figures are in BENCHMARKS.md.
@Suite("Tone map", .serialized)
struct ToneMapTests {
    static let meanTolerance = 4.0
    static let p99Tolerance = 15.0
    static let sources = ["hdr_hlg_portrait.mov", "hdr_pq_phone.mov"]

    @Test(arguments: sources)
    func ladderRungMatchesTheFloatReference(_ name: String) async throws {
        let source = try TestMedia.path(name)
        // The whole ladder in one pass: every rung split from one LUT tone map.
        let (root, result, _) = try await transcode(source)
        defer { FileSystem.remove(root) }
        #expect(result.rungs.count > 1)
        let rung = try #require(result.rungs.first)
        try await expectSDRTags("\(root)/\(rung.name)/seg_00000.ts")
        let toneMap = try #require(ToneMap(result.probe.video))
        let difference = try await compare(rendition: "\(root)/\(rung.name)/index.m3u8", source: source, toneMap: toneMap, rung: rung)
        #expect(difference.mean <= Self.meanTolerance, "\(name) \(rung.name): \(difference)")
        #expect(difference.p99 <= Self.p99Tolerance, "\(name) \(rung.name): \(difference)")
    }

    @Test(arguments: sources)
    func firstRenditionMatchesTheFloatReference(_ name: String) async throws {
        let source = try TestMedia.path(name)
        // One rung per pass: scaled first, then the float curve at the rung's size.
        let (root, result, _) = try await transcode(source, firstRendition: true)
        defer { FileSystem.remove(root) }
        let toneMap = try #require(ToneMap(result.probe.video))
        for rung in result.rungs {
            try await expectSDRTags("\(root)/\(rung.name)/seg_00000.ts")
            let difference = try await compare(rendition: "\(root)/\(rung.name)/index.m3u8", source: source, toneMap: toneMap, rung: rung)
            #expect(difference.mean <= Self.meanTolerance, "\(name) \(rung.name): \(difference)")
            #expect(difference.p99 <= Self.p99Tolerance, "\(name) \(rung.name): \(difference)")
        }
        // The thumbnail (full-range JPEG at 1 s) is the same picture.
        let width = result.probe.video.displayWidth, height = result.probe.video.displayHeight
        // Read with the BT.709 coefficients the pipeline writes into it (full range).
        let thumbnail = try await rgbFrame(["-i", "\(root)/thumbnail.jpg"], filter: "scale=in_color_matrix=bt709:in_range=pc,format=rgb24", width: width, height: height)
        let reference = try await rgbFrame(["-ss", "1", "-i", source], filter: "\(toneMap.exact),\(toRGB)", width: width, height: height)
        let difference = FrameDifference(thumbnail, reference, width: width)
        #expect(difference.mean <= Self.meanTolerance && difference.p99 <= Self.p99Tolerance, "\(name) thumbnail: \(difference)")
    }

    @Test func withoutTheToneMapTheColoursAreOutsideTheTolerance() async throws {
        let source = try TestMedia.path("hdr_hlg_portrait.mov")
        let (width, height) = (360, 640)
        let reference = try await rgbFrame(["-ss", "1.02", "-i", source], filter: "\(ToneMap(transfer: .hlg).exact),\(toRGB)", width: width, height: height)
        // The BT.2020 HLG pixels shown as if they were BT.709: washed out.
        let untouched = try await rgbFrame(["-ss", "1.02", "-i", source], filter: "scale=in_color_matrix=bt2020:in_range=tv,format=rgb24", width: width, height: height)
        let difference = FrameDifference(untouched, reference, width: width)
        #expect(difference.mean > Self.meanTolerance * 2, "\(difference)")
    }

    /// The HLG clip is its SDR twin's picture placed in HDR as BT.2408 places SDR (SDR white at
    /// reference white), so below the curve's knee the tone map gives the twin back: compared on
    /// 8x8 blocks of the float reference whose twin block is darker than 120 of 255, worst channel,
    /// mean <= 7 (measured 5.3: the two sources' own encodes differ), and the whole picture's mean
    /// within 8 of the twin's (measured 4.8 darker). A curve that darkens the SDR range fails
    /// both: `hable` at SDR white 100 cd/m2 measured 13.0 and 17.6.
    @Test func sdrContentPlacedInHLGComesBackAsItsSDRTwin() async throws {
        let (hdr, twin) = try (TestMedia.path("hdr_hlg_portrait.mov"), TestMedia.path("sdr_twin_portrait.mp4"))
        let (width, height) = (360, 640)
        var (darkDifferences, hdrSum, twinSum) = ([Double](), 0.0, 0.0)
        for time in ["0.52", "1.02", "1.52", "2.02", "2.52"] {
            let mapped = try await rgbFrame(["-ss", time, "-i", hdr], filter: "\(ToneMap(transfer: .hlg).exact),\(toRGB)", width: width, height: height)
            let original = try await rgbFrame(["-ss", time, "-i", twin], filter: toRGB, width: width, height: height)
            hdrSum += mapped.reduce(0.0) { $0 + Double($1) } / Double(mapped.count)
            twinSum += original.reduce(0.0) { $0 + Double($1) } / Double(original.count)
            for (a, b) in zip(FrameDifference.blockMeans(mapped, width: width), FrameDifference.blockMeans(original, width: width))
            where b.reduce(0, +) / 3 < 120 {
                darkDifferences.append((0..<3).map { abs(a[$0] - b[$0]) }.max()!)
            }
        }
        let dark = darkDifferences.reduce(0, +) / Double(darkDifferences.count)
        #expect(darkDifferences.count > 1000 && dark <= 7, "\(darkDifferences.count) dark blocks, mean difference \(dark)")
        #expect(abs(hdrSum - twinSum) / 5 <= 8, "mean level \(hdrSum / 5) against the twin's \(twinSum / 5)")
    }

    @Test func theGraphToneMapsOnceBeforeTheSplitAndSDRIsUntouched() throws {
        var video = sdrVideo
        let sdrGraph = HLSArguments.filterGraph(probe: probe(video), rungs: LadderPlanner.plan(for: video))
        #expect(!sdrGraph.contains("zscale") && !sdrGraph.contains("lut3d"))
        video.colorTransfer = "arib-std-b67"
        let rungs = LadderPlanner.plan(for: video)
        let lut = ToneMapLUT.Made(cube: "/tmp/x.cube", curve: [0.1, 0.5, 0.9])
        let ladder = HLSArguments.filterGraph(probe: probe(video), rungs: rungs, toneMapLUT: lut)
        #expect(ladder.components(separatedBy: "lut3d=file=/tmp/x.cube").count == 2)
        #expect(ladder.range(of: "lut3d")!.lowerBound < ladder.range(of: "split=\(rungs.count)")!.lowerBound)
        #expect(!ladder.contains("tonemap="))
        // The LUT at chroma resolution (half each way), the curve on every pixel's luma.
        #expect(ladder.hasPrefix("[0:v:0]scale=1920:1080:flags=bicubic,format=yuv420p10le,split[tmfull][tmhalf]"))
        #expect(ladder.contains("[tmhalf]scale=960:540:flags=area") && ladder.contains("[tmcorrection]scale=1920:1080"))
        #expect(ladder.contains("lut2=c0='\(ToneMap.correctedLuma(lut.curve))':d=8"))
        // A 4K source is scaled to the top rung (1080p) before the tone map.
        video.displayWidth = 3840
        video.displayHeight = 2160
        let large = HLSArguments.filterGraph(probe: probe(video), rungs: Array(rungs.prefix(2)), toneMapLUT: lut)
        #expect(large.hasPrefix("[0:v:0]scale=1920:1080:flags=bicubic,format=yuv420p10le,split[tmfull][tmhalf];[tmhalf]scale=960:540"))
        // The LUT works on the Y'CbCr planes: no RGB matrix in the ladder's chain.
        #expect(!ladder.contains("gbrpf32le") && !ladder.contains("zscale=m="))
        // A frame of odd size cannot be halved evenly at 4:2:0: the float curve.
        video.displayWidth = 1000
        video.displayHeight = 563
        var top = rungs[0]
        (top.width, top.height) = (1000, 563)
        let odd = HLSArguments.filterGraph(probe: probe(video), rungs: [top] + rungs.suffix(2), toneMapLUT: lut)
        let exact = ToneMap(transfer: .hlg).exact
        #expect(odd.hasPrefix("[0:v:0]\(exact),split=3"))
        // One small rung: scaled first, then the float curve.
        let first = HLSArguments.filterGraph(probe: probe(video), rungs: [rungs[3]])
        #expect(first.hasPrefix("[0:v:0]scale=\(rungs[3].width):\(rungs[3].height):flags=bicubic,\(exact)"))
    }

    @Test func theLumaIsTheCurveOnGreyPlusTheCorrection() async throws {
        let curve = [0.0, 0.25, 1.0]
        // Evaluated by ffmpeg itself, as the ladder runs it: `lut2` over rows of one 8-bit
        // correction each (x) and a 10-bit grey ramp (y).
        let corrections = [128, 100, 200]
        let path = NSTemporaryDirectory() + "pulse-luma-\(UUID().uuidString).raw"
        defer { FileSystem.remove(path) }
        let rows = corrections.enumerated().map { "eq(Y,\($0.offset))*\($0.element)" }.joined(separator: "+")
        let graph = "color=black:s=1024x3:d=1,format=gray,geq=lum='\(rows)'[x];"
            + "color=black:s=1024x3:d=1,format=gray10le,geq=lum='X'[y];"
            + "[x][y]lut2=c0='\(ToneMap.correctedLuma(curve))':d=8"
        let run = try await shell("ffmpeg", ["-nostdin", "-v", "error", "-y", "-filter_complex", graph,
                                             "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", path])
        try #require(run.status == 0, "ffmpeg: \(run.err)")
        let values = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        try #require(values.count == 1024 * 3)
        // The curve's values are fractions of the 16-bit range: knots at 0, half and all of it
        // (1023.98 in 10-bit units, 255.996 in 8-bit ones), shifted by the correction, in range.
        let (knot, full) = (65535.0 / 128, 65535.0 / 256)
        func onGrey(_ input: Double) -> Double { (input <= knot ? 0.25 * input / knot : 0.25 + 0.75 * (input - knot) / knot) * full }
        for (row, correction) in corrections.enumerated() {
            for input in [0, 100, 400, 700, 1000, 1023] {
                let want = min(max((onGrey(Double(input)) + Double(correction - 128)).rounded(), 0), 255)
                let got = Double(values[row * 1024 + input])
                #expect(abs(got - want) <= 0.5, "y \(input), correction \(correction): \(got), expected \(want)")
            }
        }
    }

    @Test(arguments: ToneMap.Transfer.allCases)
    func theLUTIsSampledFromTheCurveOnceAndKept(_ transfer: ToneMap.Transfer) async throws {
        let folder = temporaryDirectory("pulse-tonemap")
        defer { FileSystem.remove(folder) }
        let lut = lutCache(folder)
        let made = try await lut.cube(for: ToneMap(transfer: transfer))
        let path = made.cube
        let text = try #require(FileSystem.read(path))
        let lines = text.split(separator: "\n")
        let size = ToneMap.cubeSize
        #expect(lines.first == "LUT_3D_SIZE \(size)")
        #expect(lines.count == 1 + size * size * size)
        // Along Y' (the LUT's green axis) at the grid points of neutral Cb and Cr (blue, red, the
        // middle of the odd grid): the output stays grey (Cb and Cr half an 8-bit step up, 0.002),
        // and its luma is the curve on grey, so the correction is none (0.5). The curve gets
        // brighter along Y'. So the planes are read and written in the order `ToneMap.lookup` uses.
        let middle = size / 2
        let greys = (size / 8..<size * 7 / 8).map { y in
            lines[1 + middle + y * size + middle * size * size].split(separator: " ").compactMap { Double($0) }
        }
        #expect(greys.allSatisfy { $0.count == 3 && abs($0[0] - 0.502) < 0.01 && abs($0[1] - 0.5) < 1e-6 && abs($0[2] - 0.502) < 0.01 }, "\(greys)")
        #expect(made.curve.count == size)
        let rising = made.curve[size / 8..<size * 7 / 8]
        #expect(zip(rising, rising.dropFirst()).allSatisfy { $0 < $1 }, "\(made.curve)")
        // Made once: a second call finds the file and leaves it as it is.
        let modified = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date
        #expect(try await lut.cube(for: ToneMap(transfer: transfer)) == made)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date == modified)
    }

    /// Grey through the ladder's LUT path against the float curve, on a 10-bit ramp over the whole
    /// limited range, both in one graph: the grid has points at neutral, so grey comes out as the
    /// curve on grey, joined by straight lines between the 65 points along Y'. Tolerance: 2 steps
    /// (8-bit) at any level and 0.25 on average; measured 1 and at most 0.04. A grid that straddled
    /// neutral made bright greys up to 16 steps dark.
    @Test(arguments: ToneMap.Transfer.allCases)
    func greyThroughTheLUTIsTheFloatCurve(_ transfer: ToneMap.Transfer) async throws {
        let folder = temporaryDirectory("pulse-tonemap")
        defer { FileSystem.remove(folder) }
        let toneMap = ToneMap(transfer: transfer)
        let lut = lutCache(folder)
        let made = try await lut.cube(for: toneMap)
        let (width, height) = (1024, 16)
        let graph = "color=black:s=\(width)x\(height):d=1:r=1,format=yuv420p10le,geq=lum='X':cb=512:cr=512,"
            + "setparams=color_primaries=bt2020:color_trc=\(transfer.rawValue):colorspace=bt2020nc:range=tv,split[ramp1][ramp2];"
            + "[ramp1]\(toneMap.exact)[exact];[ramp2]\(ToneMap.lookup(made, width: width, height: height))[lut];[exact][lut]vstack"
        let path = folder + "/grey.yuv"
        let run = try await shell("ffmpeg", ["-nostdin", "-v", "error", "-y", "-filter_complex", graph, "-frames:v", "1",
                                             "-f", "rawvideo", "-pix_fmt", "yuv420p", path])
        try #require(run.status == 0, "ffmpeg: \(run.err)")
        let luma = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)).prefix(width * height * 2))
        try #require(luma.count == width * height * 2)
        let differences = (64...940).map { abs(Int(luma[(height + height / 2) * width + $0]) - Int(luma[height / 2 * width + $0])) }
        let worst = differences.max() ?? 0
        let mean = Double(differences.reduce(0, +)) / Double(differences.count)
        #expect(worst <= 2 && mean <= 0.25, "\(transfer): worst \(worst) at 10-bit \(64 + differences.firstIndex(of: worst)!), mean \(mean)")
    }

    // MARK: helpers

    private let toRGB = "scale=in_color_matrix=bt709:in_range=tv,format=rgb24"

    /// The tone map's LUT maker, caching in `folder`.
    private func lutCache(_ folder: String) -> ToneMapLUT {
        ToneMapLUT(folder: folder, ffmpegPath: "ffmpeg", runner: ToolRunner(logger: TestServices.logger), deadline: .seconds(60), logger: TestServices.logger)
    }

    private var sdrVideo: ProbeResult.Video {
        ProbeResult.Video(
            codec: "hevc", pixelFormat: "yuv420p10le", bitDepth: 10, codedWidth: 1920, codedHeight: 1080,
            displayWidth: 1920, displayHeight: 1080, rotation: 0, frameRate: 30)
    }

    private func probe(_ video: ProbeResult.Video) -> ProbeResult {
        ProbeResult(container: "mov", duration: 20, video: video)
    }

    /// Frames of `rendition` at five instants of the 3 s clips against the float reference of the
    /// same source frames, pooled.
    private func compare(rendition: String, source: String, toneMap: ToneMap?, rung: Rung) async throws -> FrameDifference {
        var pairs: [([UInt8], [UInt8])] = []
        for time in ["0.52", "1.02", "1.52", "2.02", "2.52"] {
            let output = try await rgbFrame(["-ss", time, "-i", rendition], filter: toRGB, width: rung.width, height: rung.height)
            let reference = try await rgbFrame(
                ["-ss", time, "-i", source],
                filter: "\(toneMap?.exact ?? "null"),scale=\(rung.width):\(rung.height):flags=bicubic,\(toRGB)",
                width: rung.width, height: rung.height)
            pairs.append((output, reference))
        }
        return FrameDifference(pairs, width: rung.width)
    }

    private func rgbFrame(_ input: [String], filter: String, width: Int, height: Int) async throws -> [UInt8] {
        let path = NSTemporaryDirectory() + "pulse-frame-\(UUID().uuidString).rgb"
        defer { FileSystem.remove(path) }
        let run = try await shell("ffmpeg", ["-nostdin", "-v", "error", "-y"] + input + ["-frames:v", "1", "-vf", filter, "-f", "rawvideo", "-pix_fmt", "rgb24", path])
        try #require(run.status == 0, "ffmpeg: \(run.err)")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        try #require(bytes.count == width * height * 3, "frame of \(bytes.count) bytes, expected \(width)x\(height) RGB")
        return bytes
    }

    private func expectSDRTags(_ segment: String) async throws {
        let run = try await shell("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries",
                                              "stream=pix_fmt,color_primaries,color_transfer,color_space,color_range", "-of", "default=noprint_wrappers=1", segment])
        for tag in ["pix_fmt=yuv420p", "color_primaries=bt709", "color_transfer=bt709", "color_space=bt709", "color_range=tv"] {
            #expect(run.out.contains(tag), "\(segment): \(run.out)")
        }
    }
}

/// Per-channel absolute differences of RGB frames' 8x8 block averages, over every block of every
/// pair of frames: the worst channel's mean and 99th percentile.
struct FrameDifference: CustomStringConvertible {
    static let block = 8
    var mean: Double
    var p99: Double

    init(_ a: [UInt8], _ b: [UInt8], width: Int) {
        self.init([(a, b)], width: width)
    }

    init(_ pairs: [([UInt8], [UInt8])], width: Int) {
        var differences: [[Double]] = [[], [], []]
        for (a, b) in pairs {
            for (blockA, blockB) in zip(Self.blockMeans(a, width: width), Self.blockMeans(b, width: width)) {
                for channel in 0..<3 { differences[channel].append(abs(blockA[channel] - blockB[channel])) }
            }
        }
        var means: [Double] = []
        var p99s: [Double] = []
        for var channel in differences {
            channel.sort()
            means.append(channel.reduce(0, +) / Double(max(channel.count, 1)))
            p99s.append(channel.isEmpty ? 0 : channel[min(channel.count - 1, Int(Double(channel.count) * 0.99))])
        }
        mean = means.max() ?? 0
        p99 = p99s.max() ?? 0
    }

    /// Each 8x8 block's mean R, G and B, row by row.
    static func blockMeans(_ frame: [UInt8], width: Int) -> [[Double]] {
        let height = frame.count / 3 / width
        var means: [[Double]] = []
        for row in 0..<height / Self.block {
            for column in 0..<width / Self.block {
                var sums = [0, 0, 0]
                for y in row * Self.block..<(row + 1) * Self.block {
                    for x in column * Self.block..<(column + 1) * Self.block {
                        for channel in 0..<3 { sums[channel] += Int(frame[(y * width + x) * 3 + channel]) }
                    }
                }
                means.append(sums.map { Double($0) / Double(Self.block * Self.block) })
            }
        }
        return means
    }

    var description: String { String(format: "mean %.2f, p99 %.1f (8x8 blocks, 8-bit units, worst channel)", mean, p99) }
}
