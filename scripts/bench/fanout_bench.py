#!/usr/bin/env python3
"""WebSocket fan-out in a chat's shape: many assets, few watchers each.

    scripts/bench/fanout_bench.py [--assets 5000] [--per-asset 2] [--rounds 3] [--open-batch N] [--binary PATH]
        [--client lean|websockets] [--round-spread SECONDS] [--idle-seconds 10]

`pulse-video serve --no-worker` on PostgreSQL (scripts/test-services.sh env gives the URL; a schema
of its own) and local storage in a temporary folder. The benchmark creates ASSETS assets through the
API, opens PER-ASSET WebSockets on each with the asset's own token (in 4 client processes), then
sends ROUNDS progress events for every asset the way remote workers do: `NOTIFY pulse_events` on
PostgreSQL, each stamped with the database's clock at sending; a round goes as fast as psql sends
it (a burst), or with --round-spread S evenly over about S seconds (the progress of assets encoding
side by side). Figures:
  - delivery latency (receive time - the event's `emitted_at`) p50 / p99 / max, deliveries counted;
  - server RSS before the sockets and with every socket open and idle: the difference per socket;
  - server CPU seconds (user + sys, from /proc) while the events were delivered (the sockets stay
    open until every delivery has arrived; their closing is measured apart), and the same less what
    the open sockets cost with no event (pings, re-reads: the idle rate, measured for IDLE-SECONDS
    first) over the delivery window;
  - first, RSS per plain idle keep-alive HTTP connection (the part that is not the WebSocket).

The clients are `lean_ws.py` (default: a message is timed when its bytes are read from the kernel)
or, with --client websockets, the `websockets` package (about 60 us of Python per message before it
is timed). Without --open-batch the lean clients send every upgrade at once, which overflows the
listen backlog and so is paced by the kernel's SYN retries: the reconnect-storm figures in
BENCHMARKS.md are the websockets client's (100 sockets every 50 ms per client process). Needs `websockets` (PyPI) and `psql`; installs `websockets` when missing.
"""
import argparse, asyncio, json, multiprocessing, os, resource, shutil, subprocess, sys, tempfile, time

