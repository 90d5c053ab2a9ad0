#!/usr/bin/env python3
"""Phone HDR against SDR: the same 20 s of 1080p30 content as H.264 SDR, HEVC 10-bit HLG and HEVC
10-bit PQ (BT.2020, .mov tagged hvc1), each through a fresh `pulse-video serve` (embedded default,
as publish_bench.py runs it): playable and ready after `complete`, CPU of serve and its children.
Then the tone map's own cost, ffmpeg alone on the HLG and PQ sources (CPU-s, user + system of the
ffmpeg child): the float curve at 1080p (what every HDR pass ran before), the LUT from Y'CbCr to
Y'CbCr at 1080p run at chroma resolution (the ladder's way now) and the float curve after the scale to 360p (the first
rendition's way now), each minus the same run without the tone map; and what the first rendition's
decode without the loop filter saves at 360p (negative: less CPU).

`--variants`: the 1080p tone map's ways measured against each other, each LUT sampled here from the
float curve (no service needed): the LUT in 16-bit RGB between zimg's matrices (the ladder's way
before), the same LUT on float RGB, and a LUT from BT.2020 (Y', Cb, Cr) straight to BT.709 (Y', Cb,
Cr) applied to the 4:4:4 planes relabelled as RGB (`mergeplanes`), so no matrix runs at all, on
every pixel and at chroma resolution with the luma through the curve on grey plus a correction (the
ladder's way now); each with its conversions alone, in alternating rounds; then each LUT's PSNR
against the float curve (60 frames). And the thumbnail's cost (1 s into the source, as
`Thumbnailer` makes it) for each source.

The sources are made on the fly into BenchMedia/hdr/ (git-ignored; kept for the next run): a
moving pattern with temporal noise, 12 Mb/s, in one of two contents (`--content`, CONTENTS): the
pattern's own saturated colours, all on the BT.709 gamut's edge, or the same at 15 % of their chroma
(`natural`), none near it; the HDR ones converted in
linear light from the SDR picture with SDR white at HDR reference white (203 cd/m2, as BT.2408
places SDR in HDR). A second SDR twin is the same SDR picture encoded exactly as the HDR ones are
(HEVC Main 10, 12 Mb/s): against it, HDR differs only by its transfer, its primaries and the tone
map. A third is the HLG source's own picture in SDR (the float curve),
encoded as the first twin is: against the first twin the ladder's encodes differ as well as the
decode and the tone map (x265 keeps more of the pattern's temporal noise than x264 at the same
rate, and the curve rolls off the highlights); the encoders alone on each picture are measured too,
and each source's SDR picture is described (mean Y', mean change from frame to frame, the share of
its pixels on the gamut's edge) so the twins can be compared. The LUT is sampled here from the float curve the way
`ToneMap.samplingGraph` samples it.

    python3 scripts/bench/hdr_bench.py [--runs 1] [--binary .build/debug/pulse-video] [--skip-serve | --serve-only]
        [--content pattern | natural]
    (--runs N: N rounds of the five sources in turn, each round's HDR/SDR ratios printed against
    each SDR twin)
    python3 scripts/bench/hdr_bench.py --variants [--runs 2]
    python3 scripts/bench/hdr_bench.py --gamut [--content natural]
    (x264's statistics on the HLG picture with and without the conversion from BT.2020 to BT.709,
    and on the SDR twins: one thread, so the same on any machine)
"""
import argparse
import asyncio
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import children_cpu_seconds, ensure_websockets
from publish_bench import one_run

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MEDIA = os.path.join(ROOT, "BenchMedia", "hdr")
SECONDS = 20
FF = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
# Two contents, the same moving pattern and noise. `pattern`: testsrc2's colours, fully saturated, so
# almost every pixel lies on the BT.709 gamut's edge, where converting BT.2020 back to BT.709 moves
# x265's coding errors from a colour's large components into its near-zero ones, and BT.709's steep
# toe magnifies them. `natural`: the colours at 15 % of their chroma, so that no pixel lies near that
# edge, as in camera footage (`gamut_edge_share`).
CONTENTS = {"pattern": f"testsrc2=size=1920x1080:rate=30:duration={SECONDS},noise=alls=20:allf=t",
            "natural": f"testsrc2=size=1920x1080:rate=30:duration={SECONDS},hue=s=0.15,noise=alls=20:allf=t"}
