"""Shared fixtures: a real `pulse-video serve` on a free port over a temporary data folder."""
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / ".build" / "debug" / "pulse-video"
MEDIA = Path(os.environ.get("PULSE_TEST_MEDIA_DIR", ROOT / "TestMedia"))
ARTIFACTS = ROOT / "artifacts"
API_KEY = "browser-test-key"


def clip(name: str) -> Path:
    path = MEDIA / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run scripts/gen-test-media.sh")
    return path


@pytest.fixture(scope="session")
def server():
    """Starts `serve` (embedded worker, SQLite, local storage) and yields its base URL."""
    if not BINARY.exists():
        subprocess.run(["swift", "build", "--product", "pulse-video"], cwd=ROOT, check=True)
    data = tempfile.mkdtemp(prefix="pulse-browser-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "AWS_"))}
    env["PULSE_API_KEY"] = API_KEY
    log_path = Path(data) / "serve.log"
    log = open(log_path, "w")
    process = subprocess.Popen(
        [str(BINARY), "serve", "--data", data, "--port", "0"], stdout=log, stderr=subprocess.STDOUT, env=env
    )
    try:
        deadline = time.monotonic() + 60
        url = None
        while time.monotonic() < deadline and url is None:
            match = re.search(r"pulse-video listening on (http://\S+)", log_path.read_text())
            if match:
                url = match.group(1)
            elif process.poll() is not None:
                break
            else:
                time.sleep(0.05)
        if url is None:
            pytest.fail("serve did not start:\n" + log_path.read_text()[-3000:])
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        if process.returncode not in (0, None):
            print(log_path.read_text()[-3000:])
        shutil.rmtree(data, ignore_errors=True)
