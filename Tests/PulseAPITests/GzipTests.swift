import Foundation
import NIOCore
import PulseStorage
import Testing

@testable import PulseAPI

/// `Gzip` against the system's own gzip: what it writes inflates to the input, and a playlist
/// shrinks.
@Suite("Gzip")
struct GzipTests {
    @Test func systemGzipInflatesWhatItWrites() throws {
        var playlist = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n"
        for index in 0..<200 { playlist += String(format: "#EXTINF:10.000000,\nseg_%05d.ts\n", index) }
        playlist += "#EXT-X-ENDLIST\n"
        var noise = [UInt8]()
        var seed: UInt32 = 12345
        for _ in 0..<70_000 {
            seed = seed &* 1_103_515_245 &+ 12345
            noise.append(UInt8(truncatingIfNeeded: seed >> 16))
        }
        for input in [Array(playlist.utf8), [], [0x41], Array(repeating: 0x61, count: 100_000), noise] {
            let compressed = Array(try Gzip.compress(ByteBuffer(bytes: input)).readableBytesView)
            #expect(try gunzip(compressed) == input, "\(input.count) bytes")
        }
        #expect(try Gzip.compress(ByteBuffer(string: playlist)).readableBytes * 5 < playlist.utf8.count)
    }

    /// What is stored compressed reads back as it was; bytes that are not gzip are refused.
    @Test func inflatesWhatItWrites() throws {
        let playlist = "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nseg_00000.ts\n#EXT-X-ENDLIST\n"
        let compressed = try Gzip.compress(ByteBuffer(string: playlist))
        #expect(String(buffer: try Gzip.decompress(compressed)) == playlist)
        #expect(String(buffer: try ContentDecoding.decode(compressed, encoding: "gzip")) == playlist)
        #expect(String(buffer: try ContentDecoding.decode(ByteBuffer(string: playlist), encoding: nil)) == playlist)
        #expect(throws: StorageError.self) { try Gzip.decompress(ByteBuffer(string: playlist)) }
        #expect(throws: StorageError.self) { try ContentDecoding.decode(compressed, encoding: "br") }
    }

    @Test func acceptEncoding() {
        #expect(AcceptEncoding.takesGzip("gzip, deflate, br"))
        #expect(AcceptEncoding.takesGzip("br;q=1.0, gzip;q=0.8"))
        #expect(AcceptEncoding.takesGzip("*"))
        #expect(!AcceptEncoding.takesGzip("gzip;q=0"))
        #expect(!AcceptEncoding.takesGzip("identity"))
        #expect(!AcceptEncoding.takesGzip(nil))
    }

    private func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-gzip-\(UUID().uuidString).gz").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-dc", path]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return [UInt8](data)
    }
}
