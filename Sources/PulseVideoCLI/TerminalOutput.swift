import Foundation
import Synchronization

/// Standard error, shared by one status line drawn in place (the progress bar) and whole lines
/// (the log), so that the two never end up on the same line.
///
/// - `showStatus` draws the status line: `\r` + `ESC[K` (clear the whole line) + the text, so a
///   shorter status never keeps characters of a longer one.
/// - `write` (the `TextOutputStream` of the log handler, see `makeLogger`) prints whole lines
///   above the status: clear the status line, print the line, redraw the status below it.
/// - `endStatus` leaves the last status on its line and moves to the next one; later lines are
///   printed plainly.
///
/// One lock, one `write(2)` per call. Only draw a status when `isTerminal` (stderr is a TTY).
final class TerminalOutput: TextOutputStream, Sendable {
    static let standardError = TerminalOutput()

    let isTerminal = isatty(STDERR_FILENO) == 1
    /// The status line on screen, if any.
    private let status = Mutex<String?>(nil)

    private static let clearLine = "\r\u{1b}[K"

    func showStatus(_ text: String) {
        status.withLock { status in
            status = text
            Self.emit(Self.clearLine + text)
        }
    }

    func endStatus() {
        status.withLock { status in
            if status != nil { Self.emit("\n") }
            status = nil
        }
    }

    /// A whole line (a log record ends with its newline).
    func write(_ line: String) {
        status.withLock { status in
            if let status {
                Self.emit(Self.clearLine + line + Self.clearLine + status)
            } else {
                Self.emit(line)
            }
        }
    }

    private static func emit(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
