import Foundation
import PulseTestSupport
import Synchronization

/// A process the test started (a worker, the proxy, a one-shot command), with its stdout and stderr
/// in files so that a chatty child never blocks on a full pipe and its log can be shown on failure.
final class ChildProcess: Sendable {
    let name: String
    let pid: Int32
    let stdoutPath: String
    let stderrPath: String
    /// Foundation's `Process` is not `Sendable`; every use goes through this lock.
    private let process: Mutex<Process>

    /// Starts `executable` with exactly `environment`.
    init(name: String, executable: String, arguments: [String], environment: [String: String], logDirectory: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let tag = "\(name)-\(uniqueName())"
        self.stdoutPath = "\(logDirectory)/\(tag).out"
        self.stderrPath = "\(logDirectory)/\(tag).err"
        FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
        self.name = name
        self.pid = process.processIdentifier
        self.process = Mutex(process)
    }

    var isRunning: Bool { process.withLock { $0.isRunning } }

    /// The exit status, or nil while running; a signal shows as 128 + its number.
    var exitStatus: Int32? {
        process.withLock { process in
            if process.isRunning { return nil }
            return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        }
    }

    func signal(_ signal: Int32) {
        if isRunning { _ = kill(pid, signal) }
    }

    /// Waits for the exit, at most `timeout`; the exit status, or nil if it still runs.
    @discardableResult
    func waitForExit(timeout: Duration) async -> Int32? {
        (try? await waitFor("\(name) to exit", timeout: timeout) { exitStatus }) ?? exitStatus
    }

    /// SIGKILL if it still runs (the cleanup of every test, whatever happened).
    func killNow() {
        signal(SIGKILL)
    }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// The last lines of stderr, for failure messages.
    func stderrTail(_ lines: Int = 25) -> String {
        "----- \(name) (pid \(pid)) stderr -----\n" + stderr.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

/// Runs a command to its end (bounded) and returns its status and output.
struct CommandResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

func runCommand(
    _ executable: String,
    _ arguments: [String],
    environment: [String: String] = ProcessInfo.processInfo.environment,
    logDirectory: String,
    timeout: Duration = .seconds(120)
) async throws -> CommandResult {
    let name = URL(fileURLWithPath: executable).lastPathComponent
    let child = try ChildProcess(name: name, executable: executable, arguments: arguments, environment: environment, logDirectory: logDirectory)
    defer { child.killNow() }
    guard let status = await child.waitForExit(timeout: timeout) else {
        throw TimeoutError(timeout: timeout, what: "\(name) \(arguments.prefix(3).joined(separator: " ")) to exit", context: child.stderrTail())
    }
    return CommandResult(status: status, stdout: child.stdout, stderr: child.stderr)
}

/// Processes whose command line contains `needle` (e.g. a worker's scratch folder), from /proc.
func processes(commandLineContaining needle: String) -> [(pid: Int32, commandLine: [String])] {
    let own = getpid()
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    var found: [(pid: Int32, commandLine: [String])] = []
    for entry in entries {
        guard let pid = Int32(entry), pid != own,
              let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"), !data.isEmpty
        else { continue }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        // A zombie (exited, not yet reaped) has an empty cmdline and is skipped above.
        if arguments.contains(where: { $0.contains(needle) }) { found.append((pid, arguments)) }
    }
    return found
}

/// ffmpeg/ffprobe processes (through setpriv or not) whose command line names `needle`.
func mediaTools(commandLineContaining needle: String) -> [(pid: Int32, commandLine: [String])] {
    processes(commandLineContaining: needle).filter { process in
        process.commandLine.contains { argument in
            let name = URL(fileURLWithPath: argument).lastPathComponent
            return name == "ffmpeg" || name == "ffprobe"
        }
    }
}

/// How long ago a process started, from /proc (nil if it is gone).
func processAge(_ pid: Int32) -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let uptimeText = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
          let uptime = Double(uptimeText.split(separator: " ").first ?? ""),
          let close = stat.lastIndex(of: ")")
    else { return nil }
    // Fields after "(comm)": state is field 3, starttime field 22, in clock ticks since boot.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
    return uptime - ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// An ffmpeg (not ffprobe) whose command line names `needle` and that started less than
/// `seconds` ago: an encode that has just begun, so a signal sent now lands mid-encode.
func youngEncoder(commandLineContaining needle: String, within seconds: Double = 0.4) -> Int32? {
    mediaTools(commandLineContaining: needle).first { tool in
        tool.commandLine.contains { URL(fileURLWithPath: $0).lastPathComponent == "ffmpeg" }
            && (processAge(tool.pid) ?? .infinity) < seconds
    }?.pid
}

extension ChildProcess {
    /// Waits until `probe` returns a value while this process is stopped (SIGSTOP), and returns
    /// that value with the process still stopped: the state the probe read is the state a kill
    /// then finds, since a stopped worker finishes no job in between. When the state has moved
    /// on by the time the process is stopped, it goes on (SIGCONT) and the wait continues.
    ///
    /// `settled` says when what the process sent before it stopped has landed (a statement it had
    /// already sent to the database runs after the stop): the probe is read again only then.
    func stopped<T>(
        when what: String,
        timeout: Duration,
        interval: Duration = .milliseconds(10),
        context: () -> String = { "" },
        settled: () async throws -> Bool = { true },
        _ probe: () async throws -> T?
    ) async throws -> T {
        try await waitFor(what, timeout: timeout, interval: interval, context: context) { () -> T? in
            guard try await probe() != nil else { return nil }
            signal(SIGSTOP)
            // The signal is delivered asynchronously: wait until every thread has stopped.
            try await waitFor("process \(pid) to stop", timeout: .seconds(10), interval: .milliseconds(5)) { isStopped ? true : nil }
            try await waitFor("what process \(pid) sent before it stopped to land", timeout: .seconds(10), interval: .milliseconds(20)) {
                try await settled() ? true : nil
            }
            if let value = try await probe() { return value }
            signal(SIGCONT)
            return nil
        }
    }

    /// Whether the process is stopped by a signal (state `T` in `/proc/<pid>/stat`).
    var isStopped: Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].split(separator: " ").first == "T"
    }
}
