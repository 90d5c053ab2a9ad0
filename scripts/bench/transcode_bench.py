#!/usr/bin/env python3
"""Transcode benchmark: CPU and wall seconds of
  (a) one ffmpeg run per rung (the seed's loop) with our encoder settings,
  (b) one bare ffmpeg run with the same settings (decode once, split to every rung),
  (c) `pulse-video transcode`,
their ratios, and PSNR per rung of (c) against the source.

    scripts/bench/transcode_bench.py [SOURCE] [--binary .build/debug/pulse-video] [--runs 1]

CPU seconds are user+sys of the process tree (RUSAGE_CHILDREN), so ffmpeg's threads count.
The settings mirror PulseMedia's HLSArguments: x264 veryfast with 2 reference frames, CRF 23 capped
by each rung's maxrate/bufsize, High profile, keyframe every 2 s, 10 s MPEG-TS segments, AAC 128k
stereo 48 kHz.
"""
import argparse, json, os, resource, shutil, subprocess, sys, tempfile, time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LADDER = [(1080, 5_000_000), (720, 2_800_000), (480, 1_400_000), (360, 800_000), (240, 400_000)]


def measure(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", path],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def rungs_for(width, height, video_bitrate):
    short, long = min(width, height), max(width, height)
    rungs = []
    for target, cap in LADDER:
        if target > short:
            continue
        other = int(round(long * target / short / 2)) * 2
        w, h = (other, target) if width >= height else (target, other)
        rungs.append((f"{target}p", w, h, min(cap, video_bitrate) if video_bitrate else cap))
    return rungs


def x264(index, maxrate, stream="v"):
    s = f"{stream}:{index}" if index is not None else stream
    return [f"-c:{s}", "libx264", f"-preset:{s}", "veryfast", f"-crf:{s}", "23", f"-refs:{s}", "2", f"-maxrate:{s}", str(maxrate),
            f"-bufsize:{s}", str(maxrate * 2), f"-profile:{s}", "high", f"-g:{s}", "120",
            f"-force_key_frames:{s}", "expr:gte(t,n_forced*2)"]


HLS = ["-f", "hls", "-hls_time", "10", "-hls_playlist_type", "vod", "-hls_segment_type", "mpegts"]
AUDIO = ["-c:a", "aac", "-b:a", "128000", "-ac", "2", "-ar", "48000"]


def single_pass(source, rungs, out):
    labels = "".join(f"[s{i}]" for i in range(len(rungs)))
    graph = f"[0:v:0]split={len(rungs)}{labels}" + "".join(
        f";[s{i}]scale={w}:{h}:flags=bicubic,format=yuv420p,setsar=1[v{i}]" for i, (_, w, h, _) in enumerate(rungs))
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", source, "-filter_complex", graph]
    for i, (_, _, _, rate) in enumerate(rungs):
        cmd += ["-map", f"[v{i}]"] + x264(i, rate)
    cmd += ["-sc_threshold", "0"] + HLS + ["-hls_segment_filename", f"{out}/%v/seg_%05d.ts",
            "-var_stream_map", " ".join(f"v:{i},name:{n}" for i, (n, _, _, _) in enumerate(rungs)), f"{out}/%v/index.m3u8"]
    cmd += ["-map", "0:a:0"] + AUDIO + HLS + ["-hls_segment_filename", f"{out}/audio/seg_%05d.ts", f"{out}/audio/index.m3u8"]
    for name, *_ in rungs + [("audio",)]:
        os.makedirs(f"{out}/{name}", exist_ok=True)
    return cmd


def per_rung(source, rung, out):
    name, w, h, rate = rung
    os.makedirs(f"{out}/{name}", exist_ok=True)
    return (["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", source,
             "-vf", f"scale={w}:{h}:flags=bicubic,format=yuv420p,setsar=1", "-map", "0:v:0", "-map", "0:a:0"]
            + x264(None, rate) + ["-sc_threshold", "0"] + AUDIO + HLS
            + ["-hls_segment_filename", f"{out}/{name}/seg_%05d.ts", f"{out}/{name}/index.m3u8"])


def psnr(variant_playlist, source, w, h):
    graph = f"[0:v]setpts=PTS-STARTPTS[a];[1:v]scale={w}:{h}:flags=bicubic,setpts=PTS-STARTPTS[b];[a][b]psnr"
    err = subprocess.run(["ffmpeg", "-nostdin", "-v", "info", "-i", variant_playlist, "-i", source,
                          "-filter_complex", graph, "-f", "null", "-"], capture_output=True, text=True).stderr
    for line in err.splitlines():
        if "PSNR" in line and "average:" in line:
            return float(line.split("average:")[1].split()[0])
    return float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("source", nargs="?", default=os.path.join(ROOT, "BenchMedia", "phone_1080p30_17mbps.mp4"))
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "pulse-video"))
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    default_source = os.path.join(ROOT, "BenchMedia", "phone_1080p30_17mbps.mp4")
    if args.source == default_source and not os.path.exists(default_source):
        # The benchmark owns its input: generate it (once) rather than fail on a fresh clone.
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "bench", "gen-bench-media.sh")], check=True)
    info = probe(args.source)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    rungs = rungs_for(video["width"], video["height"], int(video.get("bit_rate") or 0))
    print(f"source: {args.source} {video['width']}x{video['height']} {video['codec_name']} "
          f"{int(video.get('bit_rate', 0)) / 1e6:.1f} Mb/s {float(info['format']['duration']):.1f} s; "
          f"{os.cpu_count()} cores; ffmpeg {subprocess.run(['ffmpeg', '-version'], capture_output=True, text=True).stdout.split()[2]}")
    work = tempfile.mkdtemp(prefix="pulse-bench-")
    results = {}
    try:
        for run in range(args.runs):
            out = f"{work}/a{run}"
            wall = cpu = 0.0
            for rung in rungs:
                w, c = measure(per_rung(args.source, rung, out))
                wall += w
                cpu += c
            results.setdefault("a", []).append((wall, cpu))
            results.setdefault("b", []).append(measure(single_pass(args.source, rungs, f"{work}/b{run}")))
            results.setdefault("c", []).append(measure([args.binary, "transcode", args.source, "--out", f"{work}/c{run}", "--progress", "none"]))
        best = {k: min(v, key=lambda t: t[1]) for k, v in results.items()}
        labels = {"a": "(a) one ffmpeg per rung", "b": "(b) bare single-pass ffmpeg", "c": "(c) pulse-video transcode"}
        print(f"{'':32} {'wall s':>8} {'CPU s':>8}")
        for key in "abc":
            print(f"{labels[key]:32} {best[key][0]:8.1f} {best[key][1]:8.1f}")
        print(f"(a)/(b) CPU {best['a'][1] / best['b'][1]:.2f}x   (a)/(c) CPU {best['a'][1] / best['c'][1]:.2f}x   "
              f"(c)/(b) CPU {best['c'][1] / best['b'][1]:.3f} (goal <= 1.10)   (c)/(b) wall {best['c'][0] / best['b'][0]:.3f}")
        out = f"{work}/c{args.runs - 1}"
        for name, w, h, _ in rungs:
            print(f"PSNR {name:>6}: {psnr(f'{out}/{name}/index.m3u8', args.source, w, h):.2f} dB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
