/// How an HDR source (BT.2020 with the PQ or the HLG transfer) becomes SDR: BT.709 primaries and
/// transfer, 8-bit 4:2:0, limited range. One curve: zimg to linear light with 1.0 at HDR reference
/// white (203 cd/m2, BT.2408: where phones put diffuse white, HLG 75 %, and where SDR white lands
/// when SDR is placed in HDR), BT.2020 to BT.709 primaries in linear light (no washed-out colours),
/// `mobius` (light up to 0.3 of reference white is kept as it is; above it, up to the transfer's
/// peak, rolls off smoothly to SDR white, so no highlight clips; reference white lands at 84 %
/// of the SDR range), the BT.709 transfer. Not `hable`: a filmic curve, it darkens the SDR range
/// too (SDR content placed in HLG comes back with a mean Y' of 85 against its own 126).
/// It is applied one of two ways that give the same colours:
/// - `exact`: the curve in 32-bit float per pixel. It costs per pixel, so it runs after the scale to
///   the output's size: the first rendition's one small rung and the thumbnail.
/// - `lookup(_:width:height:)`: a 3D LUT sampled from the same curve (`ToneMapLUT`), from BT.2020
///   (Y', Cb, Cr) straight to BT.709 (Y', Cb, Cr), run at chroma resolution: each 2x2 block's mean
///   Y' with the block's Cb, Cr gives the block's new Cb, Cr and a luma correction; each pixel's Y'
///   goes through the curve on grey plus its block's correction, in one `lut2`. Grey is exact,
///   and a colour's luma is right on average over its block. A quarter of the pixels go through
///   the LUT: at 1080p it costs about 4.5 CPU-s per 20 s over the decode, against 9.5 for the LUT
///   on every pixel and 22 for the float curve. The ladder applies it once, at the top rung's size,
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

    /// HDR reference white in cd/m2 (BT.2408), linear light's 1.0 here.
    static let referenceWhite = 203
    /// The brightest light the transfer carries, in cd/m2, which the curve brings to SDR white:
    /// HLG's reference display (BT.2100), and the top of PQ's range, so no PQ value clips. Fixed
    /// per transfer, not read from a file's metadata: one LUT serves every file of a transfer.
    var peakLuminance: Int {
        switch transfer {
        case .hlg: 1000
        case .pq: 10000
        }
    }

    /// Tagged non-linear BT.2020 to linear light in float, as `tonemap` needs.
    static let toLinear = "zscale=t=linear:npl=\(referenceWhite),format=gbrpf32le"
    /// Linear BT.2020 to linear BT.709, tone mapped. `peak` is given in reference whites: left out,
    /// `tonemap` would guess it in units of 100 cd/m2, or from a frame's metadata, and the LUT and
    /// the float path would part. `desat=0`: colours keep their saturation.
    var curve: String {
        "zscale=p=bt709,tonemap=tonemap=mobius:param=0.3:desat=0:peak="
            + String(format: "%.6f", Double(peakLuminance) / Double(Self.referenceWhite))
    }

    /// The float path, from a decoded frame to SDR `yuv420p`.
    var exact: String { "\(Self.toLinear),\(curve),zscale=t=bt709:m=bt709:r=tv,format=yuv420p" }

    /// `lut3d` takes RGB formats only: the 4:4:4 planes Y', Cb, Cr are handed to it as G, B, R (and
    /// taken back the same way), so the LUT's (r, g, b) axes are (Cr, Y', Cb), in and out.
    static let yuvAsRGB = "mergeplanes=0x000102:gbrp16le"
    static let rgbAsYUV = "mergeplanes=0x000102:yuv444p16le"

    /// The LUT path for `width` x `height` frames (both even), from a decoded frame to SDR
    /// `yuv420p`. The LUT runs on the 2x2 blocks in 16 bits; its Cb, Cr and upscaled luma correction
    /// come down to 8 bits, and one `lut2` per pixel makes the output Y' from the source's 10-bit Y'
    /// and the correction, so no full-size plane is converted or blended on its own. swscale's
    /// plain copy from 16 to 8 bits truncates (its dither leans low too): without dither, the half
    /// step the cube adds to Cb and Cr (`ToneMapLUT`) makes it round.
    static func lookup(_ lut: ToneMapLUT.Made, width: Int, height: Int) -> String {
        "format=yuv420p10le,split[tmfull][tmhalf];"
            + "[tmhalf]scale=\(width / 2):\(height / 2):flags=area,format=yuv444p16le,\(yuvAsRGB),"
            + "lut3d=file=\(lut.cube):interp=tetrahedral,\(rgbAsYUV),extractplanes=y+u+v[tmcorrection][tmcb][tmcr];"
            + "[tmcb]scale=sws_dither=none,format=gray[tmu];[tmcr]scale=sws_dither=none,format=gray[tmv];"
            + "[tmcorrection]scale=\(width):\(height):flags=bilinear,format=gray[tmupscaled];"
            + "[tmfull]extractplanes=y[tmluma];"
            + "[tmupscaled][tmluma]lut2=c0='\(correctedLuma(lut.curve))':d=8[tmy];"
            + "[tmy][tmu][tmv]mergeplanes=0x001020:yuv420p,"
            + "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
    }

    /// The `lut2` expression for the output's 8-bit Y': `x` is the block's correction (8 bits,
    /// centred on 128), `y` the source's 10-bit Y'. `lut2` fills its table row by row of `y`,
    /// starting each row at `x` = 0, so the curve is evaluated once per row and kept in register 0;
    /// it truncates, so half a step is added to round.
    static func correctedLuma(_ curve: [Double]) -> String {
        "ifnot(x,st(0,\(greyCurve(curve, variable: "y"))));clip(ld(0)/4+x-127.5,0,255)"
    }

    /// The curve on grey as an expression over a 10-bit `variable`, in 10-bit units: `curve` holds
    /// its values at the LUT's grid points along Y' as fractions of the 16-bit range, joined by
    /// straight lines, written as a sum of hinges (`max(variable - knot, 0)`) so the expression
    /// stays flat however many points it has. Limited range keeps its levels across bit depths as
    /// shifts (8-bit 16 is 10-bit 64 and 16-bit 4096), so 16-bit full scale is 65535 / 64 in
    /// 10-bit units, not 1023.
    static func greyCurve(_ curve: [Double], variable: String) -> String {
        guard curve.count > 1 else { return variable }
        let unit = 65535.0 / 64
        let step = unit / Double(curve.count - 1)
        let slopes = zip(curve, curve.dropFirst()).map { ($1 - $0) * unit / step }
        var expression = String(format: "%.4f%+.7f*", curve[0] * unit, slopes[0]) + variable
        for index in 1..<slopes.count {
            let knot = String(format: "-%.4f,0)", Double(index) * step)
            expression += String(format: "%+.7f*max(", slopes[index] - slopes[index - 1]) + variable + knot
        }
        return expression
    }

    /// The chain in front of the split to `rungs`: a scale to the largest rung's size when the
    /// source is larger (the tone map costs per pixel), then the LUT, or the float curve without one
    /// (or for a frame of odd size, which 4:2:0 cannot halve evenly).
    func chain(source: ProbeResult.Video, rungs: [Rung], lut: ToneMapLUT.Made?) -> String {
        var (width, height) = (source.displayWidth, source.displayHeight)
        let top = rungs.max { $0.width * $0.height < $1.width * $1.height }
        let scales = top.map { $0.width * $0.height < width * height } ?? false
        if scales, let top { (width, height) = (top.width, top.height) }
        guard let lut, width % 2 == 0, height % 2 == 0 else {
            return (scales ? "scale=\(width):\(height):flags=bicubic," : "") + exact
        }
        // Always scaled to the size the LUT's halves are cut for (a no-op when the frame has it
        // already): a source with non-square pixels decodes at another size than it displays.
        return "scale=\(width):\(height):flags=bicubic," + Self.lookup(lut, width: width, height: height)
    }

    /// Output options that tag every encoded video stream as SDR BT.709, limited range.
    static let outputTags = [
        "-color_primaries:v", "bt709", "-color_trc:v", "bt709", "-colorspace:v", "bt709", "-color_range:v", "tv",
    ]

    /// Points per axis of the LUT. Odd, so that neutral Cb and Cr (16-bit 32768) are grid points:
    /// the curve scales a colour by its largest RGB channel, which has a kink at grey, and a grid
    /// that straddled grey made bright greys up to 16 8-bit steps too dark (interpolated from
    /// tinted neighbours). Valid Y'CbCr fills only part of the cube, so it needs more points than
    /// an RGB LUT: at 36 the colour test's frames moved twice as far from the float curve (PSNR 46 dB
    /// against 50 at 64).
    static let cubeSize = 65

    /// The identity grid through the curve, as raw `rgb48le`: `cubeSize` x `cubeSize`^2 pixels, red
    /// fastest, then green, then blue (a `.cube` file's order), each at k / (cubeSize - 1) of the
    /// 16-bit range. Its planes are read as this transfer's limited-range BT.2020 Y'CbCr, and the
    /// result's BT.709 Y'CbCr planes are written back as RGB (`ToneMapLUT` turns the Y' into the
    /// correction `lookup` adds).
    var samplingGraph: String {
        let (size, last) = (Self.cubeSize, Self.cubeSize - 1)
        return "color=black:s=\(size)x\(size * size):d=1:r=1,format=gbrp16le,"
            + "geq=r='round(X*65535/\(last))':g='round((Y-\(size)*floor(Y/\(size)))*65535/\(last))':b='round(floor(Y/\(size))*65535/\(last))',"
            + "\(Self.rgbAsYUV),setparams=color_primaries=bt2020:color_trc=\(transfer.rawValue):colorspace=bt2020nc:range=tv,"
            + "\(Self.toLinear),\(curve),zscale=t=bt709:m=bt709:r=tv,format=yuv444p16le,\(Self.yuvAsRGB),format=rgb48le"
    }
}
