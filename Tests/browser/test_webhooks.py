"""Signed webhooks against a live `pulse-video serve`: a receiver on 127.0.0.1 checks
every request with `standardwebhooks`, the Standard Webhooks reference library, unchanged. A 503
is retried with the same `webhook-id` within seconds; events recorded while the receiver is down
and `serve` restarts still arrive; without PULSE_WEBHOOK_ALLOW_PRIVATE a 127.0.0.1 URL is refused
(a recorded attempt, never a request)."""
import base64
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook
from conftest import BINARY, clip, running_serve, wait_for
from conftest import call as api_call

API_KEY = "webhook-test-key"
SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
# The query carries a token: it must never appear in the log or the deliveries listing.
QUERY_TOKEN = "query-token-never-logged"


class Receiver:
    """An HTTP receiver on 127.0.0.1 that verifies each request with `standardwebhooks`, answers
    503 to the first `fail_first` requests and 204 to the rest, and records them all."""

    def __init__(self, port=0, fail_first=0):
        self.verifier = Webhook(SECRET)
        self.records = []  # dicts: id, type, payload (None when unverified), error, status, at
        self.lock = threading.Lock()
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {name: value for name, value in self.headers.items()}
                try:
                    payload, error = receiver.verifier.verify(body, headers), None
                except Exception as failure:  # any verification failure is a test failure
                    payload, error = None, repr(failure)
                with receiver.lock:
                    status = 503 if len(receiver.records) < receiver.fail_first else 204
                    receiver.records.append({
                        "id": headers.get("webhook-id"), "type": (payload or {}).get("type"), "payload": payload,
                        "error": error, "status": status, "at": time.monotonic(), "path": self.path,
                    })
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hooks/pulse?token={QUERY_TOKEN}"

    def snapshot(self):
        with self.lock:
            return list(self.records)

    def delivered(self, asset_id):
        """Verified, 2xx-answered events of the asset, by type."""
        return {r["type"]: r for r in self.snapshot() if r["status"] == 204 and r["payload"] and r["payload"]["data"]["id"] == asset_id}

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def call(base, method, path, body=None, bearer=API_KEY, data=None, headers=None):
    """An API call on `serve` at `base` (`path` may be a whole URL)."""
    return api_call(method, path if path.startswith("http") else base + path, body, bearer, data, headers)


def upload(base, name="tiny_160x120.mp4"):
    """Creates, uploads and completes an asset; returns its id."""
    status, created = call(base, "POST", "/v1/assets", {"filename": name, "content_type": "video/mp4"})
    assert status == 201, created
    upload = created["upload"]
    status, _ = call(base, "PUT", upload["url"], bearer=None, data=clip(name).read_bytes(), headers=upload["headers"])
    assert status in (200, 201, 204), status
    status, body = call(base, "POST", f"/v1/assets/{created['id']}/complete", bearer=created["token"])
    assert status == 202, body
    return created["id"]


def wait(what, condition, timeout=90.0, every=0.1):
    return wait_for(what, condition, timeout, every)


def deliveries(base, asset_id):
    status, body = call(base, "GET", f"/v1/webhook-deliveries?asset_id={asset_id}")
    assert status == 200, body
    return {d["type"]: d for d in body["deliveries"]}


def env_for(receiver_url, allow_private=True):
    env = {"PULSE_API_KEY": API_KEY, "PULSE_WEBHOOK_URL": receiver_url, "PULSE_WEBHOOK_SECRET": SECRET}
    if allow_private:
        env["PULSE_WEBHOOK_ALLOW_PRIVATE"] = "1"
    return env


def assert_nothing_secret_in(log_path):
    log = log_path.read_text()
    assert QUERY_TOKEN not in log
    assert SECRET not in log and SECRET[len("whsec_"):] not in log


