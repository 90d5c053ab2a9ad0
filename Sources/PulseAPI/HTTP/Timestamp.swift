import Foundation

/// Timestamps in responses: RFC 3339 in UTC with milliseconds, e.g. `2025-01-31T12:00:00.123Z`.
///
/// Every asset rendering writes four of them, so this is on the read path's hot loop. The
/// milliseconds are rounded to the nearest and written by hand; the whole seconds go through
/// `Date.ISO8601FormatStyle`, a value type with no ICU formatter behind it (an
/// `ISO8601DateFormatter` opens one per instance, which cost more than the rest of a request).
enum Timestamp {
    private static let wholeSeconds = Date.ISO8601FormatStyle()

    static func string(_ epochSeconds: Double) -> String {
        let milliseconds = Int64((epochSeconds * 1000).rounded())
        let (seconds, fraction) = milliseconds.floorQuotientAndRemainder(dividingBy: 1000)
        var text = Date(timeIntervalSince1970: Double(seconds)).formatted(self.wholeSeconds)
        text.removeLast()  // "Z", written again after the fraction
        let digits = String(fraction)
        return text + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }
}

extension Int64 {
    /// Quotient rounded down and a remainder in `0 ..< divisor` (times before 1970 included).
    fileprivate func floorQuotientAndRemainder(dividingBy divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let (quotient, remainder) = self.quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
