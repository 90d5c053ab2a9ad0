import ArgumentParser
import PulseService

/// `pulse-video`: raw uploads in, adaptive HLS out, with live progress.
@main
struct PulseVideo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pulse-video",
        abstract: "Turns uploaded videos into adaptive HLS streams with live progress.",
        version: PulseVersion.current,
        subcommands: [ServeCommand.self, ProbeCommand.self, TranscodeCommand.self, WorkerCommand.self, SubmitCommand.self, StatusCommand.self, MigrateCommand.self, UploadCommand.self, BenchCommand.self]
    )
}
