#!/usr/bin/env python3
"""Service benchmark:
  1. N WebSocket subscribers (default 1,000) on one `pulse-video serve` process follow one asset's
     processing: delivery latency of every event (receive time - the event's `emitted_at`, the
     worker's publish time; same machine, same clock), p50/p99/max, and whether every subscriber got
     the final `ready`;
  2. requests per second for `GET /v1/assets/{id}` (wrk, keep-alive, 4 connections per core).

    scripts/bench/api_bench.py [--subscribers 1000] [--source TestMedia/long_7s_320p.mp4]

The subscribers are `lean_ws.py` clients (a message is timed when its bytes are read from the kernel),
or with --client websockets the `websockets` package (about 60 us of Python per message before it
is timed). Installs `websockets` (PyPI) and `wrk` (Debian) when missing. Embedded default: SQLite, local
storage, one embedded worker, in a temporary data folder.
"""
import argparse, asyncio, json, os, resource, shutil, subprocess, tempfile, time

from bench_common import ensure_websockets, percentile, request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def ensure_tools():
    ensure_websockets()
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)


async def subscriber(url, results, ready_event):
    import websockets
    latencies, got_ready = [], False
    async with websockets.connect(url, max_queue=None, open_timeout=60) as socket:
        ready_event()
        async for text in socket:
            message = json.loads(text)
            if "emitted_at" in message:
                latencies.append((message["type"], time.time() - message["emitted_at"]))
            if message["type"] in ("ready", "failed"):
                got_ready = message["type"] == "ready"
                break
    results.append((latencies, got_ready))


def client_process(url, count, connected, results):
    """One client process: `count` subscribers on its own event loop (a single Python process
    cannot parse 1,000 sockets' messages fast enough to measure the server)."""
    async def run():
        collected, opened = [], [0]

        def on_open():
            opened[0] += 1
            if opened[0] == count:
                connected.put(count)

        tasks = []
        for index in range(count):
            tasks.append(asyncio.create_task(subscriber(url, collected, on_open)))
            if index % 50 == 49:
                await asyncio.sleep(0.02)
        await asyncio.gather(*tasks)
        return collected

    results.put(asyncio.run(run()))


def lean_client_process(url, count, connected, results):
    """`client_process` with `lean_ws`: each message timed when its bytes are read, before the
    batch is parsed; opened 50 at a time."""
    from lean_ws import LeanClient
    latencies = [[] for _ in range(count)]
    finished, got_ready = set(), set()

    def on_message(index, message, received_at):
        if "emitted_at" in message:
            latencies[index].append((message["type"], received_at - message["emitted_at"]))
        if message["type"] in ("ready", "failed"):
            finished.add(index)
            if message["type"] == "ready":
                got_ready.add(index)

    client = LeanClient([url] * count, on_message)
    client.open_all(batch=50)
    connected.put(count)
    client.run_until(lambda: len(finished) + sum(1 for s in client.sockets if s.state == "closed") >= count, 300)
    client.close_all(30)
    results.put([(latencies[i], i in got_ready) for i in range(count)])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--source", default=os.path.join(ROOT, "TestMedia", "long_7s_320p.mp4"))
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "pulse-video"))
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=4, help="client processes sharing the subscribers")
    parser.add_argument("--client", choices=["lean", "websockets"], default="lean",
                        help="lean_ws (each message timed as its bytes are read) or the websockets package")
    args = parser.parse_args()
    ensure_tools()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    data = tempfile.mkdtemp(prefix="pulse-api-bench-")
    key = "bench-" + os.urandom(12).hex()
    env = dict(os.environ, PULSE_API_KEY=key, PULSE_LOG_LEVEL="warning", PULSE_SEGMENT_SECONDS="2", PULSE_CHUNK_SECONDS="2",
               # Every subscriber uses the asset's one token: raise the per-token cap for the bench.
               PULSE_MAX_WEBSOCKETS_PER_TOKEN=str(args.subscribers + 10), PULSE_MAX_WEBSOCKETS=str(args.subscribers + 100))
    server = subprocess.Popen([args.binary, "serve", "--data", data, "--port", "0"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        base = line.strip().rsplit(" ", 1)[-1]
        created = request("POST", f"{base}/v1/assets", key, {"filename": "bench.mp4"})
        asset, token, upload = created["id"], created["token"], created["upload"]
        with open(args.source, "rb") as f:
            request("PUT", upload["url"], data=f.read(), headers=upload.get("headers") or {})

        import multiprocessing
        url = base.replace("http://", "ws://") + f"/v1/assets/{asset}/events?token={token}"
        connected, queue = multiprocessing.Queue(), multiprocessing.Queue()
        sizes = [args.subscribers // args.clients + (1 if i < args.subscribers % args.clients else 0) for i in range(args.clients)]
        target = lean_client_process if args.client == "lean" else client_process
        processes = [multiprocessing.Process(target=target, args=(url, n, connected, queue)) for n in sizes if n]
        for process in processes:
            process.start()
        for _ in processes:
            connected.get(timeout=120)
        started = time.monotonic()
        request("POST", f"{base}/v1/assets/{asset}/complete", key)
        results = [item for _ in processes for item in queue.get(timeout=300)]
        seconds = time.monotonic() - started
        for process in processes:
            process.join()
        typed = [pair for per, _ in results for pair in per]
        latencies = [value for _, value in typed]
        ready = sum(1 for _, got in results if got)
        print(f"{args.subscribers} WebSocket subscribers in {args.clients} client processes, one asset processed in {seconds:.1f} s: "
              f"{len(latencies)} deliveries, latency p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
              f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms (goal < 100), max {max(latencies) * 1000:.1f} ms; "
              f"final ready received by {ready}/{len(results)}")
        for kind in sorted({kind for kind, _ in typed}):
            values = [value for k, value in typed if k == kind]
            print(f"  {kind:>16}: {len(values):5d} deliveries, p50 {percentile(values, 0.5) * 1000:.1f} ms, "
                  f"p99 {percentile(values, 0.99) * 1000:.1f} ms")

        script = os.path.join(data, "auth.lua")
        with open(script, "w") as f:
            f.write(f'wrk.headers["Authorization"] = "Bearer {key}"\n')
        out = subprocess.run(["wrk", "--latency", "-t", "2", "-c", "8", "-d", f"{args.wrk_seconds}s", "-s", script,
                              f"{base}/v1/assets/{asset}"], capture_output=True, text=True).stdout
        rps = next((l.split()[1] for l in out.splitlines() if l.startswith("Requests/sec")), "?")
        p99 = next((l.split()[1] for l in out.splitlines() if l.strip().startswith("99%")), None)
        print(f"GET /v1/assets/{{id}}: {rps} requests/s (wrk, 2 threads, 8 connections, {args.wrk_seconds} s)"
              + (f", p99 {p99}" if p99 else ""))
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
