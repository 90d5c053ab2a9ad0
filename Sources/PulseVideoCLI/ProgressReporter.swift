import Foundation
import PulseMedia
import Synchronization

/// Draws the terminal bar or prints JSON lines.
///
/// `--progress bar` draws the bar in place only when stderr is a terminal, through
/// `TerminalOutput.standardError`, which also prints the log above it. When stderr is not a
/// terminal (a file, a pipe, CI) it prints no carriage returns: one plain line, the same text as
/// the bar, each time the percent reaches a new multiple of 10 %, and the final `100.0% done` line.
final class ProgressReporter: Sendable {
    let style: TranscodeCommand.ProgressStyle
    private let output: TerminalOutput
    /// The percent of the last bar drawn (terminal), or the last tenth printed (plain lines).
    private let lastDrawn = Mutex<Double>(-1)
    /// Ends when standard output is closed under the JSON lines (`| head -1` has read enough):
    /// the command then stops its work, as a writer on a closed pipe does.
    let outputClosed: AsyncStream<Void>
    private let closeOutput: AsyncStream<Void>.Continuation

    init(style: TranscodeCommand.ProgressStyle, output: TerminalOutput = .standardError) {
        self.style = style
        self.output = output
        (outputClosed, closeOutput) = AsyncStream.makeStream()
    }

    func report(_ progress: TranscodeProgress) {
        switch style {
        case .none: return
        case .json:
            var object: [String: Any] = ["stage": progress.stage.rawValue, "percent": (progress.percent * 10).rounded() / 10]
            if let speed = progress.speed { object["speed"] = speed }
            if let eta = progress.etaSeconds { object["eta_seconds"] = (eta * 10).rounded() / 10 }
            if progress.thumbnailReady { object["thumbnail_ready"] = true }
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                // Unbuffered: a reader sees each line as it happens. A write that fails (EPIPE:
                // the reader is gone) ends the command instead of crashing it.
                do {
                    try FileHandle.standardOutput.write(contentsOf: data + Data("\n".utf8))
                } catch {
                    closeOutput.finish()
                }
            }
        case .bar where output.isTerminal:
            let shouldDraw = lastDrawn.withLock { last in
                guard progress.percent - last >= 0.5 || progress.stage == .done || progress.stage != .transcoding else { return false }
                last = progress.percent
                return true
            }
            if shouldDraw { output.showStatus(Self.barText(progress)) }
        case .bar:
            let shouldPrint = lastDrawn.withLock { last in
                let tenth = (progress.percent / 10).rounded(.down)
                guard tenth > last || progress.stage == .done else { return false }
                last = progress.stage == .done ? .infinity : tenth
                return true
            }
            if shouldPrint { output.write(Self.barText(progress) + "\n") }
        }
    }

    private static func barText(_ progress: TranscodeProgress) -> String {
        let width = 30
        let filled = min(width, max(0, Int(progress.percent / 100 * Double(width))))
        var line = "[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "] "
        line += String(format: "%5.1f%% %@", progress.percent, progress.stage.rawValue)
        if let speed = progress.speed { line += String(format: "  %.2fx", speed) }
        if let eta = progress.etaSeconds { line += String(format: "  ETA %.0fs", eta) }
        return line
    }

    func finish(_ result: TranscodeResult) {
        output.endStatus()
        let names = result.renditions.map(\.name).joined(separator: ", ")
        if style != .json { print("done: \(names) (\(result.units) unit(s)); placeholder \(result.placeholder); \(result.storyboard)") }
    }

    func abandon() {
        output.endStatus()
    }
}
