import Foundation
import Logging

/// The tone map's 3D LUTs (`.cube` files): sampled once from the float curve by ffmpeg itself, so
/// the LUT is the curve, and kept in a cache folder across runs. A file's name carries a digest of
/// its recipe, so a changed curve is a new file, never a stale one.
struct ToneMapLUT: Sendable {
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
    func cube(probe: ProbeResult, rungs: [Rung]) async -> String? {
        guard let toneMap = ToneMap(probe.video), rungs.count > 1 else { return nil }
        do {
            return try await cube(for: toneMap)
        } catch {
            logger.warning("tone map LUT not made: the float curve is used", metadata: ["media.error": "\(error)"])
            return nil
        }
    }

    /// The path of `toneMap`'s `.cube` file, made first if it is not there.
    func cube(for toneMap: ToneMap) async throws -> String {
        let path = "\(folder)/\(toneMap.transfer)-\(Self.digest(toneMap.samplingGraph)).cube"
        // lut3d's file option sits in the filter graph unescaped: keep to characters that need none.
        guard path.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "/._-".contains($0)) }) else {
            throw MediaError(.encoderFailed, "the tone map cache folder's path needs escaping in a filter graph")
        }
        if FileSystem.exists(path) { return path }
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
        let text = try Self.cubeText(rgb48: data, size: ToneMap.cubeSize)
        // Several processes may make the same file at once: each writes its own and renames it.
        let temporary = "\(path).\(UUID().uuidString).tmp"
        defer { FileSystem.remove(temporary) }
        try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
        try FileSystem.move(temporary, to: path)
        return path
    }

    /// A `.cube` file of `size`^3 samples given as little-endian 16-bit RGB, red fastest.
    static func cubeText(rgb48 data: Data, size: Int) throws -> String {
        let count = size * size * size
        guard data.count == count * 6 else {
            throw MediaError(.encoderFailed, "the tone map sample has \(data.count) bytes, expected \(count * 6)")
        }
        var text = "LUT_3D_SIZE \(size)\n"
        text.reserveCapacity(count * 27)
        data.withUnsafeBytes { raw in
            for index in 0..<count {
                let values = (0..<3).map { channel in
                    let offset = index * 6 + channel * 2
                    return Double(UInt16(raw[offset]) | UInt16(raw[offset + 1]) << 8) / 65535
                }
                text += String(format: "%.6f %.6f %.6f\n", values[0], values[1], values[2])
            }
        }
        return text
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
