"""Hostile clients against a live `pulse-video serve`: the upload URL is a one-time door,
parallel PUTs cannot multiply temporary files or reserved bytes, DELETE during an encode leaves
nothing behind and nothing served, and no failure message names a path, a URL or a host.

Plain sockets, urllib and threads: the attacks need control over what is sent when (a request
head with a large Content-Length and then nothing, twenty of them at once)."""
import json
import os
import re
import socket
import shutil
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import Service as RunningService, clip, running_serve

API_KEY = "hostile-test-key"
# Small enough that the cap on bytes received at once (4 uploads' worth) is reachable in a test.
MAX_UPLOAD = 64 << 20


@pytest.fixture(scope="module")
def service():
    """A `serve` of its own (the tests look into its data folder): embedded worker, SQLite, local
    storage, 2 s segments so an encode stores segments early, a 64 MiB upload limit."""
    env = {
        "PULSE_API_KEY": API_KEY,
        "PULSE_MAX_UPLOAD_BYTES": str(MAX_UPLOAD),
        "PULSE_SEGMENT_SECONDS": "2",
        "PULSE_CHUNK_SECONDS": "20",
    }
    with running_serve(env, prefix="pulse-hostile-") as running:
        yield Service(running)


def error_code(body):
    return (body or {}).get("error", {}).get("code") if isinstance(body, dict) else None


class Service(RunningService):
    """The running serve, with the calls these tests make and every error message it answered."""

    def __init__(self, running):
        super().__init__(running.url, running.data, running.log, running.pid)
        parsed = urllib.parse.urlsplit(running.url)
        self.host, self.port = parsed.hostname, parsed.port
        self.messages = []  # every error message the service answered with, checked at the end

    # ---- HTTP ----------------------------------------------------------------------------------
    def call(self, method, path_or_url, body=None, bearer=API_KEY, data=None, headers=None, timeout=30):
        url = path_or_url if path_or_url.startswith("http") else self.url + path_or_url
        headers = dict(headers or {})
        if bearer:
            headers["Authorization"] = "Bearer " + bearer
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            raw = error.read()
            status = error.code
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        self.record(parsed)
        return status, parsed

    def record(self, parsed):
        if isinstance(parsed, dict):
            error = parsed.get("error")
            if isinstance(error, dict) and "message" in error:
                self.messages.append(error["message"])

    def create(self, name="clip.mp4"):
        status, created = self.call("POST", "/v1/assets", {"filename": name, "content_type": "video/mp4"})
        assert status == 201, created
        return created

    def put(self, created, payload):
        upload = created["upload"]
        return self.call("PUT", upload["url"], data=payload, bearer=None, headers=upload["headers"])

    def complete(self, created):
        return self.call("POST", f"/v1/assets/{created['id']}/complete", bearer=created["token"])

    def asset(self, asset_id):
        status, body = self.call("GET", f"/v1/assets/{asset_id}")
        assert status == 200, body
        if body.get("error"):
            self.messages.append(body["error"]["message"])
        return body

    def wait(self, what, condition, timeout=120.0, every=0.1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(every)
        raise AssertionError(f"timed out waiting for {what}\n" + self.log.read_text()[-3000:])

    def wait_terminal(self, asset_id, timeout=180.0):
        return self.wait(f"asset {asset_id} to finish",
                         lambda: (lambda a: a if a["status"] in ("ready", "failed") else None)(self.asset(asset_id)),
                         timeout=timeout)

    # ---- the data folder -----------------------------------------------------------------------
    def stored(self, asset_id):
        """Every file the storage folder holds for the asset (uploads/ and processed/)."""
        root = self.data / "storage"
        found = []
        for prefix in ("uploads", "processed"):
            folder = root / prefix / asset_id
            if folder.exists():
                found += [str(p.relative_to(root)) for p in folder.rglob("*") if p.is_file()]
        return sorted(found)

    def partial_files(self):
        """The temporary files uploads are being received into: the service's open files in its
        incoming folder (created unnamed, so a listing of the folder would not show them)."""
        folder = str(self.data / "incoming") + "/"
        found = []
        for fd in os.listdir(f"/proc/{self.pid}/fd"):
            try:
                target = os.readlink(f"/proc/{self.pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith(folder):
                found.append(target)
        incoming = self.data / "incoming"
        named = [str(p) for p in incoming.glob("*.part")] if incoming.exists() else []
        return sorted(set(found) | set(named))

    # ---- raw requests --------------------------------------------------------------------------
    def open_put(self, created, length, first=b""):
        """A PUT whose head announces `length` bytes, followed by `first` and then nothing yet."""
        upload = urllib.parse.urlsplit(created["upload"]["url"])
        sock = socket.create_connection((self.host, self.port), timeout=10)
        head = (
            f"PUT {upload.path}?{upload.query} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: video/mp4\r\nContent-Length: {length}\r\n\r\n"
        )
        sock.sendall(head.encode() + first)
        return sock

    def response(self, sock, timeout):
        """(status, parsed body) of the answer on `sock`, or None when none came within `timeout`."""
        sock.settimeout(timeout)
        raw = b""
        try:
            while b"\r\n\r\n" not in raw:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                raw += chunk
            if b"\r\n\r\n" not in raw:
                return None
            head, _, rest = raw.partition(b"\r\n\r\n")
            match = re.search(rb"content-length:\s*(\d+)", head, re.I)
            length = int(match.group(1)) if match else 0
            while len(rest) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                rest += chunk
        except socket.timeout:
            if b"\r\n\r\n" not in raw:
                return None
            head, _, rest = raw.partition(b"\r\n\r\n")
        except (ConnectionResetError, BrokenPipeError):
            if b"\r\n\r\n" not in raw:
                raise
            head, _, rest = raw.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        try:
            parsed = json.loads(rest) if rest else None
        except ValueError:
            parsed = rest
        self.record(parsed)
        return status, parsed


def long_clip(folder, seconds=40):
    """A 720p clip long enough that its encode is still storing segments seconds after it began."""
    path = Path(folder) / f"long_{seconds}s.mp4"
    if not path.exists():
        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", str(seconds),
             "-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-c:a", "aac", "-shortest", str(path)],
            check=True,
        )
    return path


