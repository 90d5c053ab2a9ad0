/// One block of ffmpeg's `-progress` output.
public struct ProgressReport: Sendable, Equatable {
    /// Output time reached, in microseconds (`out_time_us`; `out_time_ms` is microseconds too).
    public var outTimeMicroseconds: Int64?
    /// Encoding speed relative to real time (`speed=1.5x`), when known.
    public var speed: Double?
    /// `progress=end`: ffmpeg finished.
    public var isEnd: Bool
}

/// Splits the `key=value` lines ffmpeg sends into blocks; each block ends with `progress=...`.
struct ProgressParser {
    private var pending: [UInt8] = []
    private var current = ProgressReport(outTimeMicroseconds: nil, speed: nil, isEnd: false)

    /// Feeds received bytes; returns the blocks they completed.
    mutating func feed(_ bytes: some Sequence<UInt8>) -> [ProgressReport] {
        var reports: [ProgressReport] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if let report = line(String(decoding: pending, as: UTF8.self)) { reports.append(report) }
                pending.removeAll(keepingCapacity: true)
            } else if pending.count < 4096 {  // a line longer than this is not ffmpeg's
                pending.append(byte)
            }
        }
        return reports
    }

    private mutating func line(_ text: String) -> ProgressReport? {
        let trimmed = text.hasSuffix("\r") ? String(text.dropLast()) : text
        guard let equals = trimmed.firstIndex(of: "=") else { return nil }
        let key = trimmed[..<equals]
        let value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: " ")
        switch key {
        case "out_time_us", "out_time_ms":
            if let micros = Int64(value), micros >= 0 { current.outTimeMicroseconds = micros }
        case "speed":
            current.speed = Double(value.hasSuffix("x") ? String(value.dropLast()) : value)
        case "progress":
            current.isEnd = value == "end"
            let report = current
            current = ProgressReport(outTimeMicroseconds: current.outTimeMicroseconds, speed: nil, isEnd: false)
            return report
        default:
            break
        }
        return nil
    }
}

private extension Substring {
    func trimmingCharacters(in character: Character) -> String {
        var slice = self[...]
        while slice.first == character { slice = slice.dropFirst() }
        while slice.last == character { slice = slice.dropLast() }
        return String(slice)
    }
}
