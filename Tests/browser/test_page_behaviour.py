"""The upload page as a person uses it, in headless Chromium with a phone-sized window
(one test also at desktop size): Cancel during a single-PUT upload deletes the asset; Retry after a
failed upload sends the file held in memory to a fresh asset; the events WebSocket comes back after
`serve` restarts; a reload mid-processing shows the asset again and follows it to Ready; an
expired token (4401) ends with a message, not a reconnect loop; the progress bar and ring have
accessible names and current values, status and ETA are live regions, prefers-reduced-motion stops
the ring's transition; limit errors show the service's own message with the limit's value."""
import json
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest
from conftest import API_KEY, BINARY, PHONE, chromium, clip, running_serve, wait_for
from selenium.webdriver.common.by import By

DESKTOP = (1280, 900)

# Counts the WebSockets the page opens and keeps them reachable, before any script of the page runs.
COUNT_SOCKETS = """
  window.__sockets = [];
  const Native = window.WebSocket;
  window.WebSocket = function (...args) { const s = new Native(...args); window.__sockets.push(s); return s; };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
"""


def make_browser(size=PHONE):
    driver = chromium(size)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": COUNT_SOCKETS})
    return driver


@pytest.fixture
def browser():
    driver = make_browser()
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def service():
    with running_serve({"PULSE_API_KEY": API_KEY}, prefix="pulse-page-") as running:
        yield running


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, bearer=API_KEY):
    request = urllib.request.Request(base + path, method=method, headers={"Authorization": "Bearer " + bearer})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
            return response.status, json.loads(body) if body else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def open_page(base, browser):
    browser.get(base + "/")
    browser.execute_script("localStorage.setItem('pulse.apiKey', arguments[0])", API_KEY)
    browser.get(base + "/")


def saved(browser):
    return json.loads(browser.execute_script("return localStorage.getItem('pulse.current')") or "null")


def text(browser, element_id):
    return browser.find_element(By.ID, element_id).text


def shown(browser, element_id):
    return browser.find_element(By.ID, element_id).is_displayed()


def message_code(browser):
    message = browser.find_element(By.ID, "message")
    return message.is_displayed() and message.get_attribute("data-code")


def assert_no_error(browser):
    message = browser.find_element(By.ID, "message")
    assert not message.is_displayed() or "info" in message.get_attribute("class"), message.text


def wait_ready_and_playing(browser, timeout=120):
    def ready():
        assert not message_code(browser), text(browser, "message")
        return text(browser, "status-text") == "Ready"
    wait_for("Ready", ready, timeout=timeout, every=0.2)
    video = browser.find_element(By.ID, "player")
    wait_for("playback", lambda: browser.execute_script("return arguments[0].currentTime", video) > 0.2, timeout=30)


def test_cancel_during_a_single_put_upload_deletes_the_asset(service, browser):
    open_page(service.url, browser)
    # The PUT to storage is held (paused, never answered) so the upload is surely in flight.
    browser.execute_cdp_cmd("Fetch.enable", {"patterns": [{"urlPattern": "*/storage/*", "requestStage": "Request"}]})
    browser.find_element(By.ID, "file").send_keys(str(clip("sd_480p.mp4")))
    record = wait_for("the asset to be kept", lambda: saved(browser), timeout=30)
    assert record["kind"] == "put" and record["step"] == "upload" and record["name"] == "sd_480p.mp4"
    assert call(service.url, "GET", f"/v1/assets/{record['id']}")[1]["status"] == "awaiting_upload"
    cancel = browser.find_element(By.ID, "upload-cancel")
    wait_for("the Cancel button", cancel.is_displayed, timeout=10)
    cancel.click()

    wait_for("the cancelled message", lambda: message_code(browser) == "ERR_CANCELLED", timeout=10)
    wait_for("the asset to be deleted", lambda: call(service.url, "GET", f"/v1/assets/{record['id']}")[0] == 404, timeout=10)
    assert saved(browser) is None
    assert not shown(browser, "upload-cancel") and not shown(browser, "retry-box")
    browser.execute_cdp_cmd("Fetch.disable", {})


