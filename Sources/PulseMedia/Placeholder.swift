import Foundation

/// The placeholder a chat client paints before it fetches any image: the BlurHash of the
/// thumbnail, from its pixels scaled down by ffmpeg (a BlurHash keeps only a few cosine
/// components, so 32 x 32 pixels carry all it can hold; a client stretches it back to the
/// video's shape).
extension MediaPipeline {
    /// The side of the square the thumbnail is scaled to before it is hashed.
    static let placeholderSide = 32

    /// The BlurHash (4 x 3 components: 28 characters) of the JPEG at `image`. `scratch` is a path
    /// this may write (removed here).
    public func placeholder(ofImage image: String, scratch: String) async throws -> String {
        let side = Self.placeholderSide
        let raw = scratch + ".rgb"
        defer { FileSystem.remove(raw) }
        let arguments = [
            "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-y", "-i", image,
            "-frames:v", "1", "-vf", "scale=\(side):\(side):flags=area,format=rgb24", "-f", "rawvideo", raw,
        ]
        let outcome = try await ToolRunner(logger: logger).run(configuration.ffmpegPath, arguments, deadline: configuration.probeTimeout)
        // Our own thumbnail: a failure here is never the uploader's input, so it is retried.
        guard outcome.succeeded else { throw MediaError(.encoderFailed, "scaling the thumbnail for its placeholder failed: \(outcome.stderrTail)") }
        let pixels = [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw)))
        guard pixels.count == side * side * 3 else {
            throw MediaError(.outputMissing, "the thumbnail scaled to \(side)x\(side) gave \(pixels.count) bytes")
        }
        return BlurHash.encode(rgb: pixels, width: side, height: side)
    }
}