# ---- the upload URL is a one-time door -----------------------------------------------------------


def test_put_after_complete_is_refused_and_the_encode_uses_the_accepted_bytes(service):
    created = service.create()
    original = clip("bigbuckbunny.mp4").read_bytes()
    assert service.put(created, original)[0] == 200
    status, _ = service.complete(created)
    assert status == 202
    # Garbage through the same URL, once the job has started (the thumbnail is announced) and at
    # once: both refused, and the stored upload is still the accepted one (or already deleted
    # after success).
    status, body = service.put(created, os.urandom(300_000))
    assert (status, error_code(body)) == (409, "ERR_CONFLICT"), body
    service.wait("the thumbnail", lambda: service.asset(created["id"])["thumbnail_url"] or
                 service.asset(created["id"])["status"] in ("ready", "failed"))
    status, body = service.put(created, os.urandom(300_000))
    assert (status, error_code(body)) == (409, "ERR_CONFLICT"), body
    source = service.data / "storage" / "uploads" / created["id"] / "clip.mp4"
    assert not source.exists() or source.read_bytes() == original
    asset = service.wait_terminal(created["id"])
    assert asset["status"] == "ready", asset
    assert abs(asset["duration"] - 5.3) < 0.5, asset


def test_put_after_ready_is_refused_and_recreates_no_original(service):
    created = service.create()
    assert service.put(created, clip("sd_480p.mp4").read_bytes())[0] == 200
    assert service.complete(created)[0] == 202
    assert service.wait_terminal(created["id"])["status"] == "ready"
    # The original goes after `ready` is recorded and announced (the finalize deletes it next).
    service.wait("the original to be deleted after ready",
                 lambda: not [key for key in service.stored(created["id"]) if key.startswith("uploads/")], timeout=30)
    status, body = service.put(created, clip("sd_480p.mp4").read_bytes())
    assert (status, error_code(body)) == (409, "ERR_CONFLICT"), body
    assert not [key for key in service.stored(created["id"]) if key.startswith("uploads/")], "the original came back"
    assert not service.partial_files()
    assert service.asset(created["id"])["status"] == "ready"


