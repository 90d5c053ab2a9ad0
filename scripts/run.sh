#!/usr/bin/env bash
# Runs Pulse Video: installs ffmpeg when missing, builds (debug: the release build of the
# dependencies costs about 25 minutes more), then starts the service. The README's run command.
#
#   scripts/run.sh [serve options...]     e.g. scripts/run.sh --data ./data
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH=/opt/swift/usr/bin:$PATH
fi

bash scripts/setup.sh
command -v swift >/dev/null 2>&1 || { echo "[run] swift not found on PATH" >&2; exit 1; }
swift build --product pulse-video
exec .build/debug/pulse-video serve "$@"