SDR_TAGS = "format=yuv420p,setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
LINEAR = "zscale=t=linear,format=gbrpf32le"
# A keyframe a second, as the SDR twin has (`-g 30`) and as phones write: with x265's default of 250
# frames, a chunk starting 6 s in decoded 6 s of HEVC before its first frame, a cost the twin did not pay.
HEVC_VIDEO = ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-g", "30", "-b:v", "12M", "-tag:v", "hvc1"]
HEVC = HEVC_VIDEO + ["-color_primaries", "bt2020", "-colorspace", "bt2020nc", "-color_range", "tv", "-c:a", "aac", "-b:a", "128k"]
# ToneMap's curve: zimg to linear light with 1.0 at reference white (203 cd/m2), BT.2020 to BT.709,
# mobius up to the transfer's peak (ToneMap.toLinear and ToneMap.curve).
PEAK = {"hlg": 1000, "pq": 10000}


def curve(name, primaries=True):
    """`primaries=False`: the same light with BT.2020's primaries kept (wrong colours), to measure
    what their conversion does (`gamut_statistics`)."""
    return (f"zscale=t=linear:npl=203,format=gbrpf32le,{'zscale=p=bt709,' if primaries else ''}"
            f"tonemap=tonemap=mobius:param=0.3:desat=0:peak={PEAK[name] / 203:.6f}")


def float_curve(name, primaries=True):
    """The float path to SDR yuv420p, as ToneMap.exact."""
    return f"{curve(name, primaries)},zscale=t=bt709:m=bt709:r=tv,format=yuv420p"


def sdr_picture(name):
    """The graph from a source's decoded frame to its SDR picture: HDR through the float curve."""
    return float_curve(name) if name in TRANSFERS else "format=yuv420p"


def sources(content="pattern"):
    os.makedirs(MEDIA, exist_ok=True)
    graph = CONTENTS[content]
    prefix = "" if content == "pattern" else f"{content}_"
    files = {"sdr": "sdr_1080p30.mp4", "sdr_hlg_picture": "sdr_hlg_picture_mobius_1080p30.mp4", "sdr_hevc": "sdr_hevc10_1080p30.mov",
             "hlg": "hlg_1080p30_203.mov", "pq": "pq_1080p30_203.mov"}
    paths = {name: os.path.join(MEDIA, prefix + file) for name, file in files.items()}
    if not all(os.path.exists(paths[name]) for name in ("sdr", "hlg", "pq")):
        print("[hdr_bench] making the 20 s sources (a few minutes, once)", flush=True)
        audio = ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={SECONDS}"]
        subprocess.run(FF + ["-f", "lavfi", "-i", graph] + audio + [
            "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p", "-g", "30",
            "-b:v", "12M", "-c:a", "aac", "-b:a", "128k", paths["sdr"]], check=True)
        split = (f"[0:v]{SDR_TAGS},{LINEAR},split[a][b];"
                 f"[a]zscale=npl=203:p=bt2020:t=arib-std-b67:m=bt2020nc:r=tv,format=yuv420p10le[hlg];"
                 f"[b]zscale=npl=203:p=bt2020:t=smpte2084:m=bt2020nc:r=tv,format=yuv420p10le[pq]")
        subprocess.run(FF + ["-f", "lavfi", "-i", graph] + audio + ["-filter_complex", split,
            "-map", "[hlg]", "-map", "1:a"] + HEVC + ["-color_trc", "arib-std-b67", paths["hlg"],
            "-map", "[pq]", "-map", "1:a"] + HEVC + ["-color_trc", "smpte2084", paths["pq"]], check=True)
    if not os.path.exists(paths["sdr_hevc"]):
        # The same SDR picture encoded exactly as the HDR twins are (HEVC Main 10, 12 Mb/s): against
        # it, HDR differs by its transfer, its primaries and the tone map only. At the same rate
        # x265 in 10 bits keeps more of the pattern's noise than x264 (and than itself in 8 bits),
        # and x264 pays for that noise in every rung.
        subprocess.run(FF + ["-f", "lavfi", "-i", graph, "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={SECONDS}",
                             "-vf", f"{SDR_TAGS},format=yuv420p10le"] + HEVC_VIDEO + [
                             "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv",
                             "-c:a", "aac", "-b:a", "128k", paths["sdr_hevc"]], check=True)
    if not os.path.exists(paths["sdr_hlg_picture"]):
        # The HLG twin's own picture in SDR (the float curve), encoded as the SDR twin is: the
        # ladder's encoders then get the same picture from both, and only the decode and the tone
        # map differ.
        subprocess.run(FF + ["-i", paths["hlg"], "-map", "0:v:0", "-map", "0:a:0", "-vf", float_curve("hlg"), "-c:v", "libx264",
                             "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p", "-g", "30", "-b:v", "12M",
                             "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv",
                             "-c:a", "copy", paths["sdr_hlg_picture"]], check=True)
    return paths


