#!/usr/bin/env python3
"""Quality per bit: for each benchmark source (phone-like, screen recording, dark low-motion; 1080p30,
made by gen-bench-media.sh) and each rung, the bit rate, SSIM and PSNR against the source scaled to
the rung (ffmpeg's `ssim` and `psnr` filters) and the CPU seconds of the encode, side by side for each
encoder setting considered.

A setting is PRESET/CRF/CAPS[/TUNE[/X264PARAMS]]: an x264 preset, a CRF, the rungs' maxrate caps
(`pulse`: the service's LadderPlanner caps; `apple`: the average rates Apple's HLS Authoring
Specification suggests for the same resolutions), an optional `-tune` (`none` for none) and
optional `-x264-params`; the service's own is `veryfast/23/pulse/none/ref=2`. The sweep settings run
on a subset of rungs (--sweep-rungs); the ladder settings on every rung.

Settings differ in bits as well as in quality, so each is also put at the same bits as the
reference curve (--reference, a preset with CAPS `pulse`, at CRF 21, 23 and 26: SSIM dB interpolated
in log bit rate, extrapolated from the nearest two points outside them): "dB@bits" is how much
better (+) or worse its SSIM is than the reference's at its own bit rate, and "CPU x" its CPU
against the reference's CRF 23, per source and rung. The front is on those two: a setting is off
it when another is no dearer in CPU and better at the same bits.

How a rung is encoded: with the ffmpeg arguments HLSArguments writes for it (libx264, the preset,
the CRF, -maxrate and -bufsize twice that, capped at the source's own video rate as LadderPlanner
does, High profile at the rung's H.264 level, -g, a forced IDR every 2 s, no scene cuts, MPEG-TS HLS
segments of 10 s), on the picture the service's filter graph makes for the rung (bicubic scale to
the rung's size, yuv420p). That picture is made once per source and rung into a raw file, which is
both the encoder's input and the metrics' reference: so the CPU seconds are x264's and the muxer's
alone (user + sys of the ffmpeg child, from getrusage), not the decode of the source, which is the
same for every setting and is printed apart, and the metrics measure the encoder alone.

CPU seconds are the figures to compare on a shared machine; wall seconds are printed with the load
average seen, and mean little under load.

    python3 scripts/bench/quality_bench.py [--seconds 10] [--sources phone screen dark]
        [--sweep-rungs 720 360] [--sweep S ...] [--ladder S ...] [--json out.json]
"""
import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from transcode_bench import measure, probe

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHORT_SIDES = [1080, 720, 480, 360, 240]
CAPS = {
    # LadderPlanner.capsAt30fps.
    "pulse": {1080: 5_000_000, 720: 2_800_000, 480: 1_400_000, 360: 800_000, 240: 400_000},
    # Apple's table (H.264, 16:9): 1920x1080 6000 kb/s, 1280x720 3000, 640x360 365, 416x234 145; it
    # has no 480p: 854x480 is interpolated by pixel count between 768x432 at 1100 and 960x540 at 2000.
    "apple": {1080: 6_000_000, 720: 3_000_000, 480: 1_500_000, 360: 365_000, 240: 145_000},
}
# H264Level's table: (name, macroblocks per second, macroblocks per frame, High profile bits/s).
LEVELS = [("3.0", 40_500, 1_620, 12_500_000), ("3.1", 108_000, 3_600, 17_500_000), ("3.2", 216_000, 5_120, 25_000_000),
          ("4.0", 245_760, 8_192, 25_000_000), ("4.1", 245_760, 8_192, 62_500_000), ("4.2", 522_240, 8_704, 62_500_000),
          ("5.0", 589_824, 22_080, 168_750_000), ("5.1", 983_040, 36_864, 300_000_000), ("5.2", 2_073_600, 36_864, 300_000_000)]
SOURCES = {"phone": "phone_1080p30_17mbps", "screen": "screen_1080p30", "dark": "dark_1080p30"}
PRESETS = ["veryfast", "faster", "fast"]
# What the service runs (EncodingSettings: veryfast, CRF 23, at least 2 reference frames).
SERVICE = "veryfast/23/pulse/none/ref=2"
DEFAULT_SWEEP = ([f"{p}/{c}/pulse" for p in PRESETS for c in (21, 23, 26)]
                 + [f"{p}/23/pulse/film" for p in PRESETS]
                 + [f"{p}/23/apple" for p in PRESETS]
                 + ["veryfast/23/pulse/animation"]
                 + [f"veryfast/23/pulse/none/{params}" for params in
                    ("ref=2", "trellis=1", "subme=4", "subme=4:trellis=1", "ref=2:subme=4:trellis=1", "aq-mode=3")])
