import Foundation
import PulseTestSupport
import Testing

extension IntegrationTests {
    /// `pulse-video transcode` with `--progress bar`: on a terminal the bar and the `info` log never
    /// share a line and every redraw clears the whole line; off a terminal, no carriage returns.
    @Suite struct TerminalBar {
        static let clip = "long_7s_320p.mp4"
        static let finalBar = "[" + String(repeating: "#", count: 30) + "] 100.0% done"

        /// Under a pseudo-terminal (util-linux `script`), the raw bytes of stdout and stderr.
        @Test(.enabled(if: TestServices.mediaEnabled), .timeLimit(.minutes(2)))
        func barAndLogShareTheTerminal() async throws {
            try await withTestFolder("pulse-bar") { root in
                let script = "/usr/bin/script"
                try #require(FileManager.default.isExecutableFile(atPath: script), "util-linux script is missing")
                let command = [try TestServices.pulseVideo, "transcode", try TestMedia.path(Self.clip), "--out", root + "/out"]
                    .map(shellQuoted).joined(separator: " ")
                // -e: script exits with the command's status; the terminal turns each \n into \r\n.
                let result = try await runCommand(script, ["-qfec", command, "/dev/null"], environment: Self.environment, logDirectory: root)
                let raw = Array(result.stdout.unicodeScalars)
                let shown = "raw output:\n" + result.stdout.debugDescription
                #expect(result.status == 0, "\(shown)")

                // Every bar drawn starts with \r ESC[K.
                let draws = barStarts(raw)
                #expect(draws.count >= 3, "\(shown)")
                for start in draws {
                    let before = String(String.UnicodeScalarView(raw[max(0, start - 4)..<start]))
                    #expect(before == "\r\u{1b}[K", "a bar drawn without \\r ESC[K at \(start): \(shown)")
                }
                // Every other \r is the terminal's \r\n: no bare carriage return.
                for (index, scalar) in raw.enumerated() where scalar == "\r" {
                    let next = raw.dropFirst(index + 1).prefix(3).map(Character.init)
                    #expect(next.first == "\n" || String(next) == "\u{1b}[K", "a bare \\r at \(index): \(shown)")
                }

                // What the terminal shows: the log lines stand alone, the last bar has nothing left over.
                let screen = screenLines(raw)
                let logLines = screen.filter { $0.contains(" info ") || $0.contains("pulse.transcode:") }
                #expect(!logLines.isEmpty, "no info log line: \(shown)")
                for line in logLines {
                    #expect(barStarts(Array(line.unicodeScalars)).isEmpty, "a log line shares the bar's line: \(line.debugDescription)")
                }
                let barLines = screen.filter { $0.hasPrefix("[") && $0.contains("% ") }
                #expect(barLines.last == Self.finalBar, "screen:\n\(screen.joined(separator: "\n"))")
                #expect(screen.contains { $0.hasPrefix("done: ") }, "\(shown)")
            }
        }

        /// stderr to a file: `--progress bar` prints plain lines, no carriage return.
        @Test(.enabled(if: TestServices.mediaEnabled), .timeLimit(.minutes(2)))
        func noCarriageReturnOffATerminal() async throws {
            try await withTestFolder("pulse-bar") { root in
                let result = try await runCommand(
                    try TestServices.pulseVideo,
                    ["transcode", try TestMedia.path(Self.clip), "--out", root + "/out", "--progress", "bar"],
                    environment: Self.environment, logDirectory: root)
                #expect(result.status == 0, "\(result.stderr)")
                #expect(!result.stderr.utf8.contains(UInt8(ascii: "\r")), "stderr: \(result.stderr.debugDescription)")
                #expect(!result.stderr.unicodeScalars.contains("\u{1b}"), "stderr: \(result.stderr.debugDescription)")
                let lines = result.stderr.split(separator: "\n").map(String.init)
                #expect(lines.contains { $0.contains(" info pulse.transcode:") }, "\(result.stderr)")
                #expect(lines.last(where: { $0.hasPrefix("[") }) == Self.finalBar, "\(result.stderr)")
            }
        }

        /// Small fast encodes, `info` logs.
        static var environment: [String: String] {
            var environment = TestServices.environment.filter { !$0.key.hasPrefix("PULSE_") }
            environment["PULSE_LOG_LEVEL"] = "info"
            environment["PULSE_X264_PRESET"] = "ultrafast"
            environment["PULSE_SEGMENT_SECONDS"] = "1"
            return environment
        }
    }
}

/// Where each bar (`[` + 30 of `#` or space + `] `) starts in `raw`.
private func barStarts(_ raw: [Unicode.Scalar]) -> [Int] {
    let width = 30
    return raw.indices.filter { start in
        guard raw[start] == "[", start + width + 2 < raw.count else { return false }
        return raw[(start + 1)...(start + width)].allSatisfy { $0 == "#" || $0 == " " }
            && raw[start + width + 1] == "]" && raw[start + width + 2] == " "
    }
}

/// The lines a terminal shows for `raw`: `\r` goes back to the first column, `ESC[K` erases to
/// the end of the line, `\n` starts the next one, anything else overwrites.
private func screenLines(_ raw: [Unicode.Scalar]) -> [String] {
    var lines: [String] = []
    var line: [Unicode.Scalar] = []
    var column = 0
    var index = 0
    while index < raw.count {
        let scalar = raw[index]
        if scalar == "\n" {
            lines.append(String(String.UnicodeScalarView(line)))
            line = []
            column = 0
        } else if scalar == "\r" {
            column = 0
        } else if scalar == "\u{1b}", index + 2 < raw.count, raw[index + 1] == "[", raw[index + 2] == "K" {
            line.removeSubrange(min(column, line.count)...)
            index += 2
        } else {
            if column < line.count { line[column] = scalar } else { line.append(scalar) }
            column += 1
        }
        index += 1
    }
    if !line.isEmpty { lines.append(String(String.UnicodeScalarView(line))) }
    return lines
}

private func shellQuoted(_ word: String) -> String {
    "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
