#!/usr/bin/env python3
"""A TCP proxy the integration tests control: 127.0.0.1:LISTEN -> TARGET_HOST:TARGET_PORT.

    tcp_proxy.py --target 127.0.0.1:5055 [--port 0] [--log FILE]

- Prints `LISTENING <port>` on stdout (flushed) once it accepts connections; `--port 0` picks a free
  port, `--port N` binds that one again (SO_REUSEADDR), so a test can stop the proxy (every open
  connection drops, new ones are refused) and start it again on the same port: a storage outage.
- With `--log FILE`, each HTTP/1.1 request that goes through is logged as one line, flushed at once:
  `<epoch seconds> <connection#> <METHOD> <target> range=<Range header or ->`
  The request stream is parsed (Content-Length and chunked bodies) only to find where each request
  starts; the bytes are forwarded unchanged, whatever the parser makes of them.
- Stop it with SIGTERM or SIGKILL.
"""
import argparse
import itertools
import signal
import socket
import sys
import threading
import time

LOG_LOCK = threading.Lock()
CONNECTIONS = itertools.count(1)


class RequestParser:
    """Watches a client's bytes and reports each request's method, target and Range header."""

    def __init__(self, on_request):
        self.on_request = on_request
        self.buffer = b""
        self.state = "head"  # head | body | chunk-size | chunk-data | trailers | broken
        self.remaining = 0

    def feed(self, data):
        if self.state == "broken":
            return
        self.buffer += data
        try:
            while self.step():
                pass
        except Exception:  # a stream we do not understand: keep forwarding, stop logging
            self.state = "broken"
            self.buffer = b""

    def step(self):
        if self.state == "head":
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return False
            head, self.buffer = self.buffer[:end].decode("latin-1"), self.buffer[end + 4:]
            lines = head.split("\r\n")
            method, target = lines[0].split(" ")[:2]
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            self.on_request(method, target, headers.get("range", "-"))
            if "chunked" in headers.get("transfer-encoding", "").lower():
                self.state = "chunk-size"
            else:
                self.remaining = int(headers.get("content-length", "0") or "0")
                self.state = "body" if self.remaining > 0 else "head"
            return True
        if self.state == "body" or self.state == "chunk-data":
            take = min(self.remaining, len(self.buffer))
            self.buffer = self.buffer[take:]
            self.remaining -= take
            if self.remaining > 0:
                return False
            if self.state == "body":
                self.state = "head"
            else:
                self.state = "chunk-size"
            return True
        if self.state == "chunk-size":
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return False
            line, self.buffer = self.buffer[:end], self.buffer[end + 2:]
            if not line:  # the CRLF that ends the previous chunk's data
                return True
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                self.state = "trailers"
            else:
                self.remaining = size
                self.state = "chunk-data"
            return True
        if self.state == "trailers":
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return False
            line, self.buffer = self.buffer[:end], self.buffer[end + 2:]
            if not line:
                self.state = "head"
            return True
        return False


def close_both(a, b):
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def pump(src, dst, parser=None):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if parser is not None:
                parser.feed(data)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        close_both(src, dst)


def serve(client, target, log):
    number = next(CONNECTIONS)
    try:
        upstream = socket.create_connection(target, timeout=10)
        upstream.settimeout(None)
    except OSError:
        client.close()
        return
    parser = None
    if log is not None:
        def on_request(method, path, range_header):
            with LOG_LOCK:
                log.write(f"{time.time():.3f} {number} {method} {path} range={range_header}\n")
                log.flush()
        parser = RequestParser(on_request)
    threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
    pump(client, upstream, parser)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", required=True, help="HOST:PORT to forward to")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    parser.add_argument("--log", help="file to append one line per HTTP request to")
    args = parser.parse_args()
    host, _, port = args.target.rpartition(":")
    target = (host or "127.0.0.1", int(port))
    log = open(args.log, "a", buffering=1) if args.log else None

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(128)
    print(f"LISTENING {listener.getsockname()[1]}", flush=True)
    while True:
        client, _ = listener.accept()
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve, args=(client, target, log), daemon=True).start()


if __name__ == "__main__":
    main()
