import ArgumentParser
import Foundation
import Logging
import PulseJobs
import PulseMedia
import PulseService
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
        let settings = try readConfiguration(media.flags)
        let reporter = ProgressReporter(style: progress)
        let logger = makeLogger("pulse.transcode", settings)
        // A closed stdout must be an error to read (EPIPE), not a signal that kills us mid-write
        // and leaves the partial output behind.
        signal(SIGPIPE, SIG_IGN)
        let (input, out, chunkSeconds) = (self.input, self.out, self.chunkSeconds)
        do {
            // The transcode races the end of the reader: when stdout closes, the transcode is
            // cancelled (its output cleared by its own failure path) and the command ends quietly.
            let result = try await withThrowingTaskGroup(of: TranscodeResult?.self) { group in
                defer { group.cancelAll() }
                group.addTask {
                    try await Self.transcode(input: input, out: out, chunkSeconds: chunkSeconds, settings: settings, reporter: reporter, logger: logger)
                }
                group.addTask {
                    for await _ in reporter.outputClosed {}
                    return nil
                }
                return try await group.next() ?? nil
            }
            guard let result else {
                reporter.abandon()
                throw ExitCode(Self.readerGoneStatus)
            }
            reporter.finish(result)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            reporter.abandon()
            throw fail(error)
        }
    }

    /// The status when stdout closed under the progress lines: 128 + SIGPIPE, as a shell reports a
    /// writer that a closed pipe ended.
    static let readerGoneStatus: Int32 = 128 + SIGPIPE

    private static func transcode(
        input: String, out: String, chunkSeconds: Double?, settings: PulseConfiguration, reporter: ProgressReporter, logger: Logger
    ) async throws -> TranscodeResult {
        let configuration = settings.pipeline.media
        let source: MediaInput
        if case .s3(let bucket, let key)? = try? StorageURL(input) {
            let store = try makeObjectStore(url: .s3(bucket: bucket, prefix: ""), s3: settings.runtime.s3, logger: logger)
            source = try MediaInput.parse(try await store.mediaInput(key: key, expiresIn: .seconds(6 * 3600)), plainHTTP: configuration.plainHTTP)
        } else {
            source = try MediaInput.parse(input, plainHTTP: configuration.plainHTTP)
        }
        let transcoder = Transcoder(configuration: configuration, logger: logger)
        if case .s3(let bucket, let key)? = try? StorageURL(out) {
            // Segments go up while the encoder runs; only scratch files touch the local disk.
            // The store is the bucket and the output a prefix in it (`out` and `out/` are both
            // `out/`), so a failure can clear exactly that prefix.
            guard !key.isEmpty else { throw ValidationError("--out must name a prefix: s3://BUCKET/PREFIX") }
            let prefix = key.hasSuffix("/") ? key : key + "/"
            let store = try makeObjectStore(url: .s3(bucket: bucket, prefix: ""), s3: settings.runtime.s3, logger: logger)
            guard try await store.list(prefix: prefix).isEmpty else { throw ValidationError("--out \(out) is not empty") }
            let scratch = NSTemporaryDirectory() + "pulse-transcode-\(UInt32.random(in: 0...UInt32.max))"
            do {
                return try await transcoder.transcode(
                    input: source, output: ObjectStoreOutput(store: store, prefix: prefix), chunkSeconds: chunkSeconds,
                    workDirectory: scratch, onProgress: reporter.report)
            } catch {
                do {
                    _ = try await store.deletePrefix(prefix)
                } catch let cleanup {
                    logger.error("could not clear the output after a failure", metadata: ["error": "\(cleanup)"])
                }
                throw error
            }
        }
        let destination = try LocalDestination(path: out)
        do {
            let result = try await transcoder.transcode(
                input: source, output: DirectoryOutput(root: destination.partial), chunkSeconds: chunkSeconds,
                workDirectory: destination.partial + "/.work", onProgress: reporter.report)
            try destination.commit()
            return result
        } catch {
            destination.abort()
            throw error
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
