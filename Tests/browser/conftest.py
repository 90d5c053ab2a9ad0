"""Shared fixtures: a real `pulse-video serve` on a free port over a temporary data folder."""
import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / ".build" / "debug" / "pulse-video"
MEDIA = Path(os.environ.get("PULSE_TEST_MEDIA_DIR", ROOT / "TestMedia"))
ARTIFACTS = ROOT / "artifacts"
API_KEY = "browser-test-key"
PHONE = (390, 844)


def chromium(size=PHONE):
    """Headless Chromium (Debian's) through chromedriver: autoplay allowed, a phone-sized window
    by default, the DevTools network domain on (tests block requests with it)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--autoplay-policy=no-user-gesture-required", "--no-sandbox",
                     "--disable-dev-shm-usage", f"--window-size={size[0]},{size[1]}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.set_script_timeout(30)
    return driver


@pytest.fixture
def browser():
    """A phone-sized headless Chromium, closed after the test."""
    driver = chromium()
    yield driver
    driver.quit()


def call(method, url, body=None, bearer=API_KEY, data=None, headers=None):
    """One API call: `body` is sent as JSON, `data` as is; returns (status, parsed JSON or None),
    error answers included."""
    headers = dict(headers or {})
    if bearer:
        headers["Authorization"] = "Bearer " + bearer
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    return status, (json.loads(raw) if raw else None)


def wait_for(what, condition, timeout=60.0, every=0.05):
    """Polls `condition` until it returns something truthy (returned), or fails the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def clip(name: str) -> Path:
    path = MEDIA / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run scripts/gen-test-media.sh")
    return path


def upload_clip(server, name="sd_480p.mp4", **options):
    """Creates an asset (`options` join the create body), PUTs the clip to its upload URL and
    completes it; returns (the create response, the complete response)."""
    status, created = call("POST", server + "/v1/assets", {"filename": name, "content_type": "video/mp4", **options})
    assert status == 201, created
    upload = created["upload"]
    with open(clip(name), "rb") as file:
        status, _ = call(upload["method"], upload["url"], data=file.read(), bearer=None, headers=upload["headers"])
    assert status == 200
    status, completed = call("POST", f"{server}/v1/assets/{created['id']}/complete", bearer=created["token"])
    assert status == 202, completed
    return created, completed


def wait_until_ready(server, asset_id, timeout=120):
    """Polls the asset until it is ready (returned); fails the test at once if it failed."""
    def ready():
        _, asset = call("GET", f"{server}/v1/assets/{asset_id}")
        assert asset["status"] != "failed", asset
        return asset if asset["status"] == "ready" else None

    return wait_for("the asset to be ready", ready, timeout=timeout, every=0.2)


class Service:
    """A running `serve`: its base URL, data folder, log file and process id."""

    def __init__(self, url, data, log, pid):
        self.url = url
        self.data = data
        self.log = log
        self.pid = pid


@contextlib.contextmanager
def running_serve(env=None, args=(), prefix="pulse-browser-", data=None):
    """Starts `pulse-video serve` on a free port over a fresh data folder, with the process's
    environment less every PULSE_/AWS_ variable, plus `env`; yields a `Service`; stops it and
    removes the folder afterwards (printing the end of its log if it did not stop cleanly).
    Given `data`, it runs on that folder instead and leaves it (a restart keeps its state)."""
    if not BINARY.exists():
        subprocess.run(["swift", "build", "--product", "pulse-video"], cwd=ROOT, check=True)
    keep = data is not None
    data = Path(data) if keep else Path(tempfile.mkdtemp(prefix=prefix))
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "AWS_"))}
    full_env.update(env or {})
    log_path = data / "serve.log"
    log = open(log_path, "a" if keep else "w")
    start = log_path.stat().st_size
    process = subprocess.Popen(
        [str(BINARY), "serve", "--data", str(data), "--port", "0", *args], stdout=log, stderr=subprocess.STDOUT, env=full_env
    )
    try:
        deadline = time.monotonic() + 60
        url = None
        while time.monotonic() < deadline and url is None:
            match = re.search(r"pulse-video listening on (http://\S+)", log_path.read_text()[start:])
            if match:
                url = match.group(1)
            elif process.poll() is not None:
                break
            else:
                time.sleep(0.05)
        if url is None:
            pytest.fail("serve did not start:\n" + log_path.read_text()[-3000:])
        yield Service(url, data, log_path, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        if process.returncode not in (0, None, -15):
            print(log_path.read_text()[-3000:])
        if not keep:
            shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def server():
    """`serve` (embedded worker, SQLite, local storage); yields its base URL."""
    with running_serve({"PULSE_API_KEY": API_KEY}) as service:
        yield service.url
