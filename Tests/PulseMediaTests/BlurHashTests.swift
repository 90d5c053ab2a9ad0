import Foundation
@testable import PulseMedia
import Testing

/// The encoder against Wolt's algorithm: the expected strings are what the PyPI `blurhash` package
/// (1.1.5, a port of Wolt's Swift encoder) gives for the same pixels.
@Suite("BlurHash")
struct BlurHashTests {
    /// 32 x 32 pixels: red rises along x, green along y, blue along the diagonal.
    static let gradient: [UInt8] = {
        var pixels: [UInt8] = []
        for y in 0..<32 {
            for x in 0..<32 {
                pixels.append(UInt8((x * 8) % 256))
                pixels.append(UInt8((y * 8) % 256))
                pixels.append(UInt8(((x + y) * 4) % 256))
            }
        }
        return pixels
    }()

    @Test func matchesTheReferenceEncoderOnAGradient() {
        #expect(BlurHash.encode(rgb: Self.gradient, width: 32, height: 32) == "LxH2cg2kwzX5l?WGjue:gLfkfQfj")
    }

    @Test func matchesTheReferenceEncoderOnOneColour() {
        var flat: [UInt8] = []
        for _ in 0..<(32 * 32) { flat += [200, 30, 90] }
        #expect(BlurHash.encode(rgb: flat, width: 32, height: 32) == "L5M^#v|zfQ|z|zo2fQo2fQfQfQfQ")
    }

    @Test func oneComponentIsTheAverageColourAlone() {
        #expect(BlurHash.encode(rgb: Self.gradient, width: 32, height: 32, componentsX: 1, componentsY: 1) == "00H2cg")
    }

    @Test func fourByThreeIsTwentyEightCharactersOfBase83() {
        let hash = BlurHash.encode(rgb: Self.gradient, width: 32, height: 32)
        #expect(hash.count == 28)
        #expect(hash.utf8.allSatisfy { BlurHash.alphabet.contains($0) })
    }

    @Test func sRGBRoundTripsThroughLinearLight() {
        for value in [0, 1, 10, 128, 254, 255] as [UInt8] {
            #expect(BlurHash.toSRGB(BlurHash.toLinear(value)) == Int(value))
        }
    }
}
