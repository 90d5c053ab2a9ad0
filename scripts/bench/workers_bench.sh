#!/usr/bin/env bash
# Workers benchmark: one long 1080p video on ONE worker process pinned to one core, against TWO
# such workers (each pinned to its own core) sharing the video's chunk jobs. Goal: <= 0.6x the time.
#
#   scripts/bench/workers_bench.sh [DURATION_SECONDS=300]
#
# Embedded default (SQLite + local storage), 60 s chunks, x264 veryfast. The source is a generated
# 1080p30 clip with audio (BenchMedia/long_1080p_<D>s.mp4, made once).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DURATION=${1:-300}
BIN=$ROOT/.build/debug/pulse-video
SRC=$ROOT/BenchMedia/long_1080p_${DURATION}s.mp4
mkdir -p "$ROOT/BenchMedia"
if [ ! -s "$SRC" ]; then
    ffmpeg -nostdin -hide_banner -loglevel error -y \
        -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=$DURATION" \
        -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$DURATION" \
        -c:v libx264 -preset ultrafast -profile:v high -x264-params cabac=1:8x8dct=1:bframes=2 -pix_fmt yuv420p \
        -b:v 8M -maxrate 8M -bufsize 16M -c:a aac -b:a 128k -movflags +faststart "$SRC.tmp.mp4"
    mv "$SRC.tmp.mp4" "$SRC"
fi
command -v taskset >/dev/null || { echo "taskset (util-linux) is needed" >&2; exit 1; }

run() {  # $1 = number of workers
    local data
    data=$(mktemp -d /tmp/pulse-workers-bench.XXXXXX)
    mkdir -p "$data/storage/uploads"
    cp "$SRC" "$data/storage/uploads/source.mp4"
    export PULSE_LOG_LEVEL=warning
    local id
    id=$("$BIN" submit uploads/source.mp4 --data "$data")
    local start end pids=()
    start=$(date +%s.%N)
    for ((i = 0; i < $1; i++)); do
        taskset -c "$i" "$BIN" worker --drain --data "$data" &
        pids+=($!)
        sleep 0.2   # the first claims the prepare job; the others then find chunk jobs
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
    end=$(date +%s.%N)
    local status
    status=$("$BIN" status "$id" --data "$data" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
    rm -rf "$data"
    [ "$status" = ready ] || { echo "asset ended $status" >&2; exit 1; }
    python3 -c "print(f'{$end - $start:.1f}')"
}

echo "source: $SRC ($DURATION s, 1920x1080 30 fps), chunks of 60 s, $(nproc) cores"
one=$(run 1)
echo "1 worker on 1 core:        $one s"
two=$(run 2)
echo "2 workers on 2 cores:      $two s"
python3 -c "print(f'ratio two/one: {$two / $one:.2f} (goal <= 0.60)')"
