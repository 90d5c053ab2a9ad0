/// How a pass decodes its source, chosen from what the pass makes of it.
///
/// A pass over HEVC whose every rung is at most a third of the source's size on the short side
/// (the first rendition, 360p, of a 1080p or larger phone video) decodes without the in-loop
/// deblocking and SAO filters (`-skip_loop_filter`): the scale to a third averages away the block
/// edges they smooth, and they are about 15 % of an HEVC decode's CPU, on the path to playable.
/// Larger rungs keep them (there the edges would show), and so does H.264, whose deblocking costs
/// a few percent of its decode and whose pictures drift further without it (BENCHMARKS.md).
enum DecodeOptions {
    /// The largest rung, as a fraction of the source's short side, decoded without the loop filter.
    static let loopFilterSkipRatio = 1.0 / 3

    /// Input options for a pass that makes `rungs` from `source` (none for an audio-only pass).
    static func arguments(rungs: [Rung], source: ProbeResult.Video) -> [String] {
        guard source.codec == "hevc", let largest = rungs.map({ min($0.width, $0.height) }).max(), source.shortSide > 0,
              Double(largest) <= Double(source.shortSide) * loopFilterSkipRatio + 0.5
        else { return [] }
        return ["-skip_loop_filter", "all"]
    }
}
