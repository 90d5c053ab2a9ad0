#!/usr/bin/env python3
"""Read path: `GET /v1/assets/{id}` on a ready asset, the server's CPU per request beside the rate.

    scripts/bench/read_bench.py [--binary A --binary B ...] [--rounds 2] [--runs 2] [--seconds 8]

Each binary gets its own `pulse-video serve` (embedded default, temporary data folder) with one
asset processed to `ready` (`long_7s_320p.mp4`), then `wrk` (2 threads, 8 keep-alive connections)
`--runs` times. Binaries take turns `--rounds` times, so a busy machine weighs on each alike.
Server CPU = user + system seconds of the serve process during the wrk run; per request it stays
steady on a shared machine where requests per second and p99 do not. The load average is printed
with every run.
"""
import argparse, os, shutil, subprocess, tempfile, time

from bench_common import cpu_seconds, request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def measure(binary, source, runs, seconds):
    data = tempfile.mkdtemp(prefix="pulse-read-bench-")
    key = "bench-" + os.urandom(12).hex()
    env = dict(os.environ, PULSE_API_KEY=key, PULSE_LOG_LEVEL="warning", PULSE_SEGMENT_SECONDS="2", PULSE_CHUNK_SECONDS="2")
    server = subprocess.Popen([binary, "serve", "--data", data, "--port", "0"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        base = server.stdout.readline().strip().rsplit(" ", 1)[-1]
        created = request("POST", f"{base}/v1/assets", key, {"filename": "bench.mp4"})
        asset, upload = created["id"], created["upload"]
        with open(source, "rb") as f:
            request("PUT", upload["url"], data=f.read(), headers=upload.get("headers") or {})
        request("POST", f"{base}/v1/assets/{asset}/complete", key)
        deadline = time.monotonic() + 300
        while request("GET", f"{base}/v1/assets/{asset}", key)["status"] not in ("ready", "failed"):
            if time.monotonic() > deadline:
                raise SystemExit("the asset did not finish within 300 s")
            time.sleep(0.5)
        script = os.path.join(data, "auth.lua")
        with open(script, "w") as f:
            f.write(f'wrk.headers["Authorization"] = "Bearer {key}"\n')
        for _ in range(runs):
            load = open("/proc/loadavg").read().split()[0]
            before = cpu_seconds(server.pid)
            out = subprocess.run(["wrk", "--latency", "-t", "2", "-c", "8", "-d", f"{seconds}s", "-s", script,
                                  f"{base}/v1/assets/{asset}"], capture_output=True, text=True).stdout
            used = cpu_seconds(server.pid) - before
            total = next(int(l.split()[0]) for l in out.splitlines() if "requests in" in l)
            rps = next(l.split()[1] for l in out.splitlines() if l.startswith("Requests/sec"))
            p99 = next((l.split()[1] for l in out.splitlines() if l.strip().startswith("99%")), "?")
            errors = [l.strip() for l in out.splitlines() if "Non-2xx" in l or "Socket errors" in l]
            print(f"{binary}: {rps} requests/s, p99 {p99}, server CPU {used:.2f} s for {total} requests = "
                  f"{used / total * 1e6:.0f} us each, load average {load}" + (f" {errors}" if errors else ""), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", action="append", help="pulse-video binaries to compare (repeatable)")
    parser.add_argument("--source", default=os.path.join(ROOT, "TestMedia", "long_7s_320p.mp4"))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)
    binaries = args.binary or [os.path.join(ROOT, ".build", "debug", "pulse-video")]
    for _ in range(args.rounds):
        for binary in binaries:
            measure(binary, args.source, args.runs, args.seconds)


if __name__ == "__main__":
    main()
