import Foundation

/// The BlurHash of an image (https://blurha.sh): a short string a client decodes into a blurred
/// picture before it fetches any image. The algorithm is Wolt's, byte for byte: sRGB pixels to
/// linear light, a DCT of `componentsX` x `componentsY` cosine components, the average colour in
/// 4 base-83 digits, every other component quantised to 2 digits against the largest one.
public enum BlurHash {
    /// The characters of base 83, in digit order.
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~".utf8)

    /// Encodes `rgb` (`width` x `height` pixels, 3 bytes each, rows top to bottom): 6 + 2 x
    /// (componentsX x componentsY - 1) characters. Components are 1 to 9 each way.
    public static func encode(rgb: [UInt8], width: Int, height: Int, componentsX: Int = 4, componentsY: Int = 3) -> String {
        precondition((1...9).contains(componentsX) && (1...9).contains(componentsY), "BlurHash has 1 to 9 components each way")
        precondition(width > 0 && height > 0 && rgb.count == width * height * 3, "rgb must hold width x height x 3 bytes")
        let linear = rgb.map { toLinear($0) }
        var components: [(Double, Double, Double)] = []
        for j in 0..<componentsY {
            for i in 0..<componentsX {
                let norm = i == 0 && j == 0 ? 1.0 : 2.0
                var (r, g, b) = (0.0, 0.0, 0.0)
                for y in 0..<height {
                    let cosY = cos(Double.pi * Double(j) * Double(y) / Double(height))
                    for x in 0..<width {
                        let basis = norm * cos(Double.pi * Double(i) * Double(x) / Double(width)) * cosY
                        let pixel = (y * width + x) * 3
                        r += basis * linear[pixel]
                        g += basis * linear[pixel + 1]
                        b += basis * linear[pixel + 2]
                    }
                }
                let count = Double(width * height)
                components.append((r / count, g / count, b / count))
            }
        }
        let ac = components.dropFirst()
        let largest = ac.map { max(abs($0.0), abs($0.1), abs($0.2)) }.max() ?? 0
        let quantisedMax = ac.isEmpty ? 0 : Int(max(0, min(82, (largest * 166 - 0.5).rounded(.down))))
        let acScale = Double(quantisedMax + 1) / 166
        let dc = components[0]
        var hash = base83(componentsX - 1 + (componentsY - 1) * 9, digits: 1)
        hash += base83(quantisedMax, digits: 1)
        hash += base83((toSRGB(dc.0) << 16) + (toSRGB(dc.1) << 8) + toSRGB(dc.2), digits: 4)
        for (r, g, b) in ac {
            hash += base83(quantise(r / acScale) * 19 * 19 + quantise(g / acScale) * 19 + quantise(b / acScale), digits: 2)
        }
        return hash
    }

    /// One AC value (-1...1 of the largest) to 0...18 on a square-root scale.
    private static func quantise(_ value: Double) -> Int {
        let signedRoot = value < 0 ? -(-value).squareRoot() : value.squareRoot()
        return Int(max(0, min(18, (signedRoot * 9 + 9.5).rounded(.down))))
    }

    private static func base83(_ value: Int, digits: Int) -> String {
        var bytes: [UInt8] = []
        var divisor = 1
        for _ in 1..<max(digits, 1) { divisor *= 83 }
        for _ in 0..<digits {
            bytes.append(alphabet[(value / divisor) % 83])
            divisor = max(divisor / 83, 1)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func toLinear(_ value: UInt8) -> Double {
        let v = Double(value) / 255
        return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4)
    }

    static func toSRGB(_ value: Double) -> Int {
        let v = max(0, min(1, value))
        return v <= 0.0031308 ? Int(v * 12.92 * 255 + 0.5) : Int((1.055 * pow(v, 1 / 2.4) - 0.055) * 255 + 0.5)
    }
}