def test_retry_after_a_failed_upload_without_choosing_the_file_again(service, browser):
    open_page(service.url, browser)
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/storage/*"]})
    browser.find_element(By.ID, "file").send_keys(str(clip("sd_480p.mp4")))
    wait_for("the upload to fail", lambda: message_code(browser) == "ERR_NETWORK", timeout=30)
    first = saved(browser)["id"]
    assert shown(browser, "retry-box") and text(browser, "retry") == "Retry"

    # The network is back: Retry, with the file input untouched.
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    browser.find_element(By.ID, "retry").click()
    wait_ready_and_playing(browser)
    second = saved(browser)["id"]
    assert second != first, "the retry went to the failed asset"
    assert call(service.url, "GET", f"/v1/assets/{second}")[1]["status"] == "ready"
    # The asset of the failed upload held nothing and is gone.
    assert call(service.url, "GET", f"/v1/assets/{first}")[0] == 404
    assert not shown(browser, "retry-box")


def test_the_events_socket_comes_back_after_serve_restarts(browser):
    port = free_port()
    env = {"PULSE_API_KEY": API_KEY}
    with tempfile.TemporaryDirectory(prefix="pulse-page-restart-") as data:
        # No worker at first: the asset waits, queued, while the socket is followed.
        with running_serve(env, args=("--port", str(port), "--no-worker"), data=data) as first:
            open_page(first.url, browser)
            browser.find_element(By.ID, "file").send_keys(str(clip("tiny_160x120.mp4")))
            wait_for("Queued", lambda: text(browser, "status-text") == "Queued…", timeout=30)
            wait_for("the socket to be open", lambda: browser.execute_script(
                "return window.__sockets.some(s => s.readyState === 1)"), timeout=10)
        # serve is down: the page says it reconnects, and keeps trying.
        wait_for("the reconnecting note", lambda: shown(browser, "connection"), timeout=10)
        assert "reconnecting" in text(browser, "connection")
        time.sleep(1.5)
        with running_serve(env, args=("--port", str(port)), data=data) as second:
            assert second.url == first.url
            wait_ready_and_playing(browser)
        assert not shown(browser, "connection")
        opened = browser.execute_script("return window.__sockets.length")
        assert opened >= 2, opened


def test_a_reload_mid_processing_shows_the_asset_and_follows_it_to_ready(browser):
    env = {"PULSE_API_KEY": API_KEY}
    with tempfile.TemporaryDirectory(prefix="pulse-page-reload-") as data:
        with running_serve(env, args=("--no-worker",), data=data) as service:
            open_page(service.url, browser)
            browser.find_element(By.ID, "file").send_keys(str(clip("tiny_160x120.mp4")))
            wait_for("Queued", lambda: text(browser, "status-text") == "Queued…", timeout=30)
            asset = saved(browser)["id"]

            browser.refresh()
            # No file chosen: the page shows the kept asset's state and follows it again.
            wait_for("the kept asset", lambda: shown(browser, "processing")
                     and text(browser, "status-text") == "Queued…", timeout=15)
            assert "tiny_160x120.mp4" in text(browser, "file-name")
            wait_for("the socket to be open", lambda: browser.execute_script(
                "return window.__sockets.some(s => s.readyState === 1)"), timeout=10)
            # Processing goes on elsewhere (a separate worker on the same data folder).
            worker = subprocess.Popen([str(BINARY), "worker", "--data", data],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            try:
                wait_ready_and_playing(browser)
            finally:
                worker.terminate()
                worker.wait(timeout=15)
            assert call(service.url, "GET", f"/v1/assets/{asset}")[1]["status"] == "ready"
            assert saved(browser)["id"] == asset

            # A reload of a ready asset shows it ready and plays it.
            browser.refresh()
            wait_ready_and_playing(browser, timeout=30)


def test_an_expired_token_ends_with_a_message_not_a_loop(browser):
    with running_serve({"PULSE_API_KEY": API_KEY, "PULSE_TOKEN_TTL_SECONDS": "5"}, args=("--no-worker",)) as service:
        open_page(service.url, browser)
        browser.find_element(By.ID, "file").send_keys(str(clip("tiny_160x120.mp4")))
        wait_for("the expired token", lambda: message_code(browser) == "ERR_TOKEN_EXPIRED", timeout=30)
        assert "expired" in text(browser, "message")
        opened = browser.execute_script("return window.__sockets.length")
        time.sleep(3)
        assert browser.execute_script("return window.__sockets.length") == opened == 1


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_accessible_names_live_regions_and_reduced_motion(service, size):
    browser = make_browser(size)
    try:
        open_page(service.url, browser)
        bar = browser.find_element(By.ID, "upload-progress")
        ring = browser.find_element(By.ID, "ring")
        ring_bar = browser.find_element(By.ID, "ring-bar")
        assert bar.get_attribute("aria-label") == "Upload progress"
        assert ring.get_attribute("role") == "progressbar" and ring.get_attribute("aria-label") == "Processing progress"
        assert ring.get_attribute("aria-valuenow") == "0"
        for live in ("status-text", "eta", "connection"):
            assert browser.find_element(By.ID, live).get_attribute("aria-live") == "polite", live
        assert browser.find_element(By.ID, "message").get_attribute("role") == "alert"

        style = "return getComputedStyle(arguments[0])[arguments[1]]"
        assert browser.execute_script(style, ring_bar, "transitionDuration") == "0.8s"
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
        assert browser.execute_script("return matchMedia('(prefers-reduced-motion: reduce)').matches")
        assert browser.execute_script(style, ring_bar, "transitionProperty") == "none"
        assert browser.execute_script(style, browser.find_element(By.ID, "thumbnail"), "animationName") == "none"

        # Values kept current through a real upload.
        browser.find_element(By.ID, "file").send_keys(str(clip("tiny_160x120.mp4")))
        # The names Chromium's accessibility tree computes (shown elements only): the ring is shown
        # over the bubble while processing, until the video plays in its place.
        wait_for("the ring", ring.is_displayed, timeout=60, every=0.02)
        assert ring.accessible_name == "Processing progress" and ring.aria_role == "progressbar"
        wait_ready_and_playing(browser)
        assert bar.get_attribute("aria-label") == "Upload progress"
        assert bar.get_attribute("aria-valuetext") == "100 % uploaded"
        assert ring.get_attribute("aria-valuenow") == "100"
        assert ring.get_attribute("aria-valuetext") == "100 % processed"
        assert browser.execute_script(style, ring_bar, "transitionProperty") == "none"
        # Nothing overflows the window sideways.
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        browser.quit()


def test_limit_errors_show_the_services_message(browser):
    env = {"PULSE_API_KEY": API_KEY, "PULSE_MAX_UPLOAD_BYTES": "300000", "PULSE_MAX_DURATION": "1"}
    with running_serve(env) as service:
        open_page(service.url, browser)
        # Larger than the upload limit: refused at create, with the limit in the message.
        browser.find_element(By.ID, "file").send_keys(str(clip("sd_480p.mp4")))
        wait_for("the size limit", lambda: message_code(browser) == "ERR_UPLOAD_TOO_LARGE", timeout=30)
        assert "300000 bytes" in text(browser, "message"), text(browser, "message")
        assert not shown(browser, "retry-box")

        # Longer than the duration limit: failed by the worker, its message shown.
        browser.find_element(By.ID, "file").send_keys(str(clip("tiny_160x120.mp4")))
        wait_for("the duration limit", lambda: message_code(browser) == "ERR_DURATION_EXCEED_CONSTRAINT", timeout=60)
        message = text(browser, "message")
        assert "the maximum is 1.00 s" in message and "lasts 2.0" in message, message
        assert not shown(browser, "retry-box")