def cpu_of(arguments):
    """Runs `arguments` and returns its CPU-s (user + system)."""
    before = children_cpu_seconds()
    subprocess.run(arguments, check=True)
    return children_cpu_seconds() - before


def ffmpeg_cpu(path, graph, decode=()):
    """CPU-s (user + system) of one ffmpeg decoding `path` (with the input options `decode`) through
    `graph` (None: decode only)."""
    return cpu_of(FF + list(decode) + ["-i", path, "-an"] + (["-filter_complex", f"[0:v:0]{graph}"] if graph else []) + ["-f", "null", "-"])


def tone_map_costs(path, name):
    small = "scale=640:360:flags=bicubic"
    decode = ffmpeg_cpu(path, None)
    # The ladder's LUT as ToneMap runs it: Y'CbCr to Y'CbCr, 65 points, at chroma resolution.
    with tempfile.TemporaryDirectory(prefix="pulse-hdr-lut-") as folder:
        lut_cost = ffmpeg_cpu(path, chroma_resolution_tone_map(TRANSFERS[name], folder, 1920, 1080)) - decode
    return {
        "decode": decode,
        "float 1080p": ffmpeg_cpu(path, float_curve(name)) - decode,
        "LUT 1080p": lut_cost,
        "float 360p": ffmpeg_cpu(path, f"{small},{float_curve(name)}") - ffmpeg_cpu(path, f"{small},format=yuv420p"),
        # The first rendition's decode (DecodeOptions) against the loop-filtered one, both to 360p.
        "360p no loop filter": ffmpeg_cpu(path, f"{small},format=yuv420p", ["-skip_loop_filter", "all"])
        - ffmpeg_cpu(path, f"{small},format=yuv420p"),
    }


TRANSFERS = {"hlg": "arib-std-b67", "pq": "smpte2084"}
NAMES = {transfer: name for name, transfer in TRANSFERS.items()}
# The 4:4:4 planes Y', Cb, Cr read as G, B, R (and back): lut3d takes RGB formats only.
AS_RGB, AS_YUV = "mergeplanes=0x000102:gbrp16le", "mergeplanes=0x000102:yuv444p16le"
SDR_RGB = "setparams=color_primaries=bt709:color_trc=bt709:colorspace=gbr:range=pc"
SDR_YUV = "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"


