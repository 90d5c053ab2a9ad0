"""What the service benchmarks share: HTTP calls, percentiles, the `websockets` client package."""
import json
import os
import resource
import subprocess
import sys
import urllib.request


def ensure_websockets():
    """Installs `websockets` from PyPI when missing."""
    try:
        import websockets  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "websockets"], check=True)


def request(method, url, key=None, body=None, data=None, headers=None):
    """One HTTP call: `body` is sent as JSON, `data` as is; returns the parsed JSON answer, if any."""
    headers = dict(headers or {})
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method, headers=headers)) as response:
        text = response.read()
        return json.loads(text) if text else None


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def children_cpu_seconds():
    """CPU-s (user + system) of this process's children that have ended and been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_seconds(pid, children=False):
    """CPU-s (user + system) of process `pid`, from /proc; with `children`, plus those of its
    children that have ended and been waited for (a `serve` and its ffmpeg runs)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = sum(int(value) for value in fields[11:15 if children else 13])
    return ticks / os.sysconf("SC_CLK_TCK")