from bench_common import children_cpu_seconds, cpu_seconds, ensure_websockets, percentile, request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def ensure_tools():
    ensure_websockets()
    if not shutil.which("psql"):
        sys.exit("psql not found: run scripts/setup.sh --test")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def machine_busy_seconds():
    """CPU-s every core of the machine has spent busy (all processes, the kernel's interrupts)."""
    with open("/proc/stat") as f:
        fields = [int(value) for value in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def client_process(urls, expected, opened, received, release, results, open_batch=0):
    """One client process: its share of the sockets on one event loop. Each socket reads until it
    has seen `expected` progress events (the process says so on `received` once all of its sockets
    have), then stays open until `release` is set, so that the server's CPU while delivering is
    measured apart from the closing of the sockets. With `open_batch`, at most that many of its
    sockets are being opened at once (a chat's pace rather than a reconnect storm)."""
    async def one(url, collected, on_open, on_done, released):
        import websockets
        latencies = []
        try:
            async with websockets.connect(url, max_queue=None, open_timeout=120, ping_interval=None) as socket:
                on_open()
                async for text in socket:
                    message = json.loads(text)
                    if message.get("type") == "progress" and "emitted_at" in message:
                        latencies.append(time.time() - message["emitted_at"])
                        if len(latencies) >= expected:
                            break
                on_done()
                await released.wait()
        except Exception as error:  # a refused or dropped socket is counted, not fatal
            on_done()
            collected.append(("error", repr(error)[:200]))
            return
        collected.append(("ok", latencies))

    async def run():
        collected, count, done = [], [0], [0]
        released = asyncio.Event()

        def on_open():
            count[0] += 1
            if count[0] == len(urls):
                opened.put(len(urls))

        def on_done():
            done[0] += 1
            if done[0] == len(urls):
                received.put(len(urls))

        async def watch_release():
            while not release.is_set():
                await asyncio.sleep(0.05)
            released.set()

        watcher = asyncio.create_task(watch_release())

        tasks = []
        for index, url in enumerate(urls):
            tasks.append(asyncio.create_task(one(url, collected, on_open, on_done, released)))
            if open_batch and index % open_batch == open_batch - 1:
                while count[0] + len(collected) < index + 1:
                    await asyncio.sleep(0.01)
            elif index % 100 == 99:
                await asyncio.sleep(0.05)
        _, pending = await asyncio.wait(tasks, timeout=600)
        for task in pending:
            task.cancel()
        watcher.cancel()
        return collected

    results.put(asyncio.run(run()))


def lean_client_process(urls, expected, opened, received, release, results, open_batch=0):
    """`client_process` with `lean_ws`: each message timed when its bytes are read, before the
    batch is parsed (open_batch 0: every socket of the process opened at once)."""
    from lean_ws import LeanClient
    latencies = [[] for _ in urls]
    complete = set()

    def on_message(index, message, received_at):
        if message.get("type") == "progress" and "emitted_at" in message and index not in complete:
            latencies[index].append(received_at - message["emitted_at"])
            if len(latencies[index]) >= expected:
                complete.add(index)

    client = LeanClient(urls, on_message)
    client.open_all(batch=open_batch)
    opened.put(len(urls))
    client.run_until(lambda: len(complete) + sum(1 for s in client.sockets if s.state == "closed") >= len(urls), 600)
    received.put(len(urls))
    while not release.is_set():
        client.step(0.05)
    client.close_all()
    results.put([("ok", latencies[s.index]) if s.index in complete else ("error", s.error or "closed early") for s in client.sockets])


def idle_http_cost(base, pid, count):
    """What a plain idle keep-alive connection costs the server: RSS per connection, `count` of
    them open after one request each (the part of a WebSocket's cost that is not the WebSocket)."""
    host, port = base.split("//", 1)[1].split(":")

    async def run():
        before = rss_kib(pid)
        connections = []
        for _ in range(count):
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n")
            await writer.drain()
            await reader.readuntil(b"\r\n\r\n")
            connections.append(writer)
        await asyncio.sleep(3)
        after = rss_kib(pid)
        for writer in connections:
            writer.close()
        return (after - before) / count

    return asyncio.run(run())


def round_statements(assets, percent, spread, slices=50):
    """One round for psql: a progress NOTIFY per asset, each stamped with the database's clock as it
    is sent; with `spread`, in `slices` even groups with a pause after each, so the round takes about
    `spread` seconds, as the progress of assets encoding side by side arrives."""
    def notify(asset):
        return ("SELECT pg_notify('pulse_events', json_build_object('asset_id', '%s', 'type', 'progress', 'percent', %d, "
                "'at', extract(epoch from clock_timestamp()))::text);\n" % (asset, percent))
    if spread <= 0:
        return "".join(notify(asset) for asset, _ in assets)
    size = -(-len(assets) // slices)
    groups = [assets[i:i + size] for i in range(0, len(assets), size)]
    pause = "SELECT pg_sleep(%f);\n" % (spread / len(groups))
    return "".join("".join(notify(asset) for asset, _ in group) + pause for group in groups)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--assets", type=int, default=5000)
    parser.add_argument("--per-asset", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--round-seconds", type=float, default=2.0, help="pause between rounds of events")
    parser.add_argument("--round-spread", type=float, default=0.0,
                        help="send each round's events evenly over this many seconds (0: as fast as psql sends them, a burst)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="how long the idle CPU rate is measured")
    parser.add_argument("--open-batch", type=int, default=0,
                        help="each client opens at most N sockets at once (default: all as fast as it can, a reconnect storm)")
    parser.add_argument("--idle-http", type=int, default=0, help="measure N plain idle HTTP connections first (their freed memory is then reused by the sockets: run it apart)")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "pulse-video"))
    parser.add_argument("--client", choices=["lean", "websockets"], default="lean",
                        help="lean_ws (each message timed as its bytes are read) or the websockets package")
    args = parser.parse_args()
    ensure_tools()
    postgres = os.environ.get("PULSE_TEST_POSTGRES_URL")
    if not postgres:
        sys.exit('PULSE_TEST_POSTGRES_URL is not set: eval "$(scripts/test-services.sh env)"')
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    data = tempfile.mkdtemp(prefix="pulse-fanout-")
    key = "bench-" + os.urandom(12).hex()
    schema = "fanout" + os.urandom(4).hex()
    sockets = args.assets * args.per_asset
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "AWS_"))}
    env.update(PULSE_API_KEY=key, PULSE_LOG_LEVEL="warning", PULSE_DATABASE_URL=f"{postgres}?schema={schema}",
               PULSE_IDLE_TIMEOUT_SECONDS="600")
    # The bench's own socket counts, above the service's defaults if it has caps.
    env.update(PULSE_MAX_WEBSOCKETS=str(sockets + 100), PULSE_MAX_WEBSOCKETS_PER_TOKEN=str(args.per_asset + 2))
    server = subprocess.Popen([args.binary, "serve", "--no-worker", "--data", data, "--port", "0"], env=env,
                              stdout=subprocess.PIPE, text=True, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard)))
    try:
        base = None
        while base is None:
            line = server.stdout.readline()
            if not line:
                sys.exit("serve ended before listening")
            if "listening on" in line:
                base = line.strip().rsplit(" ", 1)[-1]
        ws_base = base.replace("http://", "ws://")
        started = time.monotonic()
        assets = []
        for _ in range(args.assets):
            created = request("POST", f"{base}/v1/assets", key, {"filename": "clip.mp4"})
            assets.append((created["id"], created["token"]))
        print(f"created {args.assets} assets in {time.monotonic() - started:.1f} s")
        time.sleep(2)
        rss_before = rss_kib(server.pid)

        if args.idle_http:
            per_connection = idle_http_cost(base, server.pid, args.idle_http)
            print(f"RSS per idle keep-alive HTTP connection (no WebSocket; {args.idle_http} after one GET /healthz each): "
                  f"{per_connection:.1f} KiB")
            time.sleep(2)
            rss_before = rss_kib(server.pid)

        urls = [f"{ws_base}/v1/assets/{asset}/events?token={token}" for asset, token in assets for _ in range(args.per_asset)]
        shares = [urls[i::args.clients] for i in range(args.clients)]
        opened, received, results = multiprocessing.Queue(), multiprocessing.Queue(), multiprocessing.Queue()
        release = multiprocessing.Event()
        target = lean_client_process if args.client == "lean" else client_process
        clients = [multiprocessing.Process(target=target, args=(share, args.rounds, opened, received, release, results, args.open_batch))
                   for share in shares]
        started = time.monotonic()
        for client in clients:
            client.start()
        for _ in clients:
            opened.get(timeout=300)
        print(f"opened {sockets} sockets in {time.monotonic() - started:.1f} s")
        time.sleep(5)
        rss_open = rss_kib(server.pid)
        # What the open sockets cost with no event (pings, re-reads), to take out of the delivery window.
        idle_start, idle_cpu_start = time.monotonic(), cpu_seconds(server.pid)
        time.sleep(args.idle_seconds)
        idle_rate = (cpu_seconds(server.pid) - idle_cpu_start) / (time.monotonic() - idle_start)

        round_durations = []
        window_start = time.monotonic()
        cpu_start = cpu_seconds(server.pid)
        clients_cpu_start = sum(cpu_seconds(client.pid) for client in clients)
        # What each party spends in each round, up to the end of the pause after it: on one
        # machine the server, the clients, PostgreSQL and psql share the cores while a round's
        # events go out, so the round's last deliveries wait for all of them.
        shares = []
        for round_index in range(args.rounds):
            percent = 10 * (round_index + 1)
            statements = round_statements(assets, percent, args.round_spread)
            before = (cpu_seconds(server.pid), sum(cpu_seconds(client.pid) for client in clients), children_cpu_seconds(),
                      machine_busy_seconds())
            round_started = time.monotonic()
            subprocess.run(["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", postgres, "-o", "/dev/null"], input=statements,
                           text=True, check=True)
            round_durations.append(time.monotonic() - round_started)
            time.sleep(args.round_seconds)
            after = (cpu_seconds(server.pid), sum(cpu_seconds(client.pid) for client in clients), children_cpu_seconds(),
                     machine_busy_seconds())
            shares.append([b - a for a, b in zip(before, after)])
        for _ in clients:
            received.get(timeout=600)
        cpu_used = cpu_seconds(server.pid) - cpu_start
        window = time.monotonic() - window_start
        clients_cpu = sum(cpu_seconds(client.pid) for client in clients) - clients_cpu_start
        cpu_closing = cpu_seconds(server.pid)
        release.set()
        collected = [item for _ in clients for item in results.get(timeout=600)]
        cpu_closing = cpu_seconds(server.pid) - cpu_closing
        for client in clients:
            client.join(timeout=30)

        latencies = [value for status, values in collected if status == "ok" for value in values]
        errors = [values for status, values in collected if status == "error"]
        expected = sockets * args.rounds
        print(f"{args.assets} assets x {args.per_asset} sockets = {sockets} sockets, {args.rounds} rounds of one progress "
              f"event per asset (NOTIFY): {len(latencies)} of {expected} deliveries, {len(errors)} sockets failed")
        print(f"each round sent in {min(round_durations):.2f} to {max(round_durations):.2f} s (--round-spread {args.round_spread})")
        print(f"latency p50 {percentile(latencies, 0.5) * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms "
              f"(goal < 100), max {max(latencies, default=float('nan')) * 1000:.1f} ms")
        print(f"server RSS: {rss_before / 1024:.1f} MiB before the sockets, {rss_open / 1024:.1f} MiB with them open and idle: "
              f"{(rss_open - rss_before) / max(sockets, 1):.1f} KiB per socket (goal < 20 KiB)")
        print(f"server CPU while delivering: {cpu_used:.2f} s for {len(latencies)} deliveries "
              f"({cpu_used / max(1, len(latencies)) * 1e6:.0f} us each); then closing the sockets: {cpu_closing:.2f} s")
        delivering = cpu_used - idle_rate * window
        print(f"  idle, the sockets open and no event: {idle_rate * 1000:.0f} ms of CPU a second; less that over the "
              f"{window:.1f} s window: {delivering:.2f} s, {delivering / max(1, len(latencies)) * 1e6:.0f} us per delivery (goal < 30)")
        # The clients share the server's cores: what they spend reading is time the deliveries wait.
        print(f"client processes' CPU while receiving: {clients_cpu:.2f} s ({clients_cpu / max(1, len(latencies)) * 1e6:.0f} us per message)")
        for index, (server_share, clients_share, psql_share, machine) in enumerate(shares):
            rest = machine - server_share - clients_share - psql_share
            print(f"round {index + 1} (sent in {round_durations[index]:.2f} s, {os.cpu_count()} cores), CPU-s up to the end of the "
                  f"pause after it: server {server_share:.2f}, clients {clients_share:.2f}, psql {psql_share:.2f}, "
                  f"the rest of the machine (PostgreSQL, the kernel's interrupts) {rest:.2f}")
        if errors:
            print("first socket errors:", errors[:3])
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(data, ignore_errors=True)
        subprocess.run(["psql", "-q", "-X", postgres, "-c", f"DROP SCHEMA IF EXISTS {schema} CASCADE"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
