"""`/metrics` is valid Prometheus exposition after real work, by Prometheus's own linter."""
import shutil
import subprocess
import urllib.request

from conftest import API_KEY, upload_clip, wait_until_ready


def test_metrics_pass_promtool_after_an_asset_is_ready(server):
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: scripts/setup.sh --test installs it (Debian package prometheus)"
    created, _ = upload_clip(server)
    wait_until_ready(server, created["id"])

    request = urllib.request.Request(server + "/metrics", headers={"Authorization": "Bearer " + API_KEY})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    # The worker's histogram and the API's database-wide figures both describe processing time:
    # they must be two families, each with one TYPE line.
    for family in ["pulse_asset_processing_seconds histogram", "pulse_ready_assets_processing_seconds gauge",
                   "pulse_job_seconds histogram", "pulse_jobs_completed_total counter", "hb_requests_total counter"]:
        assert f"# TYPE {family}\n" in text, family
    checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    assert checked.returncode == 0 and checked.stdout + checked.stderr == "", checked.stdout + checked.stderr
