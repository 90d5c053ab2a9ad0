#!/usr/bin/env python3
"""Storage benchmark: upload throughput and peak RSS of `pulse-video upload` for a 1 GiB
file to a local S3-compatible server (moto), and the wall time of `pulse-video transcode` reading
its source from S3 (presigned URL, range requests) against the same from a local file.

    scripts/test-services.sh start && eval "$(scripts/test-services.sh env)"
    scripts/bench/storage_bench.py [--size-mib 1024] [--source BenchMedia/phone_1080p30_17mbps.mp4]

Peak RSS is the child's ru_maxrss, each measured in its own wrapper process.
"""
import argparse, os, shutil, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WRAP = "import resource,subprocess,sys,time;t=time.monotonic();r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL);" \
       "print(time.monotonic()-t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)"


def measured(cmd, env):
    out = subprocess.run([sys.executable, "-c", WRAP] + cmd, env=env, capture_output=True, text=True, check=True).stdout.split()
    wall, rss_kib, rc = float(out[0]), int(out[1]), int(out[2])
    if rc != 0:
        raise SystemExit(f"{cmd[:2]} failed with {rc}")
    return wall, rss_kib / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--source", default=os.path.join(ROOT, "BenchMedia", "phone_1080p30_17mbps.mp4"))
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "pulse-video"))
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    endpoint = os.environ.get("PULSE_TEST_S3_ENDPOINT") or sys.exit("set PULSE_TEST_S3_ENDPOINT (scripts/test-services.sh env)")
    bucket = f"bench-{int(time.time())}"
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{bucket}", method="PUT")).read()
    env = dict(os.environ, AWS_ENDPOINT_URL_S3=endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
               AWS_REGION="us-east-1", PULSE_STORAGE_URL=f"s3://{bucket}", PULSE_LOG_LEVEL="warning")
    work = tempfile.mkdtemp(prefix="pulse-storage-bench-")
    try:
        big = f"{work}/big.bin"
        with open(big, "wb") as f:
            chunk = os.urandom(1 << 20)
            for _ in range(args.size_mib):
                f.write(chunk)
        wall, rss = measured([args.binary, "upload", big, "bench/big.bin", "--data", f"{work}/data"], env)
        print(f"upload {args.size_mib} MiB to moto: {wall:.1f} s = {args.size_mib / wall:.0f} MiB/s, peak RSS {rss:.0f} MiB (goal < 64 MiB)")
        os.remove(big)

        subprocess.run([args.binary, "upload", args.source, "bench/source.mp4", "--data", f"{work}/data"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        local, remote = [], []
        for run in range(args.runs):
            local.append(measured([args.binary, "transcode", args.source, "--out", f"{work}/local{run}", "--progress", "none"], env)[0])
            remote.append(measured([args.binary, "transcode", f"s3://{bucket}/bench/source.mp4", "--out", f"{work}/s3{run}",
                                    "--progress", "none"], env)[0])
        best_local, best_remote = min(local), min(remote)
        print(f"transcode from a local file: {best_local:.1f} s; from S3 (presigned URL): {best_remote:.1f} s; "
              f"ratio {best_remote / best_local:.3f} (goal <= 1.05); best of {args.runs}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
