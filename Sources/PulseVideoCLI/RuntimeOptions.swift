import ArgumentParser
import Foundation
import Logging
import PulseDatabase
import PulseJobs
import PulseService

/// Where state lives: `--data` plus `PULSE_DATABASE_URL` / `PULSE_STORAGE_URL` (see RuntimeConfiguration).
struct RuntimeOptions: ParsableArguments {
    @Option(help: "Data folder of the embedded default: SQLite file, local storage, scratch (env PULSE_DATA_DIR, default ./data).")
    var data: String?

    /// The flags given, for `readConfiguration`.
    var flags: [String: String] { ["--data": data].compactMapValues { $0 } }
}

/// The process's configuration, read once: the flags given (from each option group's `flags`),
/// then the environment, then the defaults. The one place the process environment is read.
/// Every bad value is printed at once, one a line, and the command exits with status 64.
func readConfiguration(_ flagGroups: [String: String]...) throws -> PulseConfiguration {
    let flags = flagGroups.reduce(into: [String: String]()) { $0.merge($1) { _, new in new } }
    do {
        return try PulseConfiguration(flags: flags, environment: ProcessInfo.processInfo.environment)
    } catch {
        let lines = error.problems.map { "  - \($0)" }.joined(separator: "\n")
        FileHandle.standardError.write(Data("error: invalid configuration:\n\(lines)\n".utf8))
        throw ExitCode.validationFailure
    }
}

/// Logs at `level` (`PULSE_LOG_LEVEL`) to stderr, in swift-log's usual format, above the progress
/// bar if one is drawn (see `TerminalOutput`).
func makeLogger(_ label: String, level: Logger.Level) -> Logger {
    var logger = Logger(label: label) { StreamLogHandler(label: $0, stream: TerminalOutput.standardError) }
    logger.logLevel = level
    return logger
}

/// Opens the runtime, applies migrations and runs `body` with it (the short commands).
func withRuntime<T: Sendable>(_ configuration: RuntimeConfiguration, logger: Logger, _ body: @escaping @Sendable (PulseRuntime) async throws -> T) async throws -> T {
    let runtime = try PulseRuntime(configuration: configuration, logger: logger)
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
