import ArgumentParser
import Foundation
import PulseMedia
import PulseService

/// `pulse-video probe INPUT`: prints what the pipeline knows of a source, as JSON.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "probe", abstract: "Print a source's metadata as JSON.")

    @Argument(help: "A path or an http(s) URL (e.g. a presigned S3 URL).")
    var input: String
    @OptionGroup var media: MediaOptions

    func run() async throws {
        let settings = try readConfiguration(media.flags)
        let configuration = settings.pipeline.media
        do {
            let source = try MediaInput.parse(input, plainHTTP: configuration.plainHTTP)
            let result = try await Prober(configuration: configuration, logger: makeLogger("pulse.probe", settings)).probe(source)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } catch {
            throw fail(error)
        }
    }
}
