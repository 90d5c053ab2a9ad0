import ArgumentParser
import Foundation
import Logging
import PulseJobs

/// Where state lives: `--data` plus `PULSE_DATABASE_URL` / `PULSE_STORAGE_URL` (see RuntimeConfiguration).
struct RuntimeOptions: ParsableArguments {
    @Option(help: "Data folder of the embedded default: SQLite file, local storage, scratch (env PULSE_DATA_DIR, default ./data).")
    var data: String?

    /// The configuration, with its folders created.
    var configuration: RuntimeConfiguration {
        get throws {
            let configuration = RuntimeConfiguration(dataDirectory: data)
            try configuration.makeDirectories()
            return configuration
        }
    }
}

/// Logs at info (or `PULSE_LOG_LEVEL`) to stderr, in swift-log's usual format, above the progress
/// bar if one is drawn (see `TerminalOutput`).
func makeLogger(_ label: String) -> Logger {
    var logger = Logger(label: label) { StreamLogHandler(label: $0, stream: TerminalOutput.standardError) }
    logger.logLevel = ProcessInfo.processInfo.environment["PULSE_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
    return logger
}

/// Applies migrations, then makes the runtime for a long-running command's `ServiceGroup`.
/// Migrations use a short-lived connection of their own: the runtime's database may run only
/// once, inside the group.
func migratedRuntime(_ configuration: RuntimeConfiguration, logger: Logger) async throws -> PulseRuntime {
    _ = try await withDatabase(url: configuration.databaseURL, logger: logger) { try await migrate($0, logger: logger) }
    return try PulseRuntime(configuration: configuration, logger: logger)
}

/// Opens the runtime, applies migrations and runs `body` with it.
func withRuntime<T: Sendable>(_ options: RuntimeOptions, _ body: @escaping @Sendable (PulseRuntime) async throws -> T) async throws -> T {
    let logger = makeLogger("pulse")
    let runtime = try PulseRuntime(configuration: try options.configuration, logger: logger)
    return try await runtime.run { runtime in
        _ = try await migrate(runtime.database, logger: logger)
        return try await body(runtime)
    }
}

/// JSON for humans and scripts alike.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