DEFAULT_LADDER = [SERVICE, "veryfast/23/pulse", "veryfast/23/apple"]
KEYFRAME_SECONDS = 2
SEGMENT_SECONDS = 10


def parse_setting(text):
    parts = text.split("/")
    if len(parts) not in (3, 4, 5) or parts[2] not in CAPS:
        raise SystemExit(f"bad setting {text!r}: PRESET/CRF/CAPS[/TUNE[/X264PARAMS]], CAPS one of {', '.join(CAPS)}")
    tune = parts[3] if len(parts) > 3 and parts[3] != "none" else None
    return {"name": text, "preset": parts[0], "crf": int(parts[1]), "caps": parts[2], "tune": tune,
            "params": parts[4] if len(parts) > 4 else None}


def source_path(kind, seconds):
    subprocess.run(["bash", os.path.join(ROOT, "scripts", "bench", "gen-bench-media.sh"), os.path.join(ROOT, "BenchMedia"),
                    str(seconds), kind], check=True, stdout=subprocess.DEVNULL)
    base = SOURCES[kind]
    return os.path.join(ROOT, "BenchMedia", f"{base}.mp4" if seconds == 30 else f"{base}_{seconds}s.mp4")


def rung_size(width, height, short_side):
    """LadderPlanner's size: the short side, the long side scaled to the nearest even number."""
    short, long = min(width, height), max(width, height)
    other = max(2, round(long * short_side / short / 2) * 2)
    return (other, short_side) if width >= height else (short_side, other)


def level(width, height, fps, maxrate):
    frame = ((width + 15) // 16) * ((height + 15) // 16)
    fit = next((name for name, per_second, per_frame, rate in LEVELS
                if frame <= per_frame and frame * fps <= per_second and maxrate <= rate), LEVELS[-1][0])
    return fit


def raw_input(path, width, height, fps):
    return ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}", "-framerate", str(fps), "-i", path]


def prepare(source, width, height, path):
    """The rung's picture as the service's filter graph makes it, decoded once into a raw file."""
    return measure(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", source, "-map", "0:v:0",
                    "-vf", f"scale={width}:{height}:flags=bicubic,format=yuv420p,setsar=1", "-f", "rawvideo", path])


def encode(raw, width, height, fps, maxrate, setting, out):
    os.makedirs(out, exist_ok=True)
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y"] + raw_input(raw, width, height, fps) + [
        "-c:v", "libx264", "-preset", setting["preset"], "-crf", str(setting["crf"]),
        "-maxrate", str(maxrate), "-bufsize", str(maxrate * 2), "-profile:v", "high",
        "-level", level(width, height, fps, maxrate), "-g", str(math.ceil(fps * KEYFRAME_SECONDS * 2)),
        "-force_key_frames", f"expr:gte(t,n_forced*{KEYFRAME_SECONDS})", "-forced-idr", "1", "-sc_threshold", "0"]
    if setting["tune"]:
        cmd += ["-tune", setting["tune"]]
    if setting["params"]:
        cmd += ["-x264-params", setting["params"]]
    cmd += ["-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_playlist_type", "vod", "-hls_segment_type", "mpegts",
            "-hls_flags", "independent_segments", "-hls_segment_filename", f"{out}/seg_%05d.ts", f"{out}/index.m3u8"]
    wall, cpu = measure(cmd)
    size = sum(os.path.getsize(os.path.join(out, name)) for name in os.listdir(out) if name.endswith(".ts"))
    return wall, cpu, size


