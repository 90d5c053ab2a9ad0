import Foundation
import Logging

/// The tone map's 3D LUTs (`.cube` files) and curves on grey: sampled once from the float curve by
/// ffmpeg itself, so the LUT is the curve, and kept in a cache folder across runs. A file's name
/// carries a digest of its recipe, so a changed curve is a new file, never a stale one.
struct ToneMapLUT: Sendable {
    /// What `ToneMap.lookup` needs: the `.cube` file, whose Y' output is a correction to the curve
    /// on grey (0.5: none), and that curve's values at the LUT's grid points along Y'.
    struct Made: Sendable, Equatable {
        var cube: String
        var curve: [Double]
    }

    /// Changes whenever what the files hold changes, so an older file is never read as a newer one.
    static let recipe = "Y'CbCr LUT with a luma correction to the curve on grey, Cb and Cr up half an 8-bit step"

    /// Where the files are kept (shared by every process on the machine).
    var folder: String = NSTemporaryDirectory() + "pulse-video-tonemap"
    var ffmpegPath: String
    var runner: ToolRunner
    var deadline: Duration
    var logger: Logger

    /// The LUT a pass over `rungs` of `probe`'s source uses, or nil when it needs none: an SDR
    /// source, or one rung (scaled first to a small rung, the float curve costs what the LUT costs
    /// there, and is the reference itself). A LUT that cannot be made is logged and nil: the float
    /// curve is as correct.
    func cube(probe: ProbeResult, rungs: [Rung]) async -> Made? {
        guard let toneMap = ToneMap(probe.video), rungs.count > 1 else { return nil }
        do {
            return try await cube(for: toneMap)
        } catch {
            logger.warning("tone map LUT not made: the float curve is used", metadata: ["media.error": "\(error)"])
            return nil
        }
    }

    /// `toneMap`'s `.cube` file and curve, made first if they are not there.
    func cube(for toneMap: ToneMap) async throws -> Made {
        let path = "\(folder)/\(toneMap.transfer)-\(Self.digest(Self.recipe + toneMap.samplingGraph)).cube"
        let curvePath = "\(path).curve"
        // lut3d's file option sits in the filter graph unescaped: keep to characters that need none.
        guard path.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "/._-".contains($0)) }) else {
            throw MediaError(.encoderFailed, "the tone map cache folder's path needs escaping in a filter graph")
        }
        if FileSystem.exists(path), let curve = Self.curve(FileSystem.read(curvePath)) { return Made(cube: path, curve: curve) }
        try FileSystem.makeDirectory(folder)
        let samples = "\(path).\(UUID().uuidString).rgb48"
        defer { FileSystem.remove(samples) }
        let outcome = try await runner.run(ffmpegPath, [
            "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", toneMap.samplingGraph,
            "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb48le", samples,
        ], deadline: deadline)
        guard outcome.succeeded, let data = FileManager.default.contents(atPath: samples) else {
            throw MediaError(.encoderFailed, "ffmpeg could not sample the tone map: \(outcome.stderrTail.suffix(500))")
        }
        let (text, curve) = try Self.cubeText(rgb48: data, size: ToneMap.cubeSize)
        // The curve first: a `.cube` file found means its curve is there. Several processes may
        // make the same files at once: each writes its own and renames it.
        let curveText = curve.map { String(format: "%.7f", $0) }.joined(separator: "\n")
        try Self.write(curveText, to: curvePath)
        try Self.write(text, to: path)
        // As a later process reads it back, so every process builds the same graph.
        return Made(cube: path, curve: Self.curve(curveText) ?? curve)
    }

    private static func write(_ text: String, to path: String) throws {
        let temporary = "\(path).\(UUID().uuidString).tmp"
        defer { FileSystem.remove(temporary) }
        try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
        try FileSystem.move(temporary, to: path)
    }

    /// A curve file's values, or nil unless it holds one per grid point.
    static func curve(_ text: String?) -> [Double]? {
        let values = text?.split(separator: "\n").compactMap { Double($0) } ?? []
        return values.count == ToneMap.cubeSize ? values : nil
    }

    /// A `.cube` file of `size`^3 samples given as little-endian 16-bit RGB, red fastest, as
    /// `ToneMap.samplingGraph` makes them: (Cr, Y', Cb) in and out. The curve on grey is the Y' out
    /// at the grid points of neutral Cb, Cr (the middle of an odd grid); each sample's Y' out becomes
    /// its difference from that curve, centred on 0.5. So the LUT gives a block's luma correction,
    /// and grey gets none. Cb and Cr out are raised by half an 8-bit step (128 of 65535): the ladder
    /// takes them to 8 bits by a shift that truncates.
    static func cubeText(rgb48 data: Data, size: Int) throws -> (text: String, curve: [Double]) {
        let count = size * size * size
        guard data.count == count * 6 else {
            throw MediaError(.encoderFailed, "the tone map sample has \(data.count) bytes, expected \(count * 6)")
        }
        let samples = data.withUnsafeBytes { raw -> [Double] in
            (0..<count * 3).map { index -> Double in
                let value = UInt16(raw[index * 2]) | UInt16(raw[index * 2 + 1]) << 8
                return Double(value) / 65535
            }
        }
        func luma(red: Int, green: Int, blue: Int) -> Double { samples[((blue * size + green) * size + red) * 3 + 1] }
        let neutral = size / 2
        let curve = (0..<size).map { luma(red: neutral, green: $0, blue: neutral) }
        let halfStep = 128.0 / 65535
        var text = "LUT_3D_SIZE \(size)\n"
        text.reserveCapacity(count * 27)
        for index in 0..<count {
            let green = index / size % size
            let correction = min(1, max(0, samples[index * 3 + 1] - curve[green] + 0.5))
            let (cr, cb) = (samples[index * 3] + halfStep, samples[index * 3 + 2] + halfStep)
            text += String(format: "%.6f %.6f %.6f\n", min(1, cr), correction, min(1, cb))
        }
        return (text, curve)
    }

    /// FNV-1a, 64 bits, in hex: stable across processes (Swift's `Hasher` is seeded per process).
    static func digest(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
