"""Hostile clients against a live `pulse-video serve` (limits on connections).

Its own `serve` with small limits (so no test waits long): idle and header timeouts, WebSockets
per token and in all, token expiry on an open socket, refused upgrades answered in JSON, the
filename limit in bytes, and tokens accepted in their canonical form only. Plain sockets: the
WebSocket handshake and frames are written here, so a refused handshake's status and body can be
read.
"""
import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from conftest import running_serve

API_KEY = "hostile-test-key"
SECRET = "hostile-test-token-secret-0123456789abcdef"
IDLE = 3
HEADER = 1
PER_TOKEN = 3
TOTAL = 6


@pytest.fixture(scope="module")
def live():
    """`serve --no-worker` with small connection limits; yields its base URL."""
    env = {
        "PULSE_API_KEY": API_KEY,
        "PULSE_TOKEN_SECRET": SECRET,
        "PULSE_IDLE_TIMEOUT_SECONDS": str(IDLE),
        "PULSE_HEADER_TIMEOUT_SECONDS": str(HEADER),
        "PULSE_MAX_WEBSOCKETS_PER_TOKEN": str(PER_TOKEN),
        "PULSE_MAX_WEBSOCKETS": str(TOTAL),
    }
    with running_serve(env, ["--no-worker"], prefix="pulse-hostile-") as service:
        yield service.url


# --------------------------------------------------------------------------------------- helpers

def address(base):
    parsed = urllib.parse.urlsplit(base)
    return parsed.hostname, parsed.port


def call(method, url, body=None, bearer=API_KEY):
    headers = {}
    if bearer:
        headers["Authorization"] = "Bearer " + bearer
    data = None
    if body is not None:
        data = json.dumps(body, ensure_ascii=False).encode()  # UTF-8, as a browser sends it
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def create(base, filename="clip.mp4"):
    status, created = call("POST", base + "/v1/assets", {"filename": filename, "content_type": "video/mp4"})
    assert status == 201, created
    return created


def mint(asset_id, expires):
    """A token as the server writes it, signed with the test's PULSE_TOKEN_SECRET."""
    message = f"pulse-asset-token\n{asset_id}\n{expires}".encode()
    mac = hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()
    return f"at1.{expires}.{asset_id}.{mac}"


def closed_within(sock, seconds):
    """Seconds until the server closed `sock` (EOF or reset), or None if it stayed open."""
    start = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - start < seconds:
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - start
        except socket.timeout:
            continue
        except ConnectionError:
            return time.monotonic() - start
    return None


def read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the response head: %r" % data)
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, rest