def quality(playlist, raw, width, height, fps):
    """(SSIM All, SSIM dB, PSNR average) of the encoded rung against its raw picture."""
    graph = ("[0:v]setpts=PTS-STARTPTS,split[a0][a1];[1:v]setpts=PTS-STARTPTS,split[b0][b1];"
             "[a0][b0]ssim[s];[a1][b1]psnr[p]")
    err = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "info", "-i", playlist] + raw_input(raw, width, height, fps)
                         + ["-filter_complex", graph, "-map", "[s]", "-f", "null", "-", "-map", "[p]", "-f", "null", "-"],
                         capture_output=True, text=True).stderr
    ssim = re.search(r"SSIM .*All:([0-9.]+) \(([0-9.inf]+)\)", err)
    psnr = re.search(r"PSNR .*average:([0-9.inf]+)", err)
    if not ssim or not psnr:
        raise SystemExit(f"no SSIM/PSNR summary for {playlist}:\n{err[-2000:]}")
    return float(ssim.group(1)), float(ssim.group(2)), float(psnr.group(1))


def at_same_bits(row, curve):
    """The reference curve's SSIM dB at `row`'s bit rate (log-linear between its nearest points)."""
    points = sorted((math.log(r["kbps"]), r["ssim_db"]) for r in curve)
    x = math.log(row["kbps"])
    below = [p for p in points if p[0] <= x]
    above = [p for p in points if p[0] > x]
    a, b = (below[-1], above[0]) if below and above else (points[:2] if not below else points[-2:])
    return a[1] + (x - a[0]) * (b[1] - a[1]) / (b[0] - a[0]) if b[0] != a[0] else a[1]


def run_source(kind, seconds, sweep, ladder, sweep_rungs, work):
    source = source_path(kind, seconds)
    info = probe(source)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    width, height = video["width"], video["height"]
    num, den = (int(x) for x in video["avg_frame_rate"].split("/"))
    fps = num / den
    source_rate = int(video.get("bit_rate") or 0)
    print(f"\n== {kind}: {os.path.basename(source)} {width}x{height} {fps:g} fps, video {source_rate / 1000:.0f} kb/s, "
          f"{float(info['format']['duration']):.1f} s; load {os.getloadavg()[0]:.1f}", flush=True)
    print(f"{'rung':>5} {'setting':30} {'kb/s':>7} {'SSIM':>7} {'SSIM dB':>7} {'PSNR':>6} {'CPU s':>6} {'wall s':>6}")
    rows = []
    for short_side in [s for s in SHORT_SIDES if s <= min(width, height)]:
        settings = ladder + [s for s in sweep if short_side in sweep_rungs and s not in ladder]
        if not settings:
            continue
        w, h = rung_size(width, height, short_side)
        raw = os.path.join(work, f"{kind}_{short_side}.yuv")
        prep_wall, prep_cpu = prepare(source, w, h, raw)
        print(f"{short_side:>4}p {'(decode + scale, every setting)':30} {'':>7} {'':>7} {'':>7} {'':>6} {prep_cpu:6.1f} {prep_wall:6.1f}", flush=True)
        for text in settings:
            setting = parse_setting(text)
            cap = CAPS[setting["caps"]][short_side]
            if fps > 31:
                cap = cap * 3 // 2
            if source_rate > 0:
                cap = min(cap, max(source_rate, 100_000))
            out = os.path.join(work, f"{kind}_{short_side}_{len(rows)}")
            wall, cpu, size = encode(raw, w, h, fps, cap, setting, out)
            ssim, ssim_db, psnr = quality(f"{out}/index.m3u8", raw, w, h, fps)
            row = {"source": kind, "rung": short_side, "setting": text, "maxrate": cap, "kbps": size * 8 / seconds / 1000,
                   "ssim": ssim, "ssim_db": ssim_db, "psnr": psnr, "cpu": cpu, "wall": wall, "load": os.getloadavg()[0]}
            rows.append(row)
            print(f"{short_side:>4}p {text:30} {row['kbps']:7.0f} {ssim:7.4f} {ssim_db:7.2f} {psnr:6.2f} {cpu:6.1f} {wall:6.1f}", flush=True)
            shutil.rmtree(out, ignore_errors=True)
        os.remove(raw)
    return rows


