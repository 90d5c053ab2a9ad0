import ArgumentParser
import Foundation
import PulseAPI
import PulseDatabase
import PulseJobs
import PulseMedia
import PulseService
import PulseStorage

/// `pulse-video migrate`: applies database migrations (idempotent).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply database migrations.")
    @OptionGroup var runtime: RuntimeOptions

    func run() async throws {
        let configuration = try readConfiguration(runtime.flags)
        let logger = makeLogger("pulse.migrate", configuration)
        let applied = try await exitingOnStartupError {
            try StartupChecks.makeDataFolders(configuration.runtime)
            return try await StartupChecks.migrate(configuration.runtime.databaseURL, within: configuration.startupTimeout, logger: logger)
        }
        print(applied.isEmpty ? "up to date" : "applied: \(applied.map(String.init).joined(separator: ", "))")
    }
}

/// `pulse-video submit KEY`: an asset for an object already in storage, queued; prints its id.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "submit", abstract: "Queue an object already in storage; print the asset id.")
    @Argument(help: "Object key in the configured storage (e.g. uploads/clip.mp4).")
    var key: String
    @OptionGroup var runtime: RuntimeOptions

    func run() async throws {
        let key = self.key
        let configuration = try readConfiguration(runtime.flags)
        let id = try await withRuntime(configuration.runtime, logger: makeLogger("pulse", configuration)) { runtime in
            guard let object = try await runtime.store.head(key: key) else {
                throw ValidationError("no object \(key) in \(runtime.configuration.storageURL)")
            }
            return try await runtime.lifecycle.submit(sourceKey: key, size: object.size).id
        }
        print(id.uuidString.lowercased())
    }
}

/// `pulse-video status ID`: the asset as `GET /v1/assets/{id}` renders it (the API's own renderer).
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Print an asset as the API shows it (JSON).")
    @Argument(help: "Asset id.")
    var id: String
    @OptionGroup var runtime: RuntimeOptions

    func run() async throws {
        guard let id = UUID(uuidString: id) else { throw ValidationError("not an asset id: \(self.id)") }
        let configuration = try readConfiguration(runtime.flags)
        let api = configuration.api
        let rendered = try await withRuntime(configuration.runtime, logger: makeLogger("pulse", configuration)) { runtime in
            try await PulseServer.renderAsset(id, runtime: runtime, configuration: api)
        }
        guard let rendered else {
            FileHandle.standardError.write(Data("no asset \(id.uuidString.lowercased())\n".utf8))
            throw ExitCode(1)
        }
        print(String(decoding: rendered, as: UTF8.self))
    }
}