class Socket:
    """A client WebSocket on a raw socket: reads text and close frames, answers pings."""

    def __init__(self, sock, buffered):
        self.sock = sock
        self.buffer = buffered

    def _read(self, count):
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def frame(self, timeout=10):
        self.sock.settimeout(timeout)
        first, second = self._read(2)
        opcode, length = first & 0x0F, second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read(8))[0]
        return opcode, self._read(length)

    def send(self, opcode, payload=b""):
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    def next_message(self, timeout=10):
        """('text', dict) or ('close', (code, reason))."""
        while True:
            opcode, payload = self.frame(timeout)
            if opcode == 0x9:
                self.send(0xA, payload)
            elif opcode == 0x1:
                return "text", json.loads(payload)
            elif opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                return "close", (code, payload[2:].decode())

    def close(self):
        try:
            self.send(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


def websocket(base, path, bearer=None):
    """Opens a WebSocket: a `Socket` once upgraded, or (status, headers, JSON body) when refused."""
    host, port = address(base)
    sock = socket.create_connection((host, port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    authorization = f"Authorization: Bearer {bearer}\r\n" if bearer else ""
    sock.sendall((
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{authorization}\r\n"
    ).encode())
    status, headers, rest = read_head(sock)
    if status == 101:
        return Socket(sock, rest)
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(4096)
        if not chunk:
            break
        rest += chunk
    sock.close()
    return status, headers, json.loads(rest) if rest else None


def events_path(asset_id, token=None):
    return f"/v1/assets/{asset_id}/events" + (f"?token={urllib.parse.quote(token)}" if token else "")


def open_socket(base, asset_id, token):
    """An upgraded socket that has received its snapshot."""
    ws = websocket(base, events_path(asset_id, token))
    assert isinstance(ws, Socket), f"expected an upgrade, got {ws}"
    kind, message = ws.next_message()
    assert kind == "text" and message["type"] == "snapshot", message
    return ws


def eventually(check, seconds=5):
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


# --------------------------------------------------------------------------------------- timeouts

def test_idle_connections_are_closed_after_the_idle_timeout(live):
    host, port = address(live)
    sockets = [socket.create_connection((host, port), timeout=5) for _ in range(20)]
    try:
        started = time.monotonic()
        # Still open just before the timeout...
        assert closed_within(sockets[0], IDLE - 1.5) is None
        # ...and every one closed soon after it.
        for sock in sockets:
            assert closed_within(sock, IDLE + 3) is not None, "an idle connection stayed open"
        assert time.monotonic() - started < IDLE + 4
    finally:
        for sock in sockets:
            sock.close()


def test_keep_alive_connection_is_closed_after_the_idle_timeout(live):
    host, port = address(live)
    sock = socket.create_connection((host, port), timeout=5)
    try:
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        status, headers, _ = read_head(sock)
        assert status == 200
        assert closed_within(sock, IDLE + 3) is not None, "a keep-alive connection stayed open"
    finally:
        sock.close()


def test_half_sent_request_heads_are_closed_after_the_header_timeout(live):
    host, port = address(live)
    sockets = [socket.create_connection((host, port), timeout=5) for _ in range(20)]
    try:
        for sock in sockets:
            sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n".encode())  # no blank line
        for sock in sockets:
            elapsed = closed_within(sock, HEADER + 3)
            assert elapsed is not None, "a half-sent head stayed open"
        # Closed by the header timeout, well before the idle timeout.
    finally:
        for sock in sockets:
            sock.close()


def test_a_trickled_head_is_closed_after_the_header_timeout(live):
    """Slowloris: a byte every 0.2 s keeps no deadline from passing."""
    host, port = address(live)
    sock = socket.create_connection((host, port), timeout=5)
    try:
        started = time.monotonic()
        closed = False
        for byte in f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nX-Slow: {'a' * 200}\r\n".encode():
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.2)
            if time.monotonic() - started > HEADER + 3:
                break
        if not closed:
            closed = closed_within(sock, 1) is not None
        assert closed, "a trickled head kept the connection open"
        assert time.monotonic() - started < HEADER + 3
    finally:
        sock.close()


def test_a_complete_request_is_answered_and_a_websocket_outlives_the_idle_timeout(live):
    created = create(live)
    ws = open_socket(live, created["id"], created["token"])
    try:
        time.sleep(IDLE + 1)
        ws.send(0x9, b"still there?")
        opcode, payload = ws.frame(timeout=5)
        assert (opcode, payload) == (0xA, b"still there?"), "the WebSocket was closed as idle"
    finally:
        ws.close()


# --------------------------------------------------------------------------------------- WebSockets

def test_websockets_beyond_the_per_token_cap_are_refused(live):
    created = create(live)
    asset_id, token = created["id"], created["token"]
    sockets = [open_socket(live, asset_id, token) for _ in range(PER_TOKEN)]
    try:
        refused = websocket(live, events_path(asset_id, token))
        assert not isinstance(refused, Socket), f"socket {PER_TOKEN + 1} with one token was accepted"
        status, headers, body = refused
        assert status == 429, body
        assert headers["content-type"].startswith("application/json")
        assert body["error"]["code"] == "ERR_TOO_MANY_CONNECTIONS"
        # The API key is not held to one token's share.
        with_key = websocket(live, events_path(asset_id), bearer=API_KEY)
        assert isinstance(with_key, Socket), with_key
        with_key.close()
        # Closing one frees its slot.
        sockets.pop().close()
        again = eventually(lambda: _try_open(live, asset_id, token))
        assert again, "a closed socket's slot was not given back"
        sockets.append(again)
    finally:
        for ws in sockets:
            ws.close()


def _try_open(base, asset_id, token):
    ws = websocket(base, events_path(asset_id, token))
    if isinstance(ws, Socket):
        ws.next_message()
        return ws
    return None


def test_websockets_beyond_the_total_cap_are_refused(live):
    sockets = []
    try:
        # Other tests' sockets are closed; give the server a moment to notice.
        for _ in range(TOTAL):
            created = create(live)
            ws = eventually(lambda: _try_open(live, created["id"], created["token"]))
            assert ws, "could not open a socket under the total cap"
            sockets.append(ws)
        created = create(live)
        refused = websocket(live, events_path(created["id"], created["token"]))
        assert not isinstance(refused, Socket), f"socket {TOTAL + 1} was accepted"
        status, headers, body = refused
        assert status == 503, body
        assert body["error"]["code"] == "ERR_UNAVAILABLE"
        assert headers.get("retry-after")
    finally:
        for ws in sockets:
            ws.close()


def test_a_socket_is_closed_when_its_token_expires(live):
    created = create(live)
    asset_id = created["id"]
    expires = int(time.time()) + 3
    ws = open_socket(live, asset_id, mint(asset_id, expires))
    try:
        try:
            kind, detail = ws.next_message(timeout=10)
        except socket.timeout:
            pytest.fail("the socket stayed open after its token expired")
        assert kind == "close", detail
        assert detail == (4401, "ERR_TOKEN_EXPIRED")
        assert time.time() >= expires - 0.5
    finally:
        ws.close()


@pytest.mark.parametrize("case", ["missing", "wrong", "forged", "expired", "other asset", "unknown asset"])
def test_refused_upgrades_answer_in_json(live, case):
    a, b = create(live), create(live)
    path = {
        "missing": events_path(a["id"]),
        "wrong": events_path(a["id"], "at1.not-a-token"),
        "forged": events_path(a["id"], a["token"][:-1] + ("0" if a["token"][-1] != "0" else "1")),
        "expired": events_path(a["id"], mint(a["id"], int(time.time()) - 10)),
        "other asset": events_path(b["id"], a["token"]),
        "unknown asset": events_path("00000000-0000-4000-8000-000000000000"),
    }[case]
    expected = {
        "missing": (401, "ERR_UNAUTHORIZED"), "wrong": (401, "ERR_UNAUTHORIZED"), "forged": (401, "ERR_UNAUTHORIZED"),
        "expired": (401, "ERR_TOKEN_EXPIRED"), "other asset": (403, "ERR_FORBIDDEN"), "unknown asset": (404, "ERR_NOT_FOUND"),
    }[case]
    result = websocket(live, path, bearer=API_KEY if case == "unknown asset" else None)
    assert not isinstance(result, Socket), "the upgrade was accepted"
    status, headers, body = result
    assert (status, (body or {}).get("error", {}).get("code")) == expected, (status, headers, body)
    assert headers["content-type"].startswith("application/json")
    assert sorted(body["error"]) == ["code", "message"]
    if status == 401:
        assert headers.get("www-authenticate") == "Bearer"


# --------------------------------------------------------------------------------------- requests

def test_a_filename_over_255_bytes_is_refused(live):
    marks = "a" + "\u0301" * 30_000  # one character, 60,001 bytes
    status, body = call("POST", live + "/v1/assets", {"filename": marks + ".mp4"})
    assert status == 400, "a 60 KB filename was accepted"
    assert body["error"]["code"] == "ERR_INVALID_REQUEST", body
    # 255 bytes (85 three-byte characters) is the most there may be.
    assert call("POST", live + "/v1/assets", {"filename": "\u20ac" * 85})[0] == 201
    assert call("POST", live + "/v1/assets", {"filename": "\u20ac" * 85 + "a"})[0] == 400


def test_tokens_are_accepted_only_in_their_canonical_form(live):
    created = create(live)
    asset_id, token = created["id"], created["token"]
    prefix, expires, uuid, mac = token.split(".")
    assert call("GET", f"{live}/v1/assets/{asset_id}", bearer=token)[0] == 200
    variants = {
        "+N": f"{prefix}.+{expires}.{uuid}.{mac}",
        "0N": f"{prefix}.0{expires}.{uuid}.{mac}",
        "upper-case UUID": f"{prefix}.{expires}.{uuid.upper()}.{mac}",
        "upper-case MAC": f"{prefix}.{expires}.{uuid}.{mac.upper()}",
    }
    for name, variant in variants.items():
        status, body = call("GET", f"{live}/v1/assets/{asset_id}", bearer=variant)
        assert status == 401, f"a token with {name} was accepted"
        assert body["error"]["code"] == "ERR_UNAUTHORIZED", name
        result = websocket(live, events_path(asset_id, variant))
        assert not isinstance(result, Socket) and result[0] == 401, name
