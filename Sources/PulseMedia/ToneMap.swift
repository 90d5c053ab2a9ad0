/// How an HDR source (BT.2020 with the PQ or the HLG transfer) becomes SDR: BT.709 primaries and
/// transfer, 8-bit 4:2:0, limited range. One curve: zimg to linear light (1.0 = 100 cd/m2), BT.2020
/// to BT.709 primaries in linear light (no washed-out colours), `hable` (highlights roll off, never
/// clip), the BT.709 transfer. It is applied one of two ways that give the same colours:
/// - `exact`: the curve in 32-bit float per pixel. It costs per pixel, so it runs after the scale to
///   the output's size: the first rendition's one small rung and the thumbnail.
/// - `lookup(cube:)`: a 3D LUT sampled from the same curve (`ToneMapLUT`), applied in 16-bit RGB:
///   about half the float curve's cost at 1080p. The ladder applies it once, at the top rung's size,
///   before the split to every rung.
struct ToneMap: Sendable, Equatable {
    /// The HDR transfers, as ffprobe names them.
    enum Transfer: String, Sendable, CaseIterable {
        case pq = "smpte2084"
        case hlg = "arib-std-b67"
    }

    var transfer: Transfer

    init(transfer: Transfer) { self.transfer = transfer }

    /// Nil for a source that needs no tone map (SDR, or an unknown transfer).
    init?(_ video: ProbeResult.Video) {
        guard let transfer = video.colorTransfer.flatMap(Transfer.init(rawValue:)) else { return nil }
        self.transfer = transfer
    }

    /// Tagged non-linear BT.2020 to linear light in float, as `tonemap` needs.
    static let toLinear = "zscale=t=linear:npl=100,format=gbrpf32le"
    /// Linear BT.2020 to linear BT.709, tone mapped. `desat=0`: colours keep their saturation.
    static let curve = "zscale=p=bt709,tonemap=tonemap=hable:desat=0"

    /// The float path, from a decoded frame to SDR `yuv420p`.
    static let exact = "\(toLinear),\(curve),zscale=t=bt709:m=bt709:r=tv,format=yuv420p"

    /// The LUT path, from a decoded frame to SDR `yuv420p`. `lut3d` keeps the input's HDR tags on
    /// its output, so the RGB is tagged as what it now is before the matrix to YUV.
    static func lookup(cube: String) -> String {
        "zscale,format=gbrp16le,lut3d=file=\(cube):interp=tetrahedral,"
            + "setparams=color_primaries=bt709:color_trc=bt709:colorspace=gbr:range=pc,"
            + "zscale=m=bt709:r=tv,format=yuv420p"
    }

    /// The chain in front of the split to `rungs`: a scale to the largest rung's size when the
    /// source is larger (the tone map costs per pixel), then the LUT, or the float curve without one.
    static func chain(source: ProbeResult.Video, rungs: [Rung], cube: String?) -> String {
        var chain = ""
        if let top = rungs.max(by: { $0.width * $0.height < $1.width * $1.height }),
           top.width * top.height < source.displayWidth * source.displayHeight {
            chain = "scale=\(top.width):\(top.height):flags=bicubic,"
        }
        return chain + (cube.map(lookup(cube:)) ?? exact)
    }

    /// Output options that tag every encoded video stream as SDR BT.709, limited range.
    static let outputTags = [
        "-color_primaries:v", "bt709", "-color_trc:v", "bt709", "-colorspace:v", "bt709", "-color_range:v", "tv",
    ]

    /// Points per axis of the LUT: an identity Hald CLUT of level 6 (36 x 36 x 36).
    static let haldLevel = 6
    static var cubeSize: Int { haldLevel * haldLevel }

    /// The identity Hald CLUT through the curve, as raw `rgb48le` (red fastest, then green, then
    /// blue: a `.cube` file's order). The identity is tagged as this transfer's full-range RGB.
    var samplingGraph: String {
        "haldclutsrc=level=\(Self.haldLevel):rate=1:duration=1,format=rgb48le,"
            + "setparams=color_primaries=bt2020:color_trc=\(transfer.rawValue):colorspace=gbr:range=pc,"
            + "\(Self.toLinear),\(Self.curve),zscale=t=bt709,format=rgb48le"
    }
}