def test_twenty_parallel_puts_one_at_a_time(service):
    created = service.create()
    payload = clip("sd_480p.mp4").read_bytes()
    first, rest = payload[:65536], payload[65536:]
    sockets = [None] * 20
    barrier = threading.Barrier(20)

    def start(index):
        barrier.wait()
        sockets[index] = service.open_put(created, len(payload), first)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(20)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        answers = [service.response(sock, timeout=5) for sock in sockets]
        refused = [a for a in answers if a is not None]
        waiting = [i for i, a in enumerate(answers) if a is None]
        # Exactly one is being received; the other 19 were refused at once, without their bodies.
        assert len(waiting) == 1, answers
        assert all(status == 409 and error_code(body) == "ERR_CONFLICT" for status, body in refused), refused
        assert time.monotonic() - began < 15
        assert len(service.partial_files()) <= 1, service.partial_files()
        accepted = sockets[waiting[0]]
        accepted.settimeout(30)
        accepted.sendall(rest)
        assert service.response(accepted, timeout=30)[0] == 200
    finally:
        for sock in sockets:
            if sock:
                sock.close()
    # One at a time, not one ever: the next PUT, the previous one done, is taken again.
    assert service.put(created, payload)[0] == 200
    assert not service.partial_files()
    service.call("DELETE", f"/v1/assets/{created['id']}")


def test_bytes_received_at_once_are_capped(service):
    # Each PUT announces the whole limit: four are received at once, the fifth is told to come back.
    assets = [service.create(f"cap{i}.mp4") for i in range(6)]
    held = []
    try:
        for created in assets[:4]:
            held.append(service.open_put(created, MAX_UPLOAD, b"\0" * 1024))
        time.sleep(0.5)
        for sock in held:
            assert service.response(sock, timeout=0.5) is None, "an upload within the cap was refused"
        fifth = service.open_put(assets[4], MAX_UPLOAD, b"\0" * 1024)
        answer = service.response(fifth, timeout=5)
        fifth.close()
        assert answer is not None and answer[0] == 503 and error_code(answer[1]) == "ERR_UNAVAILABLE", answer
        assert len(service.partial_files()) <= 4
    finally:
        for sock in held:
            sock.close()
    # Clients that went away give their reservation back, and leave neither objects nor temp files.
    small = clip("sd_480p.mp4").read_bytes()
    service.wait("the aborted uploads to be released", lambda: service.put(assets[5], small)[0] == 200, timeout=20)
    service.wait("the temporary files to go", lambda: not service.partial_files(), timeout=20)
    for created in assets[:5]:
        assert service.stored(created["id"]) == []
    for created in assets:
        service.call("DELETE", f"/v1/assets/{created['id']}")


# ---- DELETE means gone ---------------------------------------------------------------------------


def test_delete_during_an_encode_leaves_nothing_served_or_stored(service, tmp_path):
    created = service.create("long.mp4")
    assert service.put(created, long_clip(tmp_path).read_bytes())[0] == 200
    assert service.complete(created)[0] == 202
    asset_id = created["id"]
    segments = service.wait(
        "the encode to store segments",
        lambda: [k for k in service.stored(asset_id) if k.endswith(".ts")], timeout=120, every=0.02)
    thumbnail = f"/media/{asset_id}/thumbnail.jpg"
    assert service.call("GET", thumbnail, bearer=None)[0] == 200
    assert service.asset(asset_id)["status"] != "ready", "the encode finished before the delete: make the clip longer"

    status, _ = service.call("DELETE", f"/v1/assets/{asset_id}")
    assert status == 204
    assert service.call("GET", f"/v1/assets/{asset_id}")[0] == 404
    segment = "/media/" + segments[0].split("/", 1)[1]
    for path in (thumbnail, segment, f"/media/{asset_id}/master.m3u8"):
        status, body = service.call("GET", path, bearer=None)
        assert (status, error_code(body)) == (404, "ERR_NOT_FOUND"), (path, status, body)
    # Whatever the storage folder holds for the id meanwhile is never served, and the worker stops
    # (not as a failure), sweeping what it stored after the delete's own sweep.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "job stopped" not in service.log.read_text():
        for key in service.stored(asset_id):
            status = service.call("GET", "/media/" + key.split("/", 1)[1], bearer=None)[0]
            assert status == 404, f"{key} stored after the delete is served: {status}"
        time.sleep(0.05)
    assert "job stopped" in service.log.read_text(), "the worker did not stop the deleted asset's job:\n" + \
        service.log.read_text()[-3000:]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        assert service.stored(asset_id) == [], service.stored(asset_id)
        time.sleep(0.2)
    for path in (thumbnail, segment):
        assert service.call("GET", path, bearer=None)[0] == 404
    assert not re.search(rf"job failed[^\n]*{asset_id}|{asset_id}[^\n]*job failed", service.log.read_text())