def sample_values(transfer, yuv, size):
    """The float curve sampled on an identity grid of `size` points per axis (each at k / (size - 1)
    of the 16-bit range, as ToneMap.samplingGraph makes it): (r, g, b) 16-bit triples, red fastest,
    in RGB, or with its planes read as BT.2020 Y'CbCr in and BT.709 out (YUV: (r, g, b) are (Cr, Y',
    Cb))."""
    last = size - 1
    grid = (f"color=black:s={size}x{size * size}:d=1:r=1,format=gbrp16le,geq=r='round(X*65535/{last})'"
            f":g='round((Y-{size}*floor(Y/{size}))*65535/{last})':b='round(floor(Y/{size})*65535/{last})'")
    if yuv:
        graph = (f"{grid},{AS_YUV},setparams=color_primaries=bt2020:color_trc={transfer}:colorspace=bt2020nc:range=tv,"
                 f"{curve(NAMES[transfer])},zscale=t=bt709:m=bt709:r=tv,format=yuv444p16le,{AS_RGB},format=rgb48le")
    else:
        graph = f"{grid},setparams=color_primaries=bt2020:color_trc={transfer}:colorspace=gbr:range=pc,{curve(NAMES[transfer])},zscale=t=bt709,format=rgb48le"
    raw = subprocess.run(FF + ["-f", "lavfi", "-i", graph, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb48le", "-"],
                         check=True, capture_output=True).stdout
    values = struct.unpack(f"<{size ** 3 * 3}H", raw)
    return [values[index:index + 3] for index in range(0, len(values), 3)]


def write_cube(triples, size, path):
    with open(path, "w") as f:
        f.write(f"LUT_3D_SIZE {size}\n")
        for triple in triples:
            f.write("%.6f %.6f %.6f\n" % tuple(value / 65535 for value in triple))
    return path


def sample_cube(transfer, yuv, size, path):
    """A .cube file of the float curve (`sample_values`)."""
    return write_cube(sample_values(transfer, yuv, size), size, path)


def chroma_resolution_tone_map(transfer, folder, width, height, size=65, fused=True):
    """The tone map with its 3D LUT at chroma resolution, as ToneMap.lookup and ToneMapLUT make it:
    each 2x2 block's mean Y' with its Cb, Cr through a LUT that gives the block's Cb, Cr (raised by
    half an 8-bit step, so the truncating shift to 8 bits rounds) and a luma correction; each
    pixel's 8-bit Y' from one `lut2` of its 10-bit Y' through the curve on grey (the LUT's Y' out
    at the grid points of neutral Cb, Cr, joined by straight lines) and the block's
    correction, upscaled. Returns the filter graph, from the decoded frame to yuv420p. `fused=False`:
    the ladder's luma path before (a 10-bit `lut`, a `blend` with the correction, the whole frame
    converted to 8 bits at the end), for comparison."""
    triples = sample_values(transfer, True, size)
    neutral = size // 2
    curve = [triples[(neutral * size + green) * size + neutral][1] / 65535 for green in range(size)]
    corrected = [(min(cr + 128, 65535), min(max(y - curve[index // size % size] * 65535 + 32767.5, 0), 65535), min(cb + 128, 65535))
                 for index, (cr, y, cb) in enumerate(triples)]
    cube = write_cube(corrected, size, os.path.join(folder, f"chroma-{transfer}.cube"))
    # ToneMap.greyCurve: hinges at the grid points, in 10-bit units (16-bit full scale is 65535 / 64).
    unit = 65535 / 64
    step = unit / (size - 1)
    slopes = [(curve[i + 1] - curve[i]) * unit / step for i in range(size - 1)]

    def grey(variable):
        return f"{curve[0] * unit:.4f}{slopes[0]:+.7f}*{variable}" + "".join(
            f"{slopes[i] - slopes[i - 1]:+.7f}*max({variable}-{i * step:.4f},0)" for i in range(1, size - 1))

    half = (f"split[tmfull][tmhalf];"
            f"[tmhalf]scale={width // 2}:{height // 2}:flags=area,format=yuv444p16le,{AS_RGB},"
            f"lut3d=file={cube}:interp=tetrahedral,{AS_YUV},extractplanes=y+u+v[tmcy][tmcu][tmcv];")
    if not fused:
        return (half + f"[tmcu]format=gray10le[tmu];[tmcv]format=gray10le[tmv];"
                f"[tmfull]extractplanes=y,lut=c0='{grey('val')}'[tmly];"
                f"[tmcy]scale={width}:{height}:flags=bilinear,format=gray10le[tmcorr];"
                f"[tmly][tmcorr]blend=all_mode=grainmerge[tmy];"
                f"[tmy][tmu][tmv]mergeplanes=0x001020:yuv420p10le,{SDR_YUV},format=yuv420p")
    luma = f"ifnot(x,st(0,{grey('y')}));clip(ld(0)/4+x-127.5,0,255)"
    to8 = "scale=sws_dither=none,format=gray"
    return (half + f"[tmcu]{to8}[tmu];[tmcv]{to8}[tmv];"
            f"[tmcy]scale={width}:{height}:flags=bilinear,format=gray[tmcorr];"
            f"[tmfull]extractplanes=y[tmly];"
            f"[tmcorr][tmly]lut2=c0='{luma}':d=8[tmy];"
            f"[tmy][tmu][tmv]mergeplanes=0x001020:yuv420p,{SDR_YUV}")


def psnr(path, name, graph, frames=60):
    """Average PSNR (all planes, dB) of `graph`'s output against the float curve, both as yuv420p."""
    reference = float_curve(name)
    complex_graph = f"[0:v:0]split[a][b];[a]{graph}[x];[b]{reference}[y];[x][y]psnr"
    run = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-i", path, "-frames:v", str(frames), "-filter_complex", complex_graph,
                          "-f", "null", "-"], check=True, capture_output=True, text=True)
    return float(run.stderr.rsplit("average:", 1)[1].split()[0])


def tone_map_variants(path, name, runs):
    with tempfile.TemporaryDirectory(prefix="pulse-hdr-variants-") as folder:
        measure_variants(path, name, runs, folder)


def measure_variants(path, name, runs, folder):
    rgb_cube = sample_cube(TRANSFERS[name], False, 36, os.path.join(folder, "rgb36.cube"))
    yuv_cube = sample_cube(TRANSFERS[name], True, 65, os.path.join(folder, "yuv65.cube"))
    rgb_lut = f"lut3d=file={rgb_cube}:interp=tetrahedral,"
    yuv_lut = f"lut3d=file={yuv_cube}:interp=tetrahedral,"
    chains = {
        "decode to yuv420p": "format=yuv420p",
        "RGB 16-bit, matrices only": f"zscale,format=gbrp16le,{SDR_RGB},zscale=m=bt709:r=tv,format=yuv420p",
        "RGB 16-bit LUT 36": f"zscale,format=gbrp16le,{rgb_lut}{SDR_RGB},zscale=m=bt709:r=tv,format=yuv420p",
        "RGB float LUT 36": f"zscale,format=gbrpf32le,{rgb_lut}{SDR_RGB},zscale=m=bt709:r=tv,format=yuv420p",
        "YUV 4:4:4 16-bit, relabel only": f"zscale=f=bilinear,format=yuv444p16le,{AS_RGB},{AS_YUV},{SDR_YUV},format=yuv420p",
        "YUV LUT 65, every pixel": f"zscale=f=bilinear,format=yuv444p16le,{AS_RGB},{yuv_lut}{AS_YUV},{SDR_YUV},format=yuv420p",
        "YUV LUT 65 at chroma resolution, lut + blend": chroma_resolution_tone_map(TRANSFERS[name], folder, 1920, 1080, fused=False),
        "YUV LUT 65 at chroma resolution (the ladder's)": chroma_resolution_tone_map(TRANSFERS[name], folder, 1920, 1080),
    }
    costs = {label: [] for label in chains}
    for _ in range(runs):
        for label, graph in chains.items():
            costs[label].append(ffmpeg_cpu(path, graph))
    for label, values in costs.items():
        print(f"{name:4s} 1080p {label:46s} CPU-s " + ", ".join(f"{value:.1f}" for value in values)
              + f" (load {os.getloadavg()[0]:.0f})", flush=True)
    for label in ("RGB 16-bit LUT 36", "YUV LUT 65, every pixel", "YUV LUT 65 at chroma resolution (the ladder's)"):
        print(f"{name:4s} {label}: PSNR against the float curve {psnr(path, name, chains[label]):.1f} dB", flush=True)
    yuv36 = sample_cube(TRANSFERS[name], True, 36, os.path.join(folder, "yuv36.cube"))
    graph = chains["YUV LUT 65, every pixel"].replace(yuv_cube, yuv36)
    print(f"{name:4s} YUV LUT 36: PSNR against the float curve {psnr(path, name, graph):.1f} dB", flush=True)


# The ladder's encoders for a 1080p source as HLSArguments writes them (x264, its rungs' caps).
LADDER_RUNGS = [(1920, 1080, "5000000", "4.0"), (1280, 720, "2800000", "3.1"), (854, 480, "1400000", "3.1"), (426, 240, "400000", "3.0")]


def rung_options(index, rate, level):
    """x264's options for the ladder's rung `index` (video stream `index`), as HLSArguments writes them."""
    return [f"-c:v:{index}", "libx264", f"-preset:v:{index}", "veryfast", f"-crf:v:{index}", "23", f"-refs:v:{index}", "2",
            f"-maxrate:v:{index}", rate, f"-bufsize:v:{index}", str(2 * int(rate)), f"-profile:v:{index}", "high",
            f"-level:v:{index}", level, f"-g:v:{index}", "120", f"-force_key_frames:v:{index}", "expr:gte(t,n_forced*2)"]


def encoder_costs(paths, seconds=6):
    """CPU-s of the ladder's four x264 encodes alone, from each source's SDR picture (decoded, and
    for HDR through the float curve) written raw first: what the picture itself costs to encode."""
    split = f"split={len(LADDER_RUNGS)}" + "".join(f"[s{i}]" for i in range(len(LADDER_RUNGS))) + ";" + ";".join(
        f"[s{i}]scale={w}:{h}:flags=bicubic,format=yuv420p[v{i}]" for i, (w, h, _, _) in enumerate(LADDER_RUNGS))
    encode = []
    for i, (_, _, rate, level) in enumerate(LADDER_RUNGS):
        encode += ["-map", f"[v{i}]"] + rung_options(i, rate, level)
    costs = {}
    with tempfile.TemporaryDirectory(prefix="pulse-hdr-encode-") as folder:
        for name, path in paths.items():
            raw = os.path.join(folder, f"{name}.yuv")
            subprocess.run(FF + ["-i", path, "-t", str(seconds), "-an", "-vf", sdr_picture(name), "-f", "rawvideo", raw], check=True)
            costs[name] = cpu_of(FF + ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "1920x1080", "-r", "30", "-i", raw,
                                       "-filter_complex", f"[0:v]{split}"] + encode + ["-f", "null", "-"])
            os.remove(raw)
    return costs


def encoder_statistics(path, graph, seconds=2):
    """x264's own statistics for the ladder's 1080p rung on `seconds` of `path` through `graph`, on
    one thread so that they do not depend on the machine: the shares of skipped macroblocks in P and
    B frames and of intra macroblocks in P frames (%), and the rate (kb/s)."""
    _, _, rate, level = LADDER_RUNGS[0]
    run = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-t", str(seconds), "-i", path, "-an", "-vf", graph]
                         + rung_options(0, rate, level) + ["-sc_threshold", "0", "-threads", "1", "-f", "null", "-"],
                         check=True, capture_output=True, text=True).stderr
    skips = [float(share) for share in re.findall(r"skip:\s*([\d.]+)%", run)]
    intra = sum(float(share) for share in re.search(r"mb P\s+I16..4:\s*([\d.]+)%\s+([\d.]+)%\s+([\d.]+)%", run).groups())
    return {"skip P": skips[0], "skip B": skips[1], "intra in P": intra, "kb/s": float(re.search(r"kb/s:([\d.]+)", run).group(1))}


def gamut_statistics(paths):
    """What the conversion from BT.2020 to BT.709 does to x264's work: the HLG picture through the
    float curve, and through the same curve with the primaries left as they are (wrong colours, the
    same light), against the SDR twin encoded as the HDR sources are."""
    return {"HLG, the float curve": encoder_statistics(paths["hlg"], float_curve("hlg")),
            "HLG, primaries left as BT.2020": encoder_statistics(paths["hlg"], float_curve("hlg", primaries=False)),
            "SDR twin, HEVC Main 10": encoder_statistics(paths["sdr_hevc"], sdr_picture("sdr_hevc")),
            "SDR twin, H.264": encoder_statistics(paths["sdr"], sdr_picture("sdr"))}


def describe_picture(path, name, seconds=2):
    """The source's SDR picture (HDR through the float curve) over its first `seconds`: mean Y'
    (8-bit) and the mean absolute change of Y' from frame to frame, the noise an encoder pays for."""
    picture = sdr_picture(name)

    def mean_level(graph):
        run = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-t", str(seconds), "-i", path, "-vf",
                              f"{graph},signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=-", "-f", "null", "-"],
                             check=True, capture_output=True, text=True)
        return statistics.mean(float(line.split("=", 1)[1]) for line in run.stdout.splitlines() if "YAVG=" in line)

    return mean_level(picture), mean_level(f"{picture},tblend=all_mode=difference")


