import ArgumentParser
import Foundation
import Logging
import PulseDatabase
import PulseJobs
import PulseService

/// Where state lives: `--data` plus `PULSE_DATABASE_URL` / `PULSE_STORAGE_URL` (see RuntimeConfiguration).
struct RuntimeOptions: ParsableArguments {
    @Option(help: "Data folder of the embedded default: SQLite file, local storage, scratch (env PULSE_DATA_DIR, default \(RuntimeConfiguration.defaultDataDirectory)).")
    var data: String?
    @Option(help: "Seconds to wait for the database at start-up before exiting (env PULSE_STARTUP_TIMEOUT, default \(shown(defaults.startupTimeout))).")
    var startupTimeout: String?

    /// The flags given, for `readConfiguration`.
    var flags: [String: String] { ["--data": data, "--startup-timeout": startupTimeout].compactMapValues { $0 } }
}

/// Every documented default, for the help texts: they state what the settings types use, never
/// a number of their own.
let defaults = PulseConfiguration()

/// A default as help shows it: `60`, not `60.0`; `0.1` as it is.
func shown(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
}

/// A duration's default in seconds, as help shows it.
func shown(_ value: Duration) -> String {
    shown(Double(value.components.seconds) + Double(value.components.attoseconds) / 1e18)
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

/// Logs at `PULSE_LOG_LEVEL` to stderr in `PULSE_LOG_FORMAT` (see `PulseLogHandler`), above the
/// progress bar if one is drawn (see `TerminalOutput`).
func makeLogger(_ label: String, _ configuration: PulseConfiguration) -> Logger {
    var logger = Logger(label: label) { PulseLogHandler(label: $0, format: configuration.logFormat) }
    logger.logLevel = configuration.logLevel
    return logger
}

/// Runs a long-lived command's start-up and work: a `StartupError` (a tool, the address, the
/// data folder or the database) is printed as one `error:` line and ends the process with its
/// sysexits status, without a backtrace.
func exitingOnStartupError<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as StartupError {
        FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
        throw ExitCode(error.code.exitStatus)
    }
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
