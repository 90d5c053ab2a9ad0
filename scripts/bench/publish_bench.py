#!/usr/bin/env python3
"""Time to publish: from `complete` to `playable` and to `ready`, on the embedded default.

For each source length (phone-like 1080p30, 17 Mb/s, AAC; made by gen-bench-media.sh), runs a fresh
`pulse-video serve` (SQLite, local storage, its one embedded worker) per run, uploads the file,
listens on the asset's WebSocket, then completes the upload and times the `playable` and `ready`
events as they arrive. CPU is the serve process's own plus its reaped children's (ffmpeg, ffprobe),
from /proc, after `ready`. With --compare it runs the same with PULSE_FIRST_RENDITION=0 (the ladder
alone, as before the first rendition) for the baseline. Prints medians of --runs runs.

    python3 scripts/bench/publish_bench.py [--seconds 10 60 300] [--runs 3] [--compare]
        [--binary .build-release/release/pulse-video] [--until playable] [--log-dir DIR]

BENCH_LOG_LEVEL=debug raises the kept logs' level (info by default).
"""
import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import cpu_seconds, ensure_websockets, request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def source(seconds):
    subprocess.run(["bash", os.path.join(ROOT, "scripts", "bench", "gen-bench-media.sh"), os.path.join(ROOT, "BenchMedia"), str(seconds)],
                   check=True, stdout=subprocess.DEVNULL)
    name = "phone_1080p30_17mbps.mp4" if seconds == 30 else f"phone_1080p30_17mbps_{seconds}s.mp4"
    return os.path.join(ROOT, "BenchMedia", name)


async def one_run(binary, path, first_rendition, until="ready", log=None):
    import websockets
    data = tempfile.mkdtemp(prefix="pulse-publish-bench-")
    key = "bench-" + os.urandom(12).hex()
    env = dict(os.environ, PULSE_API_KEY=key, PULSE_LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "info") if log else "warning",
               PULSE_FIRST_RENDITION="1" if first_rendition else "0")
    if log:
        env["PULSE_LOG_FORMAT"] = "json"  # its timestamps carry milliseconds
    server = subprocess.Popen([binary, "serve", "--data", data, "--port", "0"], env=env, stdout=subprocess.PIPE,
                              stderr=log, text=True)
    try:
        base = server.stdout.readline().strip().rsplit(" ", 1)[-1]
        created = request("POST", f"{base}/v1/assets", key, {"filename": os.path.basename(path)})
        asset, token, upload = created["id"], created["token"], created["upload"]
        with open(path, "rb") as f:
            request("PUT", upload["url"], data=f.read(), headers=upload.get("headers") or {})
        cpu_before = cpu_seconds(server.pid, children=True)
        times = {}
        url = base.replace("http://", "ws://") + f"/v1/assets/{asset}/events?token={token}"
        async with websockets.connect(url, max_queue=None) as socket:
            json.loads(await socket.recv())  # the snapshot
            started = time.monotonic()
            request("POST", f"{base}/v1/assets/{asset}/complete", key)
            while until not in times:
                message = json.loads(await asyncio.wait_for(socket.recv(), timeout=1800))
                kind = message["type"]
                if kind == "failed":
                    raise SystemExit(f"asset failed: {message}")
                if kind in ("thumbnail_ready", "playable", "ready") and kind not in times:
                    times[kind] = time.monotonic() - started
        if until == "ready":
            time.sleep(0.5)  # let the last ffmpeg be reaped into the counters
            times["cpu"] = cpu_seconds(server.pid, children=True) - cpu_before
        return times
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, nargs="+", default=[10, 60, 300])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--compare", action="store_true", help="also run with PULSE_FIRST_RENDITION=0 (the baseline)")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "pulse-video"))
    parser.add_argument("--until", choices=["playable", "ready"], default="ready",
                        help="end each run at this event (playable: no ready time and no CPU figure)")
    parser.add_argument("--log-dir", help="keep each run's serve log (info level, JSON lines with millisecond timestamps) in this folder")
    args = parser.parse_args()
    ensure_websockets()
    modes = [True, False] if args.compare else [True]
    print(f"binary {args.binary}; {os.cpu_count()} cores; median of {args.runs} runs; times from `complete` returning")
    for seconds in args.seconds:
        path = source(seconds)
        for first in modes:
            runs = []
            for run in range(args.runs):
                log = None
                if args.log_dir:
                    os.makedirs(args.log_dir, exist_ok=True)
                    log = open(os.path.join(args.log_dir, f"{seconds}s-{'first' if first else 'ladder'}-{run + 1}.log"), "w")
                try:
                    runs.append(asyncio.run(one_run(args.binary, path, first, args.until, log)))
                finally:
                    if log:
                        log.close()
            def median(key):
                values = [run[key] for run in runs if key in run]
                return statistics.median(values) if values else float("nan")
            label = "first rendition" if first else "ladder only (PULSE_FIRST_RENDITION=0)"
            each = ", ".join("%.2f" % run.get("playable", float("nan")) for run in runs)
            print(f"{seconds:4d} s source, {label:38s}: thumbnail {median('thumbnail_ready'):6.2f} s, "
                  f"playable {median('playable'):6.2f} s, ready {median('ready'):7.2f} s, CPU {median('cpu'):7.1f} s   "
                  f"(playable in each run: {each})")


if __name__ == "__main__":
    main()
