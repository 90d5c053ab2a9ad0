import Foundation
import Logging
import PulseMedia
import PulseTestSupport
import Testing

/// Runs a command to its end and returns its stdout, stderr and exit status, on a thread of its own
/// (`onOwnThread`): a test waiting for ffmpeg must not hold one of the cooperative pool's two
/// threads, which the servers of the tests running beside it need.
func shell(_ executable: String, _ arguments: [String]) async throws -> (out: String, err: String, status: Int32) {
    try await onOwnThread { try shellBlocking(executable, arguments) }
}

private func shellBlocking(_ executable: String, _ arguments: [String]) throws -> (out: String, err: String, status: Int32) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read before waiting: a full pipe would block the child.
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self), process.terminationStatus)
}

/// ffprobe a file's packets of one stream type: (pts, dts, key flag).
func packets(_ path: String, stream: String = "v") async throws -> [(pts: Double, dts: Double, key: Bool)] {
    let result = try await shell("ffprobe", ["-v", "error", "-select_streams", stream, "-show_entries", "packet=pts_time,dts_time,flags", "-of", "csv=p=0", path])
    return result.out.split(separator: "\n").compactMap { line in
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count >= 3, let pts = Double(fields[0]), let dts = Double(fields[1]) else { return nil }
        return (pts, dts, fields[2].hasPrefix("K"))
    }
}

/// Every packet of the `segments` of a playlist in `folder`, in the playlist's order.
func packets(of segments: [(duration: Double, uri: String)], in folder: String, stream: String = "v") async throws -> [(pts: Double, dts: Double, key: Bool)] {
    var all: [(pts: Double, dts: Double, key: Bool)] = []
    for segment in segments { all += try await packets("\(folder)/\(segment.uri)", stream: stream) }
    return all
}

func testConfiguration(segmentSeconds: Double = 10) -> MediaConfiguration {
    var configuration = MediaConfiguration()
    configuration.encoding.segmentSeconds = segmentSeconds
    // superfast keeps CABAC and B-frames (High profile, as in production) at a fraction of the time.
    configuration.encoding.preset = "superfast"
    configuration.stallTimeout = .seconds(60)
    return configuration
}

func temporaryDirectory(_ name: String = "pulse-test") -> String {
    let path = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Transcodes `input` into a fresh folder and returns (folder, result, progress events).
func transcode(
    _ input: String,
    configuration: MediaConfiguration = testConfiguration(),
    chunkSeconds: Double? = nil,
    firstRendition: Bool = false
) async throws -> (String, TranscodeResult, [TranscodeProgress]) {
    let root = temporaryDirectory("pulse-out")
    let events = EventLog()
    let result = try await Transcoder(configuration: configuration, logger: TestServices.logger).transcode(
        input: .file(input),
        output: DirectoryOutput(root: root),
        chunkSeconds: chunkSeconds,
        firstRendition: firstRendition,
        workDirectory: root + "/.work",
        onProgress: { events.append($0) }
    )
    return (root, result, events.all)
}

final class EventLog: @unchecked Sendable {
    // @unchecked: guarded by `lock`; a test helper, kept minimal.
    private let lock = NSLock()
    private var events: [TranscodeProgress] = []
    func append(_ event: TranscodeProgress) { lock.withLock { events.append(event) } }
    var all: [TranscodeProgress] { lock.withLock { events } }
}

/// The video variants of a master playlist (`#EXT-X-STREAM-INF` with a RESOLUTION: not the
/// audio-only one), in order, with each variant's URI.
func masterVariants(_ text: String) -> [(attributes: [String: String], uri: String)] {
    var variants: [(attributes: [String: String], uri: String)] = []
    let lines = text.split(separator: "\n").map(String.init)
    for (index, line) in lines.enumerated() where line.hasPrefix("#EXT-X-STREAM-INF:") {
        let attributes = parseAttributes(String(line.dropFirst("#EXT-X-STREAM-INF:".count)))
        if attributes["RESOLUTION"] != nil { variants.append((attributes, lines[index + 1])) }
    }
    return variants
}

func parseAttributes(_ text: String) -> [String: String] {
    var attributes: [String: String] = [:]
    var key = ""
    var value = ""
    var inKey = true
    var quoted = false
    for character in text + "," {
        if inKey {
            if character == "=" { inKey = false } else { key.append(character) }
        } else if character == "\"" {
            quoted.toggle()
        } else if character == ",", !quoted {
            attributes[key] = value
            key = ""
            value = ""
            inKey = true
        } else {
            value.append(character)
        }
    }
    return attributes
}

/// The segments a media playlist lists: (duration, uri).
func mediaSegments(_ path: String) throws -> [(duration: Double, uri: String)] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var result: [(duration: Double, uri: String)] = []
    var pending: Double?
    for line in text.split(separator: "\n") {
        if line.hasPrefix("#EXTINF:") {
            pending = Double(line.dropFirst(8).prefix(while: { $0 != "," }))
        } else if !line.hasPrefix("#"), let duration = pending {
            result.append((duration, String(line)))
            pending = nil
        }
    }
    return result
}

/// The first line of a command's output, trimmed (ffprobe lists a TS stream under its program too).
func firstLine(_ text: String) -> String {
    text.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
}
