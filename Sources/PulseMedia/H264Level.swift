/// Picks the lowest H.264 level that fits a rung, so the master playlist's CODECS can be stated
/// exactly (`-level` is passed to x264 with the same value).
enum H264Level {
    private struct Limit {
        var idc: Int
        var name: String
        var maxMacroblocksPerSecond: Double
        var maxFrameMacroblocks: Double
        var maxBitRate: Double  // High profile: 1.25 x the Baseline/Main table, in bits/s
    }

    private static let table: [Limit] = [
        Limit(idc: 30, name: "3.0", maxMacroblocksPerSecond: 40_500, maxFrameMacroblocks: 1_620, maxBitRate: 12_500_000),
        Limit(idc: 31, name: "3.1", maxMacroblocksPerSecond: 108_000, maxFrameMacroblocks: 3_600, maxBitRate: 17_500_000),
        Limit(idc: 32, name: "3.2", maxMacroblocksPerSecond: 216_000, maxFrameMacroblocks: 5_120, maxBitRate: 25_000_000),
        Limit(idc: 40, name: "4.0", maxMacroblocksPerSecond: 245_760, maxFrameMacroblocks: 8_192, maxBitRate: 25_000_000),
        Limit(idc: 41, name: "4.1", maxMacroblocksPerSecond: 245_760, maxFrameMacroblocks: 8_192, maxBitRate: 62_500_000),
        Limit(idc: 42, name: "4.2", maxMacroblocksPerSecond: 522_240, maxFrameMacroblocks: 8_704, maxBitRate: 62_500_000),
        Limit(idc: 50, name: "5.0", maxMacroblocksPerSecond: 589_824, maxFrameMacroblocks: 22_080, maxBitRate: 168_750_000),
        Limit(idc: 51, name: "5.1", maxMacroblocksPerSecond: 983_040, maxFrameMacroblocks: 36_864, maxBitRate: 300_000_000),
        Limit(idc: 52, name: "5.2", maxMacroblocksPerSecond: 2_073_600, maxFrameMacroblocks: 36_864, maxBitRate: 300_000_000),
    ]

    /// (level for `-level`, level_idc) for a rung.
    static func level(for rung: Rung) -> (name: String, idc: Int) {
        let frameMacroblocks = Double(((rung.width + 15) / 16) * ((rung.height + 15) / 16))
        let perSecond = frameMacroblocks * rung.frameRate
        let fit = table.first {
            frameMacroblocks <= $0.maxFrameMacroblocks && perSecond <= $0.maxMacroblocksPerSecond
                && Double(rung.maxBitRate) <= $0.maxBitRate
        } ?? table[table.count - 1]
        return (fit.name, fit.idc)
    }

    /// RFC 6381 codec string for H.264 High at the rung's level, e.g. `avc1.640028`.
    static func codecString(for rung: Rung) -> String {
        let idc = level(for: rung).idc
        let hex = String(idc, radix: 16, uppercase: true)
        return "avc1.6400" + (hex.count == 1 ? "0" + hex : hex)
    }
}
