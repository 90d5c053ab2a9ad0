#!/usr/bin/env python3
"""Phone HDR against SDR: the same 20 s of 1080p30 content as H.264 SDR, HEVC 10-bit HLG and HEVC
10-bit PQ (BT.2020, .mov tagged hvc1), each through a fresh `pulse-video serve` (embedded default,
as publish_bench.py runs it): playable and ready after `complete`, CPU of serve and its children.
Then the tone map's own cost, ffmpeg alone on the HLG and PQ sources (CPU-s, user + system of the
ffmpeg child): the float curve at 1080p (what every HDR pass ran before), the LUT at 1080p (the
ladder's way now) and the float curve after the scale to 360p (the first rendition's way now), each
minus the same run without the tone map; and what the first rendition's decode without the loop
filter saves at 360p (negative: less CPU).

The sources are made on the fly into BenchMedia/hdr/ (git-ignored; kept for the next run): the
moving pattern with temporal noise of gen-bench-media.sh, 12 Mb/s, the HDR ones converted in
linear light from the SDR picture (SDR white at 100 cd/m2). The LUT is the one the service made
in its cache folder ($TMPDIR/pulse-video-tonemap), so run the service part first (the default).

    python3 scripts/bench/hdr_bench.py [--runs 1] [--binary .build/debug/pulse-video] [--skip-serve | --serve-only]
"""
import argparse
import asyncio
import glob
import os
import resource
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import ensure_websockets
from publish_bench import one_run

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MEDIA = os.path.join(ROOT, "BenchMedia", "hdr")
SECONDS = 20
FF = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
CONTENT = f"testsrc2=size=1920x1080:rate=30:duration={SECONDS},noise=alls=20:allf=t"
SDR_TAGS = "format=yuv420p,setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
LINEAR = "zscale=t=linear:npl=100,format=gbrpf32le"
HEVC = ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-b:v", "12M", "-tag:v", "hvc1",
        "-color_primaries", "bt2020", "-colorspace", "bt2020nc", "-color_range", "tv", "-c:a", "aac", "-b:a", "128k"]
# The float curve as HLSArguments wrote it for every HDR pass before the LUT (and as ToneMap.exact is).
FLOAT_CURVE = "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p"


def sources():
    os.makedirs(MEDIA, exist_ok=True)
    paths = {"sdr": os.path.join(MEDIA, "sdr_1080p30.mp4"), "hlg": os.path.join(MEDIA, "hlg_1080p30.mov"),
             "pq": os.path.join(MEDIA, "pq_1080p30.mov")}
    if not all(os.path.exists(path) for path in paths.values()):
        print("[hdr_bench] making the 20 s sources (a few minutes, once)", flush=True)
        audio = ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={SECONDS}"]
        subprocess.run(FF + ["-f", "lavfi", "-i", CONTENT] + audio + [
            "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p", "-g", "30",
            "-b:v", "12M", "-c:a", "aac", "-b:a", "128k", paths["sdr"]], check=True)
        split = (f"[0:v]{SDR_TAGS},{LINEAR},split[a][b];"
                 f"[a]zscale=p=bt2020:t=arib-std-b67:m=bt2020nc:r=tv,format=yuv420p10le[hlg];"
                 f"[b]zscale=p=bt2020:t=smpte2084:m=bt2020nc:r=tv,format=yuv420p10le[pq]")
        subprocess.run(FF + ["-f", "lavfi", "-i", CONTENT] + audio + ["-filter_complex", split,
            "-map", "[hlg]", "-map", "1:a"] + HEVC + ["-color_trc", "arib-std-b67", paths["hlg"],
            "-map", "[pq]", "-map", "1:a"] + HEVC + ["-color_trc", "smpte2084", paths["pq"]], check=True)
    return paths


def ffmpeg_cpu(path, graph, decode=()):
    """CPU-s (user + system) of one ffmpeg decoding `path` (with the input options `decode`) through
    `graph` (None: decode only)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    arguments = FF + list(decode) + ["-i", path, "-an"] + (["-filter_complex", f"[0:v:0]{graph}"] if graph else []) + ["-f", "null", "-"]
    subprocess.run(arguments, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def tone_map_costs(path, name):
    cubes = glob.glob(os.path.join(tempfile.gettempdir(), "pulse-video-tonemap", f"{name}-*.cube"))
    if not cubes:
        raise SystemExit(f"no {name} LUT in the service's cache: run without --skip-serve first")
    lut = (f"zscale,format=gbrp16le,lut3d=file={cubes[0]}:interp=tetrahedral,"
           "setparams=color_primaries=bt709:color_trc=bt709:colorspace=gbr:range=pc,zscale=m=bt709:r=tv,format=yuv420p")
    small = "scale=640:360:flags=bicubic"
    decode = ffmpeg_cpu(path, None)
    return {
        "decode": decode,
        "float 1080p": ffmpeg_cpu(path, FLOAT_CURVE) - decode,
        "LUT 1080p": ffmpeg_cpu(path, lut) - decode,
        "float 360p": ffmpeg_cpu(path, f"{small},{FLOAT_CURVE}") - ffmpeg_cpu(path, f"{small},format=yuv420p"),
        # The first rendition's decode (DecodeOptions) against the loop-filtered one, both to 360p.
        "360p no loop filter": ffmpeg_cpu(path, f"{small},format=yuv420p", ["-skip_loop_filter", "all"])
        - ffmpeg_cpu(path, f"{small},format=yuv420p"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "pulse-video"))
    parser.add_argument("--skip-serve", action="store_true", help="only the tone map's own cost")
    parser.add_argument("--serve-only", action="store_true", help="no ffmpeg-alone figures")
    args = parser.parse_args()
    paths = sources()
    print(f"binary {args.binary}; {os.cpu_count()} cores; {SECONDS} s 1080p30; median of {args.runs} runs; "
          "times from `complete` returning")
    if not args.skip_serve:
        ensure_websockets()
        for name in ("sdr", "hlg", "pq"):
            runs = [asyncio.run(one_run(args.binary, paths[name], True)) for _ in range(args.runs)]
            median = {key: statistics.median(run[key] for run in runs) for key in ("playable", "ready", "cpu")}
            print(f"{name:4s}: playable {median['playable']:6.2f} s, ready {median['ready']:6.2f} s, "
                  f"CPU (serve + children) {median['cpu']:6.1f} s", flush=True)
    for name in ([] if args.serve_only else ["hlg", "pq"]):
        costs = tone_map_costs(paths[name], name)
        print(f"{name:4s} ffmpeg alone, CPU-s: " + ", ".join(f"{key} {value:.1f}" for key, value in costs.items()), flush=True)


if __name__ == "__main__":
    main()
