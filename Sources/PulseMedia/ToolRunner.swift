import Foundation
import Logging
import PulseSupport
import Subprocess
import Synchronization
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// How an ffmpeg or ffprobe run ended: a non-zero exit is data, not a throw.
struct ToolOutcome: Sendable {
    enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32)
    }
    var termination: Termination
    /// The last part of stderr, redacted (URLs carry signatures).
    var stderrTail: String
    /// Standard output, when collected.
    var stdout: String

    var succeeded: Bool { termination == .exited(0) }
}

/// Runs ffmpeg/ffprobe as children that cannot outlive us:
/// - in their own process group, torn down with SIGTERM then SIGKILL when the task is cancelled;
/// - through `setpriv --pdeathsig KILL`, spawned from `SpawnThread`, so a worker killed with -9
///   takes its ffmpeg with it (no orphan encoding for nobody).
struct ToolRunner: Sendable {
    var logger: Logger
    /// Run the tool under `nice`: the rest of the ladder yields the CPU to the first rendition,
    /// which a viewer may be waiting for.
    var background = false

    /// Keep this much of stderr: enough for the error, bounded however much a broken file spews.
    static let stderrLimit = 32 * 1024

    private static let setprivPath: String? = {
        for candidate in ["/usr/bin/setpriv", "/bin/setpriv"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return nil
    }()

    private func executable(_ tool: String) throws(MediaError) -> (Executable, [String]) {
        let toolPath = try resolve(tool)
        let nice = background && FileManager.default.isExecutableFile(atPath: Self.nicePath) ? [Self.nicePath, "-n", "10"] : []
        if let setpriv = Self.setprivPath {
            return (.path(FilePath(setpriv)), ["--pdeathsig", "KILL", "--"] + nice + [toolPath])
        }
        if let first = nice.first { return (.path(FilePath(first)), Array(nice.dropFirst()) + [toolPath]) }
        return (.path(FilePath(toolPath)), [])
    }

    private static let nicePath = "/usr/bin/nice"

    private func resolve(_ tool: String) throws(MediaError) -> String { try locateTool(tool) }

    private var platformOptions: PlatformOptions {
        var options = PlatformOptions()
        options.processGroupID = 0
        options.teardownSequence = [
            .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .seconds(2)),
        ]
        return options
    }

    /// Runs `tool` with `arguments` to its end, or kills it (its whole process group) at
    /// `deadline` and throws `ERR_TOOL_TIMEOUT`: a tool that hangs on a file or a silent server
    /// must not hold a worker for ever. Collects stdout when `collectStdout` (ffprobe's JSON).
    /// `stdoutTail` keeps the end of a long output rather than its start.
    func run(_ tool: String, _ arguments: [String], collectStdout: Bool = false, stdoutTail: Bool = false, deadline: Duration) async throws -> ToolOutcome {
        let name = tool.split(separator: "/").last.map(String.init) ?? tool
        return try await withDeadline(deadline, orThrow: MediaError(.toolTimeout, "\(name) did not finish within \(deadline)")) {
            try await self.run(tool, arguments, collectStdout: collectStdout, stdoutTail: stdoutTail)
        }
    }

    /// Runs `tool` with `arguments` until it ends or the task is cancelled (ffmpeg encodes, whose
    /// caller watches progress instead of a fixed deadline).
    func run(_ tool: String, _ arguments: [String], collectStdout: Bool = false, stdoutTail: Bool = false) async throws -> ToolOutcome {
        let (executable, prefix) = try executable(tool)
        let options = platformOptions
        let collected = try await withTaskExecutorPreference(SpawnThread.shared) {
            try await Subprocess.run(
                executable,
                arguments: Arguments(prefix + arguments),
                platformOptions: options,
                input: .none,
                output: .sequence,
                error: .sequence
            ) { execution in
                // Drain both pipes concurrently so neither can fill up and block the child.
                async let out: [UInt8] = Self.drain(execution.standardOutput, keep: collectStdout ? (stdoutTail ? 4 << 20 : 64 << 20) : 0, tail: stdoutTail)
                let err = try await Self.drain(execution.standardError, keep: Self.stderrLimit, tail: true)
                return (try await out, err)
            }
        }
        let (out, err) = collected.closureResult
        let termination: ToolOutcome.Termination
        switch collected.terminationStatus {
        case .exited(let code): termination = .exited(Int32(code))
        case .signaled(let signal): termination = .signaled(Int32(signal))
        }
        return ToolOutcome(
            termination: termination,
            stderrTail: Redaction.redact(String(decoding: err, as: UTF8.self)),
            stdout: String(decoding: out, as: UTF8.self)
        )
    }

    /// Reads a pipe to its end, keeping at most `keep` bytes: the first ones, or with `tail` the
    /// last ones from a line start (a line cut in half would read as another line).
    private static func drain(_ sequence: SubprocessOutputSequence, keep: Int, tail: Bool) async throws -> [UInt8] {
        var kept: [UInt8] = []
        var cut = false
        for try await buffer in sequence {
            guard keep > 0 else { continue }
            buffer.withUnsafeBytes { kept.append(contentsOf: $0) }
            // Trimmed once it doubles, so a long output costs linear time, not a move per read.
            if tail, kept.count > 2 * keep {
                kept.removeFirst(kept.count - keep)
                cut = true
            } else if !tail, kept.count > keep {
                kept.removeLast(kept.count - keep)
            }
        }
        if tail, kept.count > keep {
            kept.removeFirst(kept.count - keep)
            cut = true
        }
        if cut, let newline = kept.firstIndex(of: UInt8(ascii: "\n")) { kept.removeFirst(newline + 1) }
        return kept
    }
}

/// Where `tool` is: a path (which must be an executable file), or a name looked up in PATH.
/// Throws `.toolMissing` saying which and why, so that a process can refuse to start without it.
public func locateTool(_ tool: String) throws(MediaError) -> String {
    if tool.contains("/") {
        guard FileManager.default.isExecutableFile(atPath: tool) else {
            throw MediaError(.toolMissing, "\(tool) is not an executable file")
        }
        return tool
    }
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for directory in path.split(separator: ":") {
        let candidate = "\(directory)/\(tool)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    throw MediaError(.toolMissing, "\(tool) was not found in PATH; install ffmpeg (apt-get install -y ffmpeg)")
}
