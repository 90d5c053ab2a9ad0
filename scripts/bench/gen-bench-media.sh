#!/usr/bin/env bash
# Generates a benchmark source: a phone-like 1080p30 H.264 High clip at about 17 Mb/s with AAC
# stereo 48 kHz, moov at the front; 30 s unless SECONDS is given. Skipped when the file is already there.
#
#   scripts/bench/gen-bench-media.sh [OUTDIR] [SECONDS]   default: BenchMedia/ at the repo root (git-ignored), 30
#   -> phone_1080p30_17mbps.mp4 (30 s) or phone_1080p30_17mbps_SECONDSs.mp4
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${1:-$ROOT/BenchMedia}
DUR=${2:-30}
NAME=phone_1080p30_17mbps.mp4
[ "$DUR" = 30 ] || NAME=phone_1080p30_17mbps_${DUR}s.mp4
mkdir -p "$OUT"
command -v ffmpeg >/dev/null 2>&1 || { echo "ffmpeg not found: run scripts/setup.sh" >&2; exit 1; }

if [ -s "$OUT/$NAME" ]; then
    echo "[gen-bench-media] $OUT/$NAME already there"
    exit 0
fi

tmp=$OUT/.$NAME.tmp.mp4
trap 'rm -f "$tmp"' EXIT
t0=$(date +%s)
# Temporal noise on a moving pattern keeps the encoder at its rate (a clean pattern would come out
# far below 17 Mb/s). veryfast, CABAC, B-frames, a 1 s GOP: close to what phones write.
ffmpeg -nostdin -hide_banner -loglevel error -y \
    -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=$DUR,noise=alls=20:allf=t" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$DUR" \
    -c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p -g 30 \
    -b:v 17M -maxrate 17M -bufsize 34M \
    -c:a aac -b:a 128k -ac 2 -ar 48000 -t "$DUR" -movflags +faststart "$tmp"

info=$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,profile,width,height,pix_fmt,avg_frame_rate \
    -of default=noprint_wrappers=1 "$tmp")
for want in codec_name=h264 profile=High width=1920 height=1080 pix_fmt=yuv420p avg_frame_rate=30/1; do
    grep -qxF "$want" <<<"$info" || { echo "[gen-bench-media] ERROR: expected $want, got:" >&2; echo "$info" >&2; exit 1; }
done
mv -f "$tmp" "$OUT/$NAME"
vbr=$(ffprobe -v error -select_streams v:0 -show_entries stream=bit_rate -of csv=p=0 "$OUT/$NAME")
dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$OUT/$NAME")
echo "[gen-bench-media] $OUT/$NAME: $(stat -c %s "$OUT/$NAME") bytes, ${dur} s, video $((vbr / 1000)) kb/s ($(($(date +%s) - t0)) s)"
