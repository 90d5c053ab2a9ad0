"""A lean WebSocket client for the benchmarks: many sockets on one epoll loop, each message's time
taken when its bytes are read from the kernel, before any of the batch is parsed.

The `websockets` package spends about 60 us of Python per message (framing, its queues, the close
handshake's tasks) before the benchmark sees the message; with a thousand messages arriving at
once, the last one's time then measures the client's CPU as much as the server's. Here a poll's
readable sockets are all read first (one `recv` each, timed), and only then parsed.

Only what the events route needs: `ws://` URLs, text frames from the server (unmasked, unfragmented),
pings answered, the close handshake answered or started.
"""
import base64
import json
import os
import select
import socket
import time
from urllib.parse import urlsplit

OPCODE_TEXT, OPCODE_CLOSE, OPCODE_PING, OPCODE_PONG = 0x1, 0x8, 0x9, 0xA


def masked_frame(opcode, payload=b""):
    """A client frame (clients must mask theirs), payload under 126 bytes."""
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + body


class LeanSocket:
    def __init__(self, index, url):
        parts = urlsplit(url)
        self.index = index
        self.address = (parts.hostname, parts.port or 80)
        self.request = (f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
                        f"Sec-WebSocket-Version: 13\r\n\r\n").encode()
        self.sock = None
        self.state = "new"  # new, upgrading, open, closing, closed
        self.buffer = bytearray()
        self.error = None

    def start(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.connect(self.address)  # loopback: at once
        self.sock.sendall(self.request)
        self.sock.setblocking(False)
        self.state = "upgrading"

    def frames(self):
        """Complete frames in the buffer, removed from it: (opcode, payload)."""
        out = []
        buffer = self.buffer
        while len(buffer) >= 2:
            length, offset = buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    break
                length, offset = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    break
                length, offset = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < offset + length:
                break
            out.append((buffer[0] & 0x0F, bytes(buffer[offset:offset + length])))
            del buffer[:offset + length]
        return out


class LeanClient:
    """`urls` opened at most `batch` at a time (0: all at once), then read until told to stop.
    `on_message(index, message, received_at)` gets every text message as parsed JSON."""

    def __init__(self, urls, on_message):
        self.sockets = [LeanSocket(i, url) for i, url in enumerate(urls)]
        self.by_fd = {}
        self.poll = select.epoll()
        self.on_message = on_message
        self.opened = 0
        self.failed = 0

    def _register(self, s):
        s.start()
        self.by_fd[s.sock.fileno()] = s
        self.poll.register(s.sock.fileno(), select.EPOLLIN)

    def _finish(self, s, error=None):
        if s.state == "closed":
            return
        if s.state == "upgrading":
            self.failed += 1
        s.error = s.error or error
        s.state = "closed"
        self.poll.unregister(s.sock.fileno())
        del self.by_fd[s.sock.fileno()]
        s.sock.close()

    def open_all(self, batch=0, timeout=300):
        waiting = list(self.sockets)
        deadline = time.monotonic() + timeout
        while waiting or any(s.state == "upgrading" for s in self.sockets):
            upgrading = sum(1 for s in self.by_fd.values() if s.state == "upgrading")
            while waiting and (not batch or upgrading < batch):
                self._register(waiting.pop(0))
                upgrading += 1
            self.step(0.05)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(waiting)} sockets not opened within {timeout} s")

    def step(self, timeout):
        """One poll: every readable socket read (and timed) first, then each parsed."""
        ready = self.poll.poll(timeout)
        chunks = []
        for fd, _ in ready:
            s = self.by_fd.get(fd)
            if s is None:
                continue
            try:
                data = s.sock.recv(1 << 16)
            except BlockingIOError:
                continue
            except OSError as error:
                self._finish(s, repr(error))
                continue
            chunks.append((s, data, time.time()))
        for s, data, received_at in chunks:
            if not data:
                self._finish(s, None if s.state == "closing" else "connection closed")
                continue
            s.buffer += data
            if s.state == "upgrading":
                end = s.buffer.find(b"\r\n\r\n")
                if end < 0:
                    continue
                head = bytes(s.buffer[:end])
                del s.buffer[:end + 4]
                if not head.startswith(b"HTTP/1.1 101"):
                    self._finish(s, head.split(b"\r\n", 1)[0].decode(errors="replace"))
                    continue
                s.state = "open"
                self.opened += 1
            for opcode, payload in s.frames():
                if opcode == OPCODE_TEXT:
                    self.on_message(s.index, json.loads(payload), received_at)
                elif opcode == OPCODE_PING:
                    s.sock.sendall(masked_frame(OPCODE_PONG, payload))
                elif opcode == OPCODE_CLOSE:
                    if s.state == "open":
                        s.sock.sendall(masked_frame(OPCODE_CLOSE, payload[:2]))
                    s.state = "closing"

    def run_until(self, done, timeout):
        deadline = time.monotonic() + timeout
        while not done() and self.by_fd and time.monotonic() < deadline:
            self.step(0.05)

    def close_all(self, timeout=120):
        """Starts the close handshake on every open socket and waits for the server's end of it."""
        for s in self.by_fd.values():
            if s.state == "open":
                s.sock.sendall(masked_frame(OPCODE_CLOSE, (1000).to_bytes(2, "big")))
                s.state = "closing"
        self.run_until(lambda: False, timeout)
