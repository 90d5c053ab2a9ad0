import ArgumentParser
import Foundation
import Logging
import PulseJobs
import PulseMedia
import PulseStorage
import Synchronization

/// `pulse-video transcode INPUT --out DIR`: the whole pipeline, locally, with a progress bar.
struct TranscodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "transcode", abstract: "Transcode a source into an HLS ladder.")

    enum ProgressStyle: String, ExpressibleByArgument { case bar, json, none }

    @Argument(help: "A path, an http(s) URL, or s3://BUCKET/KEY (read through a presigned URL, never copied).")
    var input: String
    @Option(help: "Output folder, or s3://BUCKET/PREFIX (must not exist, or be empty).")
    var out: String
    @Option(help: "Progress display: bar (terminal), json (one object a line), none.")
    var progress: ProgressStyle = .bar
    @Option(help: "Encode the video in segment-aligned ranges of this many seconds (default: one range).")
    var chunkSeconds: Double?
    @OptionGroup var media: MediaOptions

    func run() async throws {
        var configuration = try media.mediaConfiguration()
        let reporter = ProgressReporter(style: progress)
        let environment = ProcessInfo.processInfo.environment
        let logger = makeLogger("pulse.transcode")
        do {
            if S3Location(input) != nil || S3Location(out) != nil {
                // An http:// S3 endpoint is the operator's choice (a local MinIO or moto): ffmpeg may use it.
                let endpoint = environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"] ?? ""
                if endpoint.hasPrefix("http://") { configuration.allowPlainHTTP = true }
            }
            let source: MediaInput
            if let location = S3Location(input) {
                let store = try makeObjectStore(url: "s3://\(location.bucket)", environment: environment, logger: logger)
                source = try MediaInput.parse(try await store.mediaInput(key: location.key, expiresIn: .seconds(6 * 3600)), allowPlainHTTP: configuration.allowPlainHTTP)
            } else {
                source = try MediaInput.parse(input, allowPlainHTTP: configuration.allowPlainHTTP)
            }
            let transcoder = Transcoder(configuration: configuration, logger: logger)
            let result: TranscodeResult
            if S3Location(out) != nil {
                // Segments go up while the encoder runs; only scratch files touch the local disk.
                let store = try makeObjectStore(url: out, environment: environment, logger: logger)
                guard try await store.list(prefix: "").isEmpty else { throw ValidationError("--out \(out) is not empty") }
                let scratch = NSTemporaryDirectory() + "pulse-transcode-\(UInt32.random(in: 0...UInt32.max))"
                do {
                    result = try await transcoder.transcode(
                        input: source, output: ObjectStoreOutput(store: store, prefix: ""), chunkSeconds: chunkSeconds,
                        workDirectory: scratch, onProgress: reporter.report)
                } catch {
                    _ = try? await store.deletePrefix("")
                    throw error
                }
            } else {
                let destination = try LocalDestination(path: out)
                do {
                    result = try await transcoder.transcode(
                        input: source, output: DirectoryOutput(root: destination.partial), chunkSeconds: chunkSeconds,
                        workDirectory: destination.partial + "/.work", onProgress: reporter.report)
                    try destination.commit()
                } catch {
                    destination.abort()
                    throw error
                }
            }
            reporter.finish(result)
        } catch {
            reporter.abandon()
            throw fail(error)
        }
    }
}

/// `s3://bucket/key`.
struct S3Location {
    let bucket: String
    let key: String

    init?(_ text: String) {
        guard text.hasPrefix("s3://") else { return nil }
        let rest = text.dropFirst(5)
        bucket = String(rest.prefix { $0 != "/" })
        key = String(rest.dropFirst(bucket.count + 1))
        if bucket.isEmpty { return nil }
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
