import Foundation
@testable import PulseAPI
import Testing

@Suite("Timestamps")
struct TimestampTests {
    /// What the API has always written: Foundation's RFC 3339 formatter with fractional seconds.
    func reference(_ epochSeconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: epochSeconds))
    }

    @Test("RFC 3339 in UTC with milliseconds rounded to the nearest, as Foundation's formatter writes them")
    func matchesFoundation() {
        let edges: [Double] = [
            0, 1, 1.5, 1.0009, 1.9995, 59.9999, 951_782_400.25, 1_709_251_199.9996, 1_764_979_200.123,
            1_764_979_200.0005, 1_764_979_200.9999, 4_102_444_800.999, -0.25,
        ]
        var generator = SystemRandomNumberGenerator()
        let random = (0..<2_000).map { _ in Double.random(in: 0...4_102_444_800, using: &generator) }
        for value in edges + random {
            #expect(Timestamp.string(value) == reference(value), "epoch \(value)")
        }
        #expect(Timestamp.string(1_764_979_200.123) == "2025-12-06T00:00:00.123Z")
        #expect(Timestamp.string(1.9995) == "1970-01-01T00:00:02.000Z")
    }
}
