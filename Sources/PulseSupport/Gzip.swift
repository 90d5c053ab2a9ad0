import Foundation

/// gzip (RFC 1952) of a small text held in memory: one DEFLATE block (RFC 1951) with the fixed
/// Huffman codes and LZ77 matches. Playlists are a few kilobytes of lines that repeat with small
/// changes (`#EXTINF:10.000000,` / `seg_00042.ts`): back-references do almost all the work, so
/// dynamic Huffman tables would gain little here, and the package needs no zlib.
public enum Gzip {
    /// `bytes` as a gzip member any gzip reader (browsers, curl, Python's `gzip`) inflates.
    public static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
        out += Deflate.fixedBlock(bytes)
        let crc = CRC32.checksum(bytes)
        let size = UInt32(truncatingIfNeeded: bytes.count)
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: crc >> UInt32(shift))) }
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: size >> UInt32(shift))) }
        return out
    }

    /// Whether an `Accept-Encoding` header value accepts gzip (a `q=0` refuses it).
    public static func isAccepted(by acceptEncoding: String?) -> Bool {
        guard let acceptEncoding else { return false }
        for item in acceptEncoding.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let coding = parts.first, coding == "gzip" || coding == "x-gzip" || coding == "*" else { continue }
            let refused = parts.dropFirst().contains { parameter in
                let pair = parameter.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
                return pair.count == 2 && pair[0] == "q" && (Double(pair[1]) ?? 1) == 0
            }
            return !refused
        }
        return false
    }
}

/// CRC-32 (IEEE, reflected), as gzip's trailer states it.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}

/// One final DEFLATE block with the fixed codes (RFC 1951 3.2.6).
enum Deflate {
    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    static let window = 32768
    static let minMatch = 3
    static let maxMatch = 258
    /// How many earlier positions with the same 3-byte hash are tried: plenty for playlists.
    static let chainDepth = 64

    static func fixedBlock(_ input: [UInt8]) -> [UInt8] {
        var bits = BitWriter()
        bits.write(1, count: 1)  // BFINAL
        bits.write(1, count: 2)  // BTYPE 01: fixed Huffman codes
        var head = [Int](repeating: -1, count: 1 << 15)
        var previous = [Int](repeating: -1, count: input.count)
        func hash(_ position: Int) -> Int {
            (Int(input[position]) << 10 ^ Int(input[position + 1]) << 5 ^ Int(input[position + 2])) & 0x7FFF
        }
        func insert(_ position: Int) {
            guard position + minMatch <= input.count else { return }
            let key = hash(position)
            previous[position] = head[key]
            head[key] = position
        }
        var position = 0
        while position < input.count {
            var bestLength = 0
            var bestDistance = 0
            if position + minMatch <= input.count {
                var candidate = head[hash(position)]
                var depth = 0
                let limit = min(maxMatch, input.count - position)
                while candidate >= 0, position - candidate <= window, depth < chainDepth {
                    var length = 0
                    while length < limit, input[candidate + length] == input[position + length] { length += 1 }
                    if length > bestLength {
                        bestLength = length
                        bestDistance = position - candidate
                        if length == limit { break }
                    }
                    candidate = previous[candidate]
                    depth += 1
                }
            }
            if bestLength >= minMatch {
                writeLength(bestLength, to: &bits)
                writeDistance(bestDistance, to: &bits)
                for offset in 0..<bestLength { insert(position + offset) }
                position += bestLength
            } else {
                writeSymbol(Int(input[position]), to: &bits)
                insert(position)
                position += 1
            }
        }
        writeSymbol(256, to: &bits)
        return bits.finish()
    }

    /// A literal/length symbol in the fixed code: its Huffman code, most significant bit first.
    static func writeSymbol(_ symbol: Int, to bits: inout BitWriter) {
        switch symbol {
        case 0...143: bits.writeCode(0x30 + symbol, count: 8)
        case 144...255: bits.writeCode(0x190 + symbol - 144, count: 9)
        case 256...279: bits.writeCode(symbol - 256, count: 7)
        default: bits.writeCode(0xC0 + symbol - 280, count: 8)
        }
    }

    static func writeLength(_ length: Int, to bits: inout BitWriter) {
        let index = lengthBase.lastIndex { $0 <= length }!
        writeSymbol(257 + index, to: &bits)
        bits.write(length - lengthBase[index], count: lengthExtra[index])
    }

    static func writeDistance(_ distance: Int, to bits: inout BitWriter) {
        let index = distanceBase.lastIndex { $0 <= distance }!
        bits.writeCode(index, count: 5)
        bits.write(distance - distanceBase[index], count: distanceExtra[index])
    }
}

/// DEFLATE's bit order: values least significant bit first, Huffman codes most significant first.
struct BitWriter {
    private var bytes: [UInt8] = []
    private var current: UInt32 = 0
    private var used = 0

    mutating func write(_ value: Int, count: Int) {
        for bit in 0..<count {
            current |= UInt32((value >> bit) & 1) << UInt32(used)
            used += 1
            if used == 8 {
                bytes.append(UInt8(current))
                current = 0
                used = 0
            }
        }
    }

    mutating func writeCode(_ code: Int, count: Int) {
        for bit in stride(from: count - 1, through: 0, by: -1) { write((code >> bit) & 1, count: 1) }
    }

    mutating func finish() -> [UInt8] {
        if used > 0 { bytes.append(UInt8(current)) }
        current = 0
        used = 0
        return bytes
    }
}