def test_media_of_an_asset_that_does_not_exist_is_not_served(service):
    # Objects without an asset (left by an older version, or restored from a backup) are not served.
    ghost = "7d3c1f0e-1111-4222-8333-944455556666"
    folder = service.data / "storage" / "processed" / ghost / "720p"
    folder.mkdir(parents=True)
    (folder / "seg_00000.ts").write_bytes(b"\x47" * 188)
    (folder.parent / "thumbnail.jpg").write_bytes(b"\xff\xd8\xff")
    for path in (f"/media/{ghost}/720p/seg_00000.ts", f"/media/{ghost}/thumbnail.jpg"):
        assert service.call("GET", path, bearer=None)[0] == 404
        assert service.call("HEAD", path, bearer=None)[0] == 404
    shutil.rmtree(folder.parent)


# ---- no message names a place --------------------------------------------------------------------

PLACE = re.compile(
    r"(file:|[a-z][a-z0-9+.-]*://|(^|[\s'\"(=])[/~]\w|\b\d{1,3}(\.\d{1,3}){3}\b|localhost|"
    r"\b[\w-]+(\.[\w-]+)*\.(com|net|org|io|internal|local|lan)\b|\b[a-z][\w.-]*:\d{2,5}\b|\\)",
    re.I,
)


def assert_names_no_place(service, message):
    assert not PLACE.search(message), f"a message names a place: {message!r}"
    assert str(service.data) not in message and service.host not in message, message


def test_failure_messages_name_no_path_url_or_host(service):
    # Processing failures recorded by the worker.
    for name in ("not_video.mp4", "truncated.mp4"):
        created = service.create(name)
        assert service.put(created, clip(name).read_bytes())[0] == 200
        assert service.complete(created)[0] == 202
        asset = service.wait_terminal(created["id"])
        assert asset["status"] == "failed"
        assert_names_no_place(service, asset["error"]["message"])

    # HTTP refusals: complete before the upload, a bad signature, an expired-looking URL, a deleted
    # asset's URL, a body over the limit.
    created = service.create()
    assert error_code(service.complete(created)[1]) == "ERR_UPLOAD_NOT_FOUND"
    url = created["upload"]["url"]
    service.call("PUT", url.replace("signature=", "signature=00"), data=b"x", bearer=None)
    service.call("PUT", url.replace("expires=", "expires=1"), data=b"x", bearer=None)
    too_large = service.open_put(created, MAX_UPLOAD + 1)
    assert service.response(too_large, timeout=10)[0] == 413
    too_large.close()
    service.call("DELETE", f"/v1/assets/{created['id']}")
    status, body = service.put(created, b"x")
    assert (status, error_code(body)) == (404, "ERR_NOT_FOUND"), body



def test_a_recorded_message_naming_a_place_is_not_shown(service):
    # A recorded message that does carry a place (as an older worker wrote them, or a future bug):
    # what leaves the server is the generic sentence, in the asset and in the list.
    created = service.create("leaky.mp4")
    asset_id = created["id"]
    leaky = (f"the source file file:{service.data}/storage/uploads/{asset_id}/leaky.mp4 could not be opened "
             f"from https://minio.internal:9000/bucket/uploads/{asset_id}/leaky.mp4 (host 10.1.2.3)")
    with sqlite3.connect(service.data / "pulse.sqlite", timeout=30) as db:
        db.execute("UPDATE assets SET status = 'failed', error_code = 'ERR_SOURCE_NOT_FOUND', error_message = ? "
                   "WHERE id = ?", (leaky, asset_id))
    asset = service.asset(asset_id)
    assert asset["error"]["code"] == "ERR_SOURCE_NOT_FOUND"
    assert_names_no_place(service, asset["error"]["message"])
    status, listing = service.call("GET", "/v1/assets?limit=100")
    for listed in listing["assets"]:
        if listed["error"]:
            assert_names_no_place(service, listed["error"]["message"])


def test_no_error_message_of_this_file_named_a_place(service):
    # Every error message any test of this file was answered with (this test runs last).
    assert service.messages
    for message in service.messages:
        assert_names_no_place(service, message)