def gamut_edge_share(path, name, frames=10):
    """The share of pixels of the source's SDR picture on or near the BT.709 gamut's edge: a
    component under 0.5 % of white in linear light while another is over 5 %. There the conversion
    from BT.2020 magnifies coding errors (CONTENTS). Needs numpy."""
    import numpy
    raw = subprocess.run(FF + ["-i", path, "-frames:v", str(frames), "-an", "-vf", f"{sdr_picture(name)},scale=640:360,format=gbrp",
                                    "-f", "rawvideo", "-"], check=True, capture_output=True).stdout
    linear = (numpy.frombuffer(raw, numpy.uint8).reshape(-1, 3, 360, 640) / 255.0) ** 2.4
    low, high = linear.min(axis=1), linear.max(axis=1)
    return float(((low < 0.005) & (high > 0.05)).mean())


def thumbnail_cpu(path, name):
    """CPU-s of one thumbnail as Thumbnailer makes it: 1 s in, scaled, the float curve for HDR."""
    scale = "scale='min(1280,iw)':-2:flags=bicubic"
    graph = f"{scale},{float_curve(name)},format=yuvj420p" if name in TRANSFERS else f"{scale},format=yuvj420p"
    with tempfile.TemporaryDirectory() as folder:
        return cpu_of(FF + ["-ss", "1", "-i", path, "-map", "0:v:0", "-frames:v", "1", "-vf", graph, "-c:v", "mjpeg", "-q:v", "3",
                            "-f", "image2", "-update", "1", os.path.join(folder, "t.jpg")])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "pulse-video"))
    parser.add_argument("--skip-serve", action="store_true", help="only the tone map's own cost")
    parser.add_argument("--serve-only", action="store_true", help="no ffmpeg-alone figures")
    parser.add_argument("--variants", action="store_true", help="only the 1080p tone map's ways and the thumbnail")
    parser.add_argument("--content", choices=sorted(CONTENTS), default="pattern")
    parser.add_argument("--gamut", action="store_true", help="only x264's statistics with and without the primaries' conversion")
    args = parser.parse_args()
    paths = sources(args.content)
    if args.gamut:
        for name, figures in gamut_statistics(paths).items():
            print(f"x264, 2 s at 1080p, {name}: " + ", ".join(f"{key} {value:.1f}" for key, value in figures.items()), flush=True)
        return
    if args.variants:
        for name in ("hlg", "pq"):
            tone_map_variants(paths[name], name, args.runs)
        for name, path in paths.items():
            costs = [thumbnail_cpu(path, name) for _ in range(3)]
            print(f"{name:4s} thumbnail at 1 s, CPU-s: " + ", ".join(f"{cost:.2f}" for cost in costs), flush=True)
        return
    print(f"binary {args.binary}; {os.cpu_count()} cores; {SECONDS} s 1080p30; median of {args.runs} runs; "
          f"times from `complete` returning; content {args.content}")
    for name, path in paths.items():
        level, change = describe_picture(path, name)
        print(f"{name:15s} SDR picture: mean Y' {level:.1f}, mean change frame to frame {change:.2f}, "
              f"on the gamut's edge {gamut_edge_share(path, name) * 100:.1f} %", flush=True)
    if not args.skip_serve:
        ensure_websockets()
        # Round after round of the five, so that a machine's drift (CPU-s of the same command move
        # by 15 % here within an hour) reaches all of them alike; each round's ratios are paired.
        runs = {name: [] for name in ("sdr", "sdr_hevc", "sdr_hlg_picture", "hlg", "pq")}
        for round_index in range(args.runs):
            for name in runs:
                runs[name].append(asyncio.run(one_run(args.binary, paths[name], True)))
            for twin in ("sdr", "sdr_hevc", "sdr_hlg_picture"):
                ratios = ", ".join(f"{name} {runs[name][-1]['cpu'] / runs[twin][-1]['cpu']:.2f}x CPU "
                                   f"{runs[name][-1]['ready'] / runs[twin][-1]['ready']:.2f}x ready" for name in ("hlg", "pq"))
                print(f"round {round_index + 1}: {twin} CPU {runs[twin][-1]['cpu']:.1f} s; {ratios}", flush=True)
        for name, measured in runs.items():
            median = {key: statistics.median(run[key] for run in measured) for key in ("playable", "ready", "cpu")}
            print(f"{name:4s}: playable {median['playable']:6.2f} s, ready {median['ready']:6.2f} s, "
                  f"CPU (serve + children) {median['cpu']:6.1f} s", flush=True)
    if not args.serve_only:
        costs = encoder_costs(paths)
        print("the ladder's x264 encodes alone on 6 s of each source's SDR picture, CPU-s: "
              + ", ".join(f"{name} {cost:.1f}" for name, cost in costs.items()), flush=True)
    for name in ([] if args.serve_only else ["hlg", "pq"]):
        costs = tone_map_costs(paths[name], name)
        print(f"{name:4s} ffmpeg alone, CPU-s: " + ", ".join(f"{key} {value:.1f}" for key, value in costs.items()), flush=True)


if __name__ == "__main__":
    main()