def test_events_arrive_signed_and_a_503_is_retried_with_the_same_id():
    receiver = Receiver(fail_first=1)
    try:
        with running_serve(env_for(receiver.url), prefix="pulse-webhooks-") as serve:
            asset_id = upload(serve.url)
            got = wait("thumbnail_ready and ready, verified and answered 2xx",
                       lambda: (lambda d: d if {"asset.thumbnail_ready", "asset.ready"} <= d.keys() else None)(receiver.delivered(asset_id)))
            records = receiver.snapshot()
            # Every request verified with the reference library, on the configured path and query.
            assert all(r["error"] is None for r in records), [r["error"] for r in records]
            assert all(r["path"] == f"/hooks/pulse?token={QUERY_TOKEN}" for r in records)

            # The first request was answered 503; the same webhook-id came again within seconds.
            # (It may be any of the events, asset.playable included: several are delivered at once.)
            first = records[0]
            assert first["status"] == 503
            again = wait("the refused message again", lambda: [r for r in receiver.snapshot()[1:] if r["id"] == first["id"]], timeout=15)
            records = receiver.snapshot()
            assert again[0]["status"] == 204, records
            assert again[0]["at"] - first["at"] <= 6.0, again[0]["at"] - first["at"]
            # Each event is its own message; no event was delivered twice.
            assert len({r["id"] for r in records}) == len([r for r in records if r["status"] == 204])

            # The body: {"type", "timestamp", "data"}, data being the asset as GET shows it.
            ready = got["asset.ready"]["payload"]
            assert set(ready) == {"type", "timestamp", "data"}
            assert ready["timestamp"].endswith("Z") and "T" in ready["timestamp"]
            status, shown = call(serve.url, "GET", f"/v1/assets/{asset_id}")
            assert status == 200
            assert ready["data"] == shown
            thumbnail = got["asset.thumbnail_ready"]["payload"]["data"]
            assert thumbnail["id"] == asset_id and thumbnail["thumbnail_url"] and thumbnail["status"] != "ready"
            # The placeholder goes out with the thumbnail: a client paints it before fetching the image.
            assert thumbnail["placeholder"] and thumbnail["placeholder"] == shown["placeholder"]
            with urllib.request.urlopen(thumbnail["thumbnail_url"], timeout=10) as response:
                assert response.read(3) == b"\xff\xd8\xff"  # a JPEG

            # The operator's view: every attempt with its status code, no query string.
            # (The receiver counts a request when it arrives; the deliverer records it once answered.)
            listed = wait("the retried message recorded as delivered", lambda: (lambda d: d if d.get(first["type"], {}).get("status") == "delivered"
                          and d.get("asset.ready", {}).get("status") == "delivered" else None)(deliveries(serve.url, asset_id)))
            retried = listed[first["type"]]
            assert retried["id"] == first["id"] and retried["status"] == "delivered"
            assert [a["status_code"] for a in retried["attempts"]] == [503, 204]
            assert [a["outcome"] for a in retried["attempts"]] == ["failed", "delivered"]
            assert all(a["endpoint"] == f"http://127.0.0.1:{receiver.port}/hooks/pulse" for a in retried["attempts"])
            assert listed["asset.ready"]["status"] == "delivered"
            status, body = call(serve.url, "GET", f"/v1/webhook-deliveries?asset_id={asset_id}", bearer=None)
            assert status == 401
            status, body = call(serve.url, "GET", "/v1/webhook-deliveries?asset_id=nope")
            assert status == 400 and body["error"]["code"] == "ERR_INVALID_REQUEST"
            assert_nothing_secret_in(serve.log)
    finally:
        receiver.stop()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_receiver_down_while_serve_restarts_still_receives_each_event():
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks/pulse?token={QUERY_TOKEN}"
    data = tempfile.mkdtemp(prefix="pulse-webhooks-restart-")
    receiver = None
    try:
        # The receiver is down: the events are recorded and every attempt fails to connect.
        with running_serve(env_for(url), data=data) as serve:
            asset_id = upload(serve.url)
            wait("the asset to be ready", lambda: call(serve.url, "GET", f"/v1/assets/{asset_id}")[1]["status"] == "ready")
            before = wait("a failed attempt for each event", lambda: (lambda d: d if all(
                d.get(t) and d[t]["attempts"] for t in ("asset.thumbnail_ready", "asset.ready")) else None)(deliveries(serve.url, asset_id)))
            for event in before.values():
                assert event["status"] == "pending"
                assert all(a["outcome"] == "failed" and a["error"] == "connect" and a["status_code"] is None for a in event["attempts"])
        # serve is stopped; the receiver comes up; serve starts again on the same data folder.
        receiver = Receiver(port=port)
        with running_serve(env_for(url), data=data) as serve:
            got = wait("both events after the restart",
                       lambda: (lambda d: d if {"asset.thumbnail_ready", "asset.ready"} <= d.keys() else None)(receiver.delivered(asset_id)),
                       timeout=150)
            assert all(r["error"] is None for r in receiver.snapshot())
            # The same messages as before the restart: same webhook-ids.
            assert {t: r["id"] for t, r in got.items()} == {t: before[t]["id"] for t in got}
            # The receiver counts a request when it arrives; the deliverer records it once answered.
            after = wait("both deliveries recorded", lambda: (lambda d: d if all(
                d[t]["status"] == "delivered" for t in ("asset.thumbnail_ready", "asset.ready")) else None)(deliveries(serve.url, asset_id)))
            assert after["asset.ready"]["attempts"][-1]["status_code"] == 204
            assert_nothing_secret_in(serve.log)
    finally:
        if receiver:
            receiver.stop()
        shutil.rmtree(data, ignore_errors=True)


