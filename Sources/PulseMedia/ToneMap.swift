/// How an HDR source (BT.2020 with the PQ or the HLG transfer) becomes SDR: BT.709 primaries and
/// transfer, 8-bit 4:2:0, limited range. One curve: zimg to linear light (1.0 = 100 cd/m2), BT.2020
/// to BT.709 primaries in linear light (no washed-out colours), `hable` (highlights roll off, never
/// clip), the BT.709 transfer. It is applied one of two ways that give the same colours:
/// - `exact`: the curve in 32-bit float per pixel. It costs per pixel, so it runs after the scale to
///   the output's size: the first rendition's one small rung and the thumbnail.
/// - `lookup(cube:)`: a 3D LUT sampled from the same curve (`ToneMapLUT`), from BT.2020 (Y', Cb, Cr)
///   straight to BT.709 (Y', Cb, Cr): no RGB matrix runs per pixel, only the chroma upsampling to
///   4:4:4 and back, and the LUT itself (about 11 of the float curve's 22 CPU-s at 1080p; the same
///   LUT between RGB matrices cost 13). The ladder applies it once, at the top rung's size, before
///   the split to every rung.
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

    /// `lut3d` takes RGB formats only: the 4:4:4 planes Y', Cb, Cr are handed to it as G, B, R (and
    /// taken back the same way), so the LUT's (r, g, b) axes are (Cr, Y', Cb), in and out.
    static let yuvAsRGB = "mergeplanes=0x000102:gbrp16le"
    static let rgbAsYUV = "mergeplanes=0x000102:yuv444p16le"

    /// The LUT path, from a decoded frame to SDR `yuv420p`. The planes keep the input's HDR tags
    /// through `lut3d`, so they are tagged as what they now are before the conversion to 4:2:0.
    static func lookup(cube: String) -> String {
        "zscale=f=bilinear,format=yuv444p16le,\(yuvAsRGB),lut3d=file=\(cube):interp=tetrahedral,\(rgbAsYUV),"
            + "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv,format=yuv420p"
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

    /// Points per axis of the LUT: an identity Hald CLUT of level 8 (64 x 64 x 64). Valid Y'CbCr
    /// fills only part of the cube, so it needs more points than an RGB LUT: at 36 the colour test's
    /// frames moved twice as far from the float curve (PSNR 46 dB against 50 at 64).
    static let haldLevel = 8
    static var cubeSize: Int { haldLevel * haldLevel }

    /// The identity Hald CLUT through the curve, as raw `rgb48le` (red fastest, then green, then
    /// blue: a `.cube` file's order). Its planes are read as this transfer's limited-range BT.2020
    /// Y'CbCr, and the result's BT.709 Y'CbCr planes are written back as RGB, as `lookup` reads them.
    var samplingGraph: String {
        "haldclutsrc=level=\(Self.haldLevel):rate=1:duration=1,format=rgb48le,format=gbrp16le,\(Self.rgbAsYUV),"
            + "setparams=color_primaries=bt2020:color_trc=\(transfer.rawValue):colorspace=bt2020nc:range=tv,"
            + "\(Self.toLinear),\(Self.curve),zscale=t=bt709:m=bt709:r=tv,format=yuv444p16le,\(Self.yuvAsRGB),format=rgb48le"
    }
}
