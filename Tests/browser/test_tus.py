"""tus uploads with tuspy, the tus project's Python client, against a live `serve` on local storage
and on S3 (moto): the upload is interrupted after part of the file, `serve` is restarted, the
upload is resumed by a new client that knows only the URL (it asks the server for the offset),
finished, and processed to `ready`; the source the worker measured is the file that was sent."""
import json
import os
import shutil
import subprocess
import tempfile
import urllib.request
import uuid

import pytest
from tusclient.uploader import Uploader

from conftest import API_KEY, call, clip, running_serve, wait_until_ready

# Larger than two 5 MiB parts, so on S3 the upload has several parts and a pending tail.
FILE = "progressive_720p_40s.mp4"
PART = 5 << 20


def s3_env():
    """The environment of a `serve` on a fresh moto bucket, or a skip without moto."""
    endpoint = os.environ.get("PULSE_TEST_S3_ENDPOINT")
    if not endpoint:
        if os.environ.get("PULSE_REQUIRE_SERVICES") == "1":
            pytest.fail("PULSE_TEST_S3_ENDPOINT is not set")
        pytest.skip("no moto (PULSE_TEST_S3_ENDPOINT)")
    bucket = "pulse-tus-" + uuid.uuid4().hex[:8]
    # Buckets are provisioned outside Pulse; moto takes an unsigned PUT.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{bucket}", method="PUT"), timeout=30).close()
    return {
        "PULSE_STORAGE_URL": f"s3://{bucket}/media",
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }


def probe(path):
    """The duration (seconds) ffprobe reads from the file."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout
    return float(json.loads(out)["format"]["duration"])


@pytest.mark.parametrize("storage", ["local", "s3"])
def test_tuspy_interrupted_and_resumed_by_a_new_client(storage):
    env = {"PULSE_API_KEY": API_KEY, "PULSE_UPLOAD_PART_BYTES": str(PART)}
    if storage == "s3":
        env.update(s3_env())
    path = clip(FILE)
    size = path.stat().st_size
    assert size > 2 * PART
    data = tempfile.mkdtemp(prefix="pulse-tus-")
    try:
        with running_serve(env, data=data) as service:
            status, created = call("POST", service.url + "/v1/assets", {
                "filename": FILE, "content_type": "video/mp4", "size": size, "upload_type": "tus",
            })
            assert status == 201, created
            upload = created["upload"]
            assert upload["method"] == "tus" and upload["expires_at"]

            # The first client sends a part and a half, in chunks that do not line up with the
            # parts, and is gone; so is this `serve`.
            first = Uploader(file_path=str(path), url=upload["url"], chunk_size=3 << 20)
            assert first.offset == 0
            first.upload(stop_at=PART + PART // 2)
            sent = first.offset
            assert PART < sent < size

        # Another `serve` over the same database and storage (on another port: the URL's path
        # and token stay as they were).
        with running_serve(env, data=data) as service:
            url = service.url + upload["url"][upload["url"].index("/tus/"):]
            # A new client with nothing but the URL: it HEADs the offset and goes on from there.
            second = Uploader(file_path=str(path), url=url, chunk_size=4 << 20)
            assert second.offset == sent
            _, asset = call("GET", f"{service.url}/v1/assets/{created['id']}")
            assert asset["status"] == "awaiting_upload"
            second.upload()
            assert second.offset == size

            # No complete call: the last byte sent it on. The worker measured the file that was sent.
            ready = wait_until_ready(service.url, created["id"], timeout=600)
            assert ready["size"] == size
            assert abs(ready["duration"] - probe(path)) < 0.1, ready
            # A complete now is accepted and changes nothing.
            status, completed = call("POST", f"{service.url}/v1/assets/{created['id']}/complete", bearer=created["token"])
            assert status == 202 and completed["status"] == "ready", completed
    finally:
        shutil.rmtree(data, ignore_errors=True)