def test_a_private_address_is_refused_without_the_operators_leave():
    receiver = Receiver()
    try:
        with running_serve(env_for(receiver.url, allow_private=False), prefix="pulse-webhooks-") as serve:
            asset_id = upload(serve.url)
            listed = wait("a refused attempt", lambda: (lambda d: d if d.get("asset.thumbnail_ready") and d["asset.thumbnail_ready"]["attempts"] else None)(
                deliveries(serve.url, asset_id)))
            attempt = listed["asset.thumbnail_ready"]["attempts"][0]
            assert attempt["outcome"] == "refused" and attempt["error"] == "private_address" and attempt["status_code"] is None
            assert listed["asset.thumbnail_ready"]["status"] == "pending"
            assert receiver.snapshot() == []
    finally:
        receiver.stop()


def test_a_worker_process_delivers_what_it_records():
    """`serve --no-worker` without webhook URLs beside a `pulse-video worker` with them: the worker
    records the events (the outbox is written whatever the process's settings) and delivers them,
    `asset.failed` included."""
    receiver = Receiver()
    try:
        with running_serve({"PULSE_API_KEY": API_KEY}, args=("--no-worker",), prefix="pulse-webhooks-worker-") as serve:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "AWS_"))}
            env.update(env_for(receiver.url))
            env["PULSE_PUBLIC_URL"] = serve.url  # a worker has no address of its own to build URLs on
            log = open(serve.data / "worker.log", "w")
            worker = subprocess.Popen([str(BINARY), "worker", "--data", str(serve.data)], stdout=log, stderr=subprocess.STDOUT, env=env)
            try:
                good, bad = upload(serve.url), upload(serve.url, "not_video.mp4")
                wait("ready from the worker", lambda: "asset.ready" in receiver.delivered(good))
                failed = wait("failed from the worker", lambda: receiver.delivered(bad).get("asset.failed"))
                assert all(r["error"] is None for r in receiver.snapshot())
                assert failed["payload"]["data"]["status"] == "failed"
                assert failed["payload"]["data"]["error"]["code"] == "ERR_NON_VIDEO"
                assert failed["payload"]["data"] == call(serve.url, "GET", f"/v1/assets/{bad}")[1]
                assert receiver.delivered(good)["asset.ready"]["payload"]["data"] == call(serve.url, "GET", f"/v1/assets/{good}")[1]
            finally:
                worker.terminate()
                assert worker.wait(timeout=30) == 0
                log.close()
            assert_nothing_secret_in(serve.data / "worker.log")
    finally:
        receiver.stop()
