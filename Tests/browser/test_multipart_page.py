"""Resumable uploads on the page, in headless Chromium with a phone-sized window: a real
video of more than 64 MiB goes up in parts; the second half of its parts is blocked, the page is
reloaded once the first half is stored, the page offers to resume, the same file is chosen again,
only the missing parts are sent, and the asset processes to ready. Then Cancel aborts an upload:
the asset and its parts are gone."""
import json
import subprocess
import urllib.error
import urllib.request

import pytest
from conftest import API_KEY, running_serve, wait_for
from selenium.webdriver.common.by import By
from test_openapi import check

PART_SIZE = 5 * 1024 * 1024


@pytest.fixture(scope="module")
def big_clip(tmp_path_factory):
    """6 s of lossless noise at 640x360 with audio: about 79 MB, a valid video above the page's
    64 MiB threshold (the page's behaviour for big files is what is tested, so the file is big)."""
    path = tmp_path_factory.mktemp("multipart") / "big clip.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30,noise=alls=60:allf=t",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "6", "-c:v", "libx264",
                    "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)], check=True)
    assert path.stat().st_size >= 64 * 1024 * 1024, path.stat().st_size
    return path


@pytest.fixture(scope="module")
def service():
    # 5 MiB parts (S3's smallest, PULSE_UPLOAD_PART_BYTES): 16 parts, so "half" is 8 of them.
    with running_serve({"PULSE_API_KEY": API_KEY, "PULSE_UPLOAD_PART_BYTES": str(PART_SIZE)}, prefix="pulse-multipart-") as running:
        yield running


def call(service, method, path):
    request = urllib.request.Request(service.url + path, method=method, headers={"Authorization": "Bearer " + API_KEY})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
            return response.status, json.loads(body) if body else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def saved_upload(browser):
    return json.loads(browser.execute_script("return localStorage.getItem('pulse.multipart')") or "null")


def open_page(service, browser):
    browser.get(service.url + "/")
    browser.execute_script("localStorage.setItem('pulse.apiKey', arguments[0])", API_KEY)
    browser.get(service.url + "/")


def test_interrupted_upload_resumes_after_reload(service, browser, big_clip):
    size = big_clip.stat().st_size
    part_count = -(-size // PART_SIZE)
    half = part_count // 2
    open_page(service, browser)
    # The second half of the parts cannot get through (the page retries them with backoff).
    blocked = [f"*?part={n}&*" for n in range(half + 1, part_count + 1)]
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": blocked})
    browser.find_element(By.ID, "file").send_keys(str(big_clip))

    record = wait_for("the upload to be kept in localStorage", lambda: saved_upload(browser), timeout=30)
    assert record["size"] == size and record["name"] == big_clip.name and record["partCount"] == part_count
    asset = record["id"]
    cancel = browser.find_element(By.ID, "upload-cancel")
    assert cancel.is_displayed()

    def first_half_stored():
        status, body = call(service, "GET", f"/v1/assets/{asset}/upload/parts")
        assert status == 200, body
        return [part["part_number"] for part in body["parts"]] == list(range(1, half + 1))
    wait_for("the first half of the parts", first_half_stored, timeout=60, every=0.2)

    # The tab is reloaded mid-upload: what the page kept is the asset id and token.
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    browser.refresh()
    banner = browser.find_element(By.ID, "resume")
    wait_for("the offer to resume", banner.is_displayed, timeout=10)
    assert big_clip.name in banner.text
    assert saved_upload(browser)["id"] == asset

    # The same file chosen again: only the missing parts go up, then complete, process, play.
    browser.find_element(By.ID, "file").send_keys(str(big_clip))
    upload = browser.find_element(By.ID, "upload")
    wait_for("the resume to start", lambda: upload.get_attribute("data-asset-id") == asset, timeout=10)
    assert upload.get_attribute("data-resumed-parts") == str(half)
    # Read as text content: the bar goes as soon as processing begins.
    wait_for("the upload to reach 100 %", lambda: browser.find_element(By.ID, "upload-percent").get_attribute("textContent") == "100 %",
             timeout=60)

    def ready():
        status, body = call(service, "GET", f"/v1/assets/{asset}")
        assert status == 200 and body["status"] != "failed", body
        return body["status"] == "ready" and body
    body = wait_for("the asset to be ready", ready, timeout=240, every=0.5)
    assert body["size"] == size
    wait_for("the ring at 100 %", lambda: browser.find_element(By.ID, "ring").get_attribute("data-percent") == "100", timeout=30)
    assert saved_upload(browser) is None
    assert not browser.find_element(By.ID, "resume").is_displayed()
    message = browser.find_element(By.ID, "message")
    assert not message.is_displayed() or "info" in message.get_attribute("class"), message.text


def test_cancel_aborts_the_upload(service, browser, big_clip):
    open_page(service, browser)
    # Parts after the first cannot get through, so the upload is surely unfinished when cancelled.
    part_count = -(-big_clip.stat().st_size // PART_SIZE)
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": [f"*?part={n}&*" for n in range(2, part_count + 1)]})
    browser.find_element(By.ID, "file").send_keys(str(big_clip))
    record = wait_for("the upload to start", lambda: saved_upload(browser), timeout=30)
    wait_for("a part to be stored", lambda: call(service, "GET", f"/v1/assets/{record['id']}/upload/parts")[1]["parts"],
             timeout=60, every=0.2)
    browser.find_element(By.ID, "upload-cancel").click()

    message = browser.find_element(By.ID, "message")
    wait_for("the cancelled message", lambda: message.get_attribute("data-code") == "ERR_CANCELLED", timeout=10)
    wait_for("the asset to be deleted", lambda: call(service, "GET", f"/v1/assets/{record['id']}")[0] == 404, timeout=10)
    assert saved_upload(browser) is None
    # The asset answers 404 from the delete's first step; its parts go a moment later.
    staging = service.data / "storage" / ".staging" / "multipart"
    wait_for("the parts to be removed", lambda: not staging.exists() or not any(staging.iterdir()), timeout=10)


def test_multipart_responses_match_the_spec(service):
    """Create, part URLs and the part list validate against docs/openapi.yaml."""
    request = urllib.request.Request(
        service.url + "/v1/assets", method="POST", headers={"Authorization": "Bearer " + API_KEY, "Content-Type": "application/json"},
        data=json.dumps({"filename": "spec.mp4", "size": 3 * PART_SIZE + 1, "upload_type": "multipart"}).encode())
    with urllib.request.urlopen(request, timeout=30) as response:
        created = json.loads(response.read())
    check(created, "CreateAssetResponse")
    assert created["upload"]["part_count"] == 4
    request = urllib.request.Request(
        f"{service.url}/v1/assets/{created['id']}/upload/parts", method="POST",
        headers={"Authorization": "Bearer " + created["token"], "Content-Type": "application/json"},
        data=json.dumps({"part_numbers": [4, 1]}).encode())
    with urllib.request.urlopen(request, timeout=30) as response:
        urls = json.loads(response.read())
    check(urls, "PartURLs")
    assert [part["size"] for part in urls["parts"]] == [1, PART_SIZE]
    status, stored = call(service, "GET", f"/v1/assets/{created['id']}/upload/parts")
    assert status == 200
    check(stored, "StoredParts")
    status, error = call(service, "POST", f"/v1/assets/{created['id']}/complete")
    check(error, "Error")
