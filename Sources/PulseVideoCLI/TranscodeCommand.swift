import ArgumentParser
import Foundation
import Logging
import PulseMedia
import Synchronization

/// `pulse-video transcode INPUT --out DIR`: the whole pipeline, locally, with a progress bar.
struct TranscodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "transcode", abstract: "Transcode a source into an HLS ladder.")

    enum ProgressStyle: String, ExpressibleByArgument { case bar, json, none }

    @Argument(help: "A path or an http(s) URL.")
    var input: String
    @Option(help: "Output folder (must not exist, or be empty).")
    var out: String
    @Option(help: "Progress display: bar (terminal), json (one object a line), none.")
    var progress: ProgressStyle = .bar
    @Option(help: "Encode the video in segment-aligned ranges of this many seconds (default: one range).")
    var chunkSeconds: Double?
    @OptionGroup var media: MediaOptions

    func run() async throws {
        let configuration = try media.mediaConfiguration()
        let reporter = ProgressReporter(style: progress)
        do {
            let source = try MediaInput.parse(input, allowPlainHTTP: configuration.allowPlainHTTP)
            let destination = try LocalDestination(path: out)
            do {
                let result = try await Transcoder(configuration: configuration, logger: Logger(label: "pulse.transcode")).transcode(
                    input: source,
                    output: DirectoryOutput(root: destination.partial),
                    chunkSeconds: chunkSeconds,
                    workDirectory: destination.partial + "/.work",
                    onProgress: reporter.report
                )
                try destination.commit()
                reporter.finish(result)
            } catch {
                destination.abort()
                throw error
            }
        } catch {
            reporter.abandon()
            throw fail(error)
        }
    }
}

/// The output folder is built beside its final name and renamed into place on success, so a
/// failure never leaves something that looks like a valid asset.
struct LocalDestination {
    let final: String
    let partial: String

    init(path: String) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        final = url.path
        partial = final + ".partial-\(UInt32.random(in: 0...UInt32.max))"
        let manager = FileManager.default
        if manager.fileExists(atPath: final) {
            let contents = (try? manager.contentsOfDirectory(atPath: final)) ?? ["?"]
            guard contents.isEmpty else { throw ValidationError("--out \(path) exists and is not empty") }
        }
        try manager.createDirectory(atPath: partial, withIntermediateDirectories: true)
    }

    func commit() throws {
        try? FileManager.default.removeItem(atPath: final)  // an empty folder, checked in init
        try FileManager.default.moveItem(atPath: partial, toPath: final)
    }

    func abort() { try? FileManager.default.removeItem(atPath: partial) }
}

/// Draws the terminal bar or prints JSON lines.
final class ProgressReporter: Sendable {
    let style: TranscodeCommand.ProgressStyle
    private let lastDrawn = Mutex<Double>(-1)

    init(style: TranscodeCommand.ProgressStyle) { self.style = style }

    func report(_ progress: TranscodeProgress) {
        switch style {
        case .none: return
        case .json:
            var object: [String: Any] = ["stage": progress.stage.rawValue, "percent": (progress.percent * 10).rounded() / 10]
            if let speed = progress.speed { object["speed"] = speed }
            if let eta = progress.etaSeconds { object["eta_seconds"] = (eta * 10).rounded() / 10 }
            if progress.thumbnailReady { object["thumbnail_ready"] = true }
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                // Unbuffered: a reader sees each line as it happens.
                FileHandle.standardOutput.write(data + Data("\n".utf8))
            }
        case .bar:
            let shouldDraw = lastDrawn.withLock { last in
                guard progress.percent - last >= 0.5 || progress.stage == .done || progress.stage != .transcoding else { return false }
                last = progress.percent
                return true
            }
            guard shouldDraw else { return }
            let width = 30
            let filled = Int(progress.percent / 100 * Double(width))
            var line = "\r[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "] "
            line += String(format: "%5.1f%% %@", progress.percent, progress.stage.rawValue)
            if let speed = progress.speed { line += String(format: "  %.2fx", speed) }
            if let eta = progress.etaSeconds { line += String(format: "  ETA %.0fs", eta) }
            FileHandle.standardError.write(Data((line + "    ").utf8))
        }
    }

    func finish(_ result: TranscodeResult) {
        if style == .bar { FileHandle.standardError.write(Data("\n".utf8)) }
        let names = result.renditions.map(\.name).joined(separator: ", ")
        if style != .json { print("done: \(names) (\(result.units) unit(s))") }
    }

    func abandon() {
        if style == .bar { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