def summary(rows, rungs, reference):
    """Per setting, over the sources and `rungs`: SSIM dB at the reference's bits, CPU against the
    reference's CRF 23, bits against it; and the front on the first two."""
    cells = sorted({(r["source"], r["rung"]) for r in rows if r["rung"] in rungs})
    names = list(dict.fromkeys(r["setting"] for r in rows if r["rung"] in rungs))
    curve_names = [f"{reference}/{crf}/pulse" for crf in (21, 23, 26)]
    totals = []
    for name in names:
        gains, cpu, bits = [], [], []
        for cell in cells:
            here = [r for r in rows if (r["source"], r["rung"]) == cell]
            mine = next((r for r in here if r["setting"] == name), None)
            curve = [r for r in here if r["setting"] in curve_names]
            base = next((r for r in here if r["setting"] == curve_names[1]), None)
            if mine is None or len(curve) < 2 or base is None:
                break
            gains.append(mine["ssim_db"] - at_same_bits(mine, curve))
            cpu.append(mine["cpu"] / base["cpu"])
            bits.append(mine["kbps"] / base["kbps"])
        else:
            totals.append({"setting": name, "gain": sum(gains) / len(gains), "cpu": math.prod(cpu) ** (1 / len(cpu)),
                           "bits": math.prod(bits) ** (1 / len(bits)), "gains": gains})
    if not totals:
        return totals
    print(f"\n-- against {curve_names[1]} and its CRF curve, over {', '.join(f'{s} {r}p' for s, r in cells)}")
    print(f"{'setting':36} {'dB@bits':>7} {'CPU x':>6} {'bits x':>6}  per cell dB@bits       front")
    for t in totals:
        beaten = [o["setting"] for o in totals if o is not t and o["cpu"] <= t["cpu"] and o["gain"] > t["gain"]]
        print(f"{t['setting']:36} {t['gain']:+7.2f} {t['cpu']:6.2f} {t['bits']:6.2f}  "
              + " ".join(f"{g:+5.2f}" for g in t["gains"]) + "  " + ("yes" if not beaten else "no: " + ", ".join(beaten[:3])))
    return totals


def ladder_summary(rows):
    """Per source and setting run on every rung: the ladder's bits, mean SSIM dB and PSNR, and CPU."""
    sources = list(dict.fromkeys(r["source"] for r in rows))
    printed = False
    for kind in sources:
        mine = [r for r in rows if r["source"] == kind]
        rungs = {r["rung"] for r in mine}
        for name in dict.fromkeys(r["setting"] for r in mine):
            ladder = [r for r in mine if r["setting"] == name]
            if {r["rung"] for r in ladder} != rungs or len(rungs) < 2:
                continue
            if not printed:
                print(f"\n-- whole ladder\n{'source':7} {'setting':36} {'kb/s sum':>8} {'SSIM dB':>7} {'PSNR':>6} {'CPU s':>6}")
                printed = True
            n = len(ladder)
            print(f"{kind:7} {name:36} {sum(r['kbps'] for r in ladder):8.0f} {sum(r['ssim_db'] for r in ladder) / n:7.2f} "
                  f"{sum(r['psnr'] for r in ladder) / n:6.2f} {sum(r['cpu'] for r in ladder):6.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--sources", nargs="+", default=list(SOURCES), choices=list(SOURCES))
    parser.add_argument("--sweep-rungs", nargs="+", type=int, default=[720, 360])
    parser.add_argument("--sweep", nargs="*", default=DEFAULT_SWEEP, help="settings run on --sweep-rungs")
    parser.add_argument("--ladder", nargs="*", default=DEFAULT_LADDER, help="settings run on every rung")
    parser.add_argument("--reference", default="veryfast", help="the preset whose CRF curve the others are put against")
    parser.add_argument("--json", help="also write every row here")
    parser.add_argument("--from-json", help="print the summaries of rows written by --json instead of running")
    args = parser.parse_args()
    for text in args.sweep + args.ladder:
        parse_setting(text)
    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split()[2]
    print(f"{os.cpu_count()} cores; ffmpeg {version}; {args.seconds} s sources; load average at start {os.getloadavg()[0]:.1f}")
    rows = []
    if args.from_json:
        with open(args.from_json) as f:
            rows = json.load(f)
    else:
        work = tempfile.mkdtemp(prefix="pulse-quality-")
        try:
            for kind in args.sources:
                rows += run_source(kind, args.seconds, args.sweep, args.ladder, args.sweep_rungs, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    for rungs in sorted({(r["rung"],) for r in rows}, reverse=True):
        summary(rows, rungs, args.reference)
    summary(rows, args.sweep_rungs, args.reference)
    ladder_summary(rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
