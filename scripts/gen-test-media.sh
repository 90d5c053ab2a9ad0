#!/usr/bin/env bash
# Generates the test media with ffmpeg's lavfi sources: short, small clips, one per case the tests
# need (see the table printed at the end, also written to OUTDIR/MANIFEST.md).
#
#   scripts/gen-test-media.sh [OUTDIR]      default: TestMedia/ at the repo root (git-ignored)
#
# Each file is generated into OUTDIR/.tmp, verified with ffprobe (and a full decode for the valid
# ones), then moved into place with a stamp of this script's hash and the ffmpeg version; a re-run
# skips every file whose stamp matches, so it is instant. Editing this script regenerates all.
# Any case that cannot be generated or verified stops the script with a non-zero exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/TestMedia}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
STAMPS=$OUT/.stamps
TMPD=$OUT/.tmp

die() {
    printf '[gen-test-media] ERROR: %s\n' "$*" >&2
    exit 1
}
command -v ffmpeg >/dev/null 2>&1 || die "ffmpeg not found: run scripts/setup.sh first"
command -v ffprobe >/dev/null 2>&1 || die "ffprobe not found: run scripts/setup.sh first"
command -v python3 >/dev/null 2>&1 || die "python3 not found"

# One generator at a time per folder (parallel test runs share it).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$OUT/.lock"
    flock 9
fi

HASH=$({
    cat "${BASH_SOURCE[0]}"
    ffmpeg -hide_banner -version | head -n 1
} | sha256sum | cut -c1-16)
mkdir -p "$STAMPS"
rm -rf "$TMPD"
mkdir -p "$TMPD"
trap 'rm -rf "$TMPD"' EXIT
LOG=$TMPD/ffmpeg.log

# ------------------------------------------------------------------------------------ building blocks
FF=(ffmpeg -nostdin -hide_banner -loglevel error -y)
# H.264 High (CABAC, 8x8 transform, B-frames) at ultrafast speed: plain `ultrafast` alone would write
# Constrained Baseline, which is not what phones and cameras produce.
H264=(-c:v libx264 -preset ultrafast -x264-params cabac=1:8x8dct=1:bframes=2:log-level=error
    -profile:v high -pix_fmt yuv420p -crf 28)
HEVC10=(-c:v libx265 -preset ultrafast -pix_fmt yuv420p10le -tag:v hvc1)
AAC=(-c:a aac -b:a 128k -ac 2 -ar 48000)

# lavfi sources: moving test pattern (optionally with temporal noise), a 440 Hz sine.
video() { # SIZE RATE DURATION [NOISE]
    local s="testsrc2=size=$1:rate=$2:duration=$3"
    if [ -n "${4:-}" ]; then s+=",noise=alls=$4:allf=t"; fi
    printf '%s' "$s"
}
sine() { printf 'sine=frequency=440:sample_rate=48000:duration=%s' "$1"; }

# A plain clip: SIZE RATE DURATION OUTFILE [extra output args...]
plain_clip() {
    local size=$1 rate=$2 dur=$3 out=$4
    shift 4
    "${FF[@]}" -f lavfi -i "$(video "$size" "$rate" "$dur")" -f lavfi -i "$(sine "$dur")" \
        "${H264[@]}" -g "$rate" "${AAC[@]}" -t "$dur" "$@" "$out"
}

# Top-level MP4 boxes in order, e.g. "ftyp free mdat moov" (with byte offsets when asked).
mp4_boxes() { # FILE [offsets]
    python3 - "$1" "${2:-}" <<'PY'
import os, struct, sys
path, with_off = sys.argv[1], sys.argv[2] == "offsets"
size = os.path.getsize(path); out = []; off = 0
with open(path, "rb") as f:
    while off + 8 <= size:
        f.seek(off); head = f.read(16)
        n, kind = struct.unpack(">I4s", head[:8])
        if n == 1: n = struct.unpack(">Q", head[8:16])[0]
        elif n == 0: n = size - off
        if n < 8: break
        out.append(f"{kind.decode('latin1')}:{off}:{n}" if with_off else kind.decode("latin1"))
        off += n
print(" ".join(out))
PY
}

# ------------------------------------------------------------------------------------ verification
fail_check() { die "$CUR: $*"; }

# check_stream FILE SELECTOR key=value...: every key of the first stream matching SELECTOR (v:0, a:0)
check_stream() {
    local file=$1 sel=$2
    shift 2
    local keys=() kv
    for kv in "$@"; do keys+=("${kv%%=*}"); done
    local got
    got=$(ffprobe -v error -select_streams "$sel" -show_entries "stream=$(
        IFS=,
        echo "${keys[*]}"
    )" -of default=noprint_wrappers=1 "$file") || fail_check "ffprobe failed"
    [ -n "$got" ] || fail_check "no stream $sel"
    for kv in "$@"; do
        grep -qxF "$kv" <<<"$got" || fail_check "stream $sel: expected $kv, got: $(grep "^${kv%%=*}=" <<<"$got" | head -n 1)"
    done
}
check_no_stream() { # FILE v|a
    local n
    n=$(ffprobe -v error -select_streams "$2" -show_entries stream=index -of csv=p=0 "$1" | wc -l)
    [ "$n" -eq 0 ] || fail_check "expected no '$2' stream, found $n"
}
duration_of() { ffprobe -v error -show_entries format=duration -of csv=p=0 "$1"; }
check_duration() { # FILE MIN MAX
    local d
    d=$(duration_of "$1")
    python3 -c "import sys; d=float('$d'); sys.exit(0 if $2 <= d <= $3 else 1)" ||
        fail_check "duration $d not within [$2, $3]"
}
# Decodes every stream; any error line fails the case.
check_decodes() {
    local errs
    errs=$(ffmpeg -nostdin -hide_banner -loglevel error -xerror -i "$1" -map 0 -f null - 2>&1) ||
        fail_check "does not decode: ${errs:0:400}"
    [ -z "$errs" ] || fail_check "does not decode cleanly: ${errs:0:400}"
}
check_valid() { # FILE MIN MAX: opens, duration in range, decodes
    check_duration "$1" "$2" "$3"
    check_decodes "$1"
}
check_probe_fails() { # FILE PATTERN: ffprobe must fail with an error matching PATTERN
    local msg
    if msg=$(ffprobe -v error -show_entries format=format_name "$1" 2>&1); then
        fail_check "ffprobe opened it, expected a failure ($msg)"
    fi
    grep -qiE "$2" <<<"$msg" || fail_check "ffprobe failed but not with /$2/: $msg"
}

# ------------------------------------------------------------------------------------ the cases
# Each gen_* writes "$1" (a temp path with the final name's extension) and verifies it.

gen_landscape_1080p30_audio() {
    "${FF[@]}" -f lavfi -i "$(video 1920x1080 30 3 3)" -f lavfi -i "$(sine 3)" \
        "${H264[@]}" -g 30 "${AAC[@]}" -t 3 -movflags +faststart "$1"
    check_stream "$1" v:0 codec_name=h264 profile=High width=1920 height=1080 pix_fmt=yuv420p \
        avg_frame_rate=30/1
    check_stream "$1" a:0 codec_name=aac channels=2 sample_rate=48000
    check_valid "$1" 2.95 3.1
}

gen_portrait_rotated() {
    local src=$TMPD/portrait_src.mp4
    plain_clip 640x360 30 2 "$src"
    # ffmpeg 5.1 has no -display_rotation (6.0+); the mp4 muxer's `rotate` tag writes the display
    # matrix. rotate=270 gives the matrix an iPhone held upright records ([0 1; -1 0], ffprobe:
    # rotation -90, i.e. show the stored 640x360 turned 90 degrees clockwise, as 360x640).
    if ffmpeg -hide_banner -h full 2>/dev/null | grep -q -- '-display_rotation'; then
        "${FF[@]}" -display_rotation 90 -i "$src" -c copy -movflags +faststart "$1"
    else
        "${FF[@]}" -i "$src" -c copy -metadata:s:v:0 rotate=270 -movflags +faststart "$1"
    fi
    check_stream "$1" v:0 codec_name=h264 width=640 height=360
    check_stream "$1" a:0 codec_name=aac channels=2
    local rot
    rot=$(ffprobe -v error -select_streams v:0 -show_entries stream_side_data=rotation \
        -of default=noprint_wrappers=1:nokey=1 "$1" | head -n 1)
    [ "$rot" = "-90" ] || fail_check "expected display matrix rotation -90, got '${rot}'"
    check_valid "$1" 1.95 2.1
}

gen_sd_480p() {
    plain_clip 854x480 30 2 "$1" -movflags +faststart
    check_stream "$1" v:0 codec_name=h264 width=854 height=480 pix_fmt=yuv420p
    check_stream "$1" a:0 codec_name=aac channels=2
    check_valid "$1" 1.95 2.1
}

gen_tiny_160x120() {
    plain_clip 160x120 30 2 "$1" -movflags +faststart
    check_stream "$1" v:0 codec_name=h264 width=160 height=120
    check_stream "$1" a:0 codec_name=aac
    check_valid "$1" 1.95 2.1
}

gen_no_audio_360p() {
    "${FF[@]}" -f lavfi -i "$(video 640x360 30 2)" "${H264[@]}" -g 30 -an -t 2 -movflags +faststart "$1"
    check_stream "$1" v:0 codec_name=h264 width=640 height=360
    check_no_stream "$1" a
    check_valid "$1" 1.95 2.1
}

gen_odd_size_563p() {
    # 4:2:0 H.264/HEVC cannot code an odd width (x264: "width not divisible by 2"; SPS cropping is in
    # 2-pixel units), so the odd size is carried as H.264 High 4:4:4 (yuv444p), which can.
    "${FF[@]}" -f lavfi -i "$(video 1002x564 30 2),scale=1001:563" -f lavfi -i "$(sine 2)" \
        -c:v libx264 -preset ultrafast -x264-params log-level=error -pix_fmt yuv444p -crf 28 -g 30 \
        "${AAC[@]}" -t 2 -movflags +faststart "$1"
    check_stream "$1" v:0 codec_name=h264 width=1001 height=563 pix_fmt=yuv444p
    check_stream "$1" a:0 codec_name=aac
    check_valid "$1" 1.95 2.1
}

gen_hevc_10bit() {
    "${FF[@]}" -f lavfi -i "$(video 640x360 30 2)" -f lavfi -i "$(sine 2)" \
        "${HEVC10[@]}" -x265-params log-level=error -g 30 "${AAC[@]}" -t 2 -movflags +faststart "$1"
    check_stream "$1" v:0 codec_name=hevc profile="Main 10" codec_tag_string=hvc1 width=640 height=360 \
        pix_fmt=yuv420p10le
    check_stream "$1" a:0 codec_name=aac
    check_valid "$1" 1.95 2.1
}

gen_vp9() {
    "${FF[@]}" -f lavfi -i "$(video 640x360 30 2)" -f lavfi -i "$(sine 2)" \
        -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 600k -pix_fmt yuv420p -g 30 \
        -c:a libopus -b:a 96k -ac 2 -ar 48000 -t 2 "$1"
    check_stream "$1" v:0 codec_name=vp9 width=640 height=360 pix_fmt=yuv420p
    check_stream "$1" a:0 codec_name=opus channels=2 sample_rate=48000
    check_valid "$1" 1.95 2.1
}

gen_vfr() {
    # 30 fps for the first 1.5 s, then every other frame dropped (15 fps); -fps_mode vfr keeps the
    # real timestamps instead of duplicating frames back to a constant rate.
    "${FF[@]}" -f lavfi -i "$(video 640x360 30 3),select='lt(t\,1.5)+not(mod(n\,2))'" \
        -f lavfi -i "$(sine 3)" -fps_mode vfr "${H264[@]}" -g 30 "${AAC[@]}" -t 3 \
        -movflags +faststart "$1"
    check_stream "$1" v:0 codec_name=h264 width=640 height=360
    check_stream "$1" a:0 codec_name=aac
    # Frame durations = differences of the sorted presentation timestamps (packet durations are
    # not reliable with B-frames).
    local durs
    durs=$(ffprobe -v error -select_streams v:0 -show_entries packet=pts_time -of csv=p=0 "$1" |
        sort -n | awk 'NR > 1 { printf "%.3f\n", $1 - prev } { prev = $1 }' | sort -u | tr '\n' ' ')
    if ! grep -q '0.033' <<<"$durs" || ! grep -q '0.067' <<<"$durs"; then
        fail_check "expected frame durations of 1/30 and 1/15 s, got: $durs"
    fi
    check_valid "$1" 2.9 3.1
}

gen_fps60_720p() {
    plain_clip 1280x720 60 2 "$1" -movflags +faststart
    check_stream "$1" v:0 codec_name=h264 width=1280 height=720 avg_frame_rate=60/1
    check_stream "$1" a:0 codec_name=aac
    check_valid "$1" 1.95 2.1
}

gen_short_0_5s() {
    plain_clip 320x240 30 0.5 "$1" -movflags +faststart
    check_stream "$1" v:0 codec_name=h264 width=320 height=240
    check_stream "$1" a:0 codec_name=aac
    check_valid "$1" 0.45 0.6
}

gen_surround_5_1() {
    local six="aevalsrc="
    six+="0.2*sin(2*PI*440*t)|0.2*sin(2*PI*550*t)|0.2*sin(2*PI*660*t)|"
    six+="0.2*sin(2*PI*110*t)|0.2*sin(2*PI*770*t)|0.2*sin(2*PI*880*t)"
    six+=":channel_layout=5.1:sample_rate=48000:duration=2"
    "${FF[@]}" -f lavfi -i "$(video 640x360 30 2)" -f lavfi -i "$six" \
        "${H264[@]}" -g 30 -c:a aac -b:a 256k -t 2 -movflags +faststart "$1"
    check_stream "$1" v:0 codec_name=h264 width=640 height=360
    check_stream "$1" a:0 codec_name=aac channels=6 channel_layout=5.1 sample_rate=48000
    check_valid "$1" 1.95 2.1
}

gen_hdr_pq() {
    # HDR10: BT.2020 primaries, PQ transfer, plus mastering display / content light SEI.
    "${FF[@]}" -f lavfi -i "$(video 640x360 30 2)" -f lavfi -i "$(sine 2)" \
        "${HEVC10[@]}" -color_primaries bt2020 -color_trc smpte2084 -colorspace bt2020nc -color_range tv \
        -x265-params "log-level=error:hdr10=1:repeat-headers=1:max-cll=1000,400:master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,50)" \
        -g 30 "${AAC[@]}" -t 2 -movflags +faststart "$1"
    check_stream "$1" v:0 codec_name=hevc codec_tag_string=hvc1 pix_fmt=yuv420p10le \
        color_primaries=bt2020 color_transfer=smpte2084 color_space=bt2020nc width=640 height=360
    check_stream "$1" a:0 codec_name=aac
    check_valid "$1" 1.95 2.1
}

gen_long_7s_320p() {
    plain_clip 320x180 30 7 "$1" -movflags +faststart
    check_stream "$1" v:0 codec_name=h264 width=320 height=180 avg_frame_rate=30/1
    check_stream "$1" a:0 codec_name=aac
    check_valid "$1" 6.95 7.1
}

gen_audio_only() {
    "${FF[@]}" -f lavfi -i "$(sine 2)" "${AAC[@]}" -t 2 -movflags +faststart "$1"
    check_no_stream "$1" v
    check_stream "$1" a:0 codec_name=aac channels=2
    check_valid "$1" 1.95 2.1
}

gen_not_video() {
    printf 'This is a plain text file named .mp4.\nIt is not a video; probing it must fail.\n' >"$1"
    check_probe_fails "$1" 'invalid data|could not find codec|unknown|moov'
}

gen_truncated() {
    # Written without faststart, so the moov (the index) is the last box; keeping the first 40 %
    # leaves a file with mdat data and no moov at all.
    local src=$TMPD/truncated_src.mp4
    plain_clip 640x360 30 3 "$src"
    local boxes
    boxes=$(mp4_boxes "$src")
    [ "${boxes##* }" = moov ] || fail_check "source's moov is not the last box ($boxes)"
    local size
    size=$(stat -c %s "$src")
    head -c $((size * 40 / 100)) "$src" >"$1"
    check_probe_fails "$1" 'moov atom not found|invalid data'
}

gen_corrupt_middle() {
    # A valid faststart file (moov before mdat) with 10 % of its bytes, in the middle of the media
    # data, replaced by deterministic garbage: it probes fine but does not decode cleanly.
    local src=$TMPD/corrupt_src.mp4
    plain_clip 640x360 30 3 "$src" -movflags +faststart
    local boxes
    boxes=$(mp4_boxes "$src")
    grep -q 'moov mdat' <<<"${boxes//free /}" || fail_check "not faststart ($boxes)"
    cp "$src" "$1"
    python3 - "$1" <<'PY'
import os, random, sys
path = sys.argv[1]; n = os.path.getsize(path)
run = max(4096, n // 10); start = n // 2 - run // 2
rng = random.Random(20240601)
with open(path, "r+b") as f:
    f.seek(start); f.write(bytes(rng.getrandbits(8) for _ in range(run)))
PY
    local mdat_off
    mdat_off=$(mp4_boxes "$1" offsets | tr ' ' '\n' | grep '^mdat:' | cut -d: -f2)
    [ "$(($(stat -c %s "$1") / 2 - $(stat -c %s "$1") / 20))" -gt "$mdat_off" ] ||
        fail_check "garbage would overlap the boxes before mdat"
    check_stream "$1" v:0 codec_name=h264 width=640 height=360
    check_duration "$1" 2.95 3.1
    local errs
    errs=$(ffmpeg -nostdin -hide_banner -loglevel error -i "$1" -map 0 -f null - 2>&1 || true)
    [ -n "$errs" ] || fail_check "decodes without a single error: the garbage missed"
}

gen_playlist_as() {
    cat >"$1" <<'M3U'
#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:0
#EXTINF:1.0,
file:///etc/hostname
#EXT-X-ENDLIST
M3U
    # The hazard this case is for: ffmpeg's probe picks the HLS demuxer despite the .mp4 name.
    local log
    log=$(ffprobe -v debug "$1" 2>&1 || true)
    grep -q 'Format hls probed' <<<"$log" ||
        fail_check "ffprobe did not probe it as HLS; the case would test nothing"
}

# name | generator | what it is (for the manifest)
CASES=(
    "landscape_1080p30_audio.mp4|gen_landscape_1080p30_audio|1920x1080 30 fps H.264 High yuv420p, testsrc2+noise, AAC stereo 48 kHz sine, faststart"
    "portrait_rotated.mp4|gen_portrait_rotated|stored 640x360 H.264 with an iPhone-like display matrix (ffprobe rotation -90: shown 360x640 portrait), AAC"
    "sd_480p.mp4|gen_sd_480p|854x480 30 fps H.264 High, AAC stereo"
    "tiny_160x120.mp4|gen_tiny_160x120|160x120 30 fps H.264 High, AAC stereo (short side under 240)"
    "no_audio_360p.mp4|gen_no_audio_360p|640x360 30 fps H.264 High, no audio stream"
    "odd_size_563p.mp4|gen_odd_size_563p|1001x563 (odd width and height) H.264 High 4:4:4 yuv444p, AAC stereo"
    "hevc_10bit.mp4|gen_hevc_10bit|640x360 HEVC Main 10 yuv420p10le, tag hvc1, AAC stereo"
    "vp9.webm|gen_vp9|640x360 VP9 yuv420p + Opus stereo 48 kHz, WebM"
    "vfr.mp4|gen_vfr|640x360 H.264 variable frame rate: 30 fps for 1.5 s then 15 fps, AAC stereo"
    "fps60_720p.mp4|gen_fps60_720p|1280x720 60 fps H.264 High, AAC stereo"
    "short_0_5s.mp4|gen_short_0_5s|320x240 30 fps H.264 High, AAC stereo, 0.5 s"
    "surround_5_1.mp4|gen_surround_5_1|640x360 H.264 High, AAC 5.1 (6 channels, one tone each) 48 kHz"
    "hdr_pq.mp4|gen_hdr_pq|640x360 HEVC Main 10 BT.2020 / PQ (smpte2084) / bt2020nc with HDR10 SEI, tag hvc1, AAC"
    "long_7s_320p.mp4|gen_long_7s_320p|320x180 30 fps H.264 High (1 s GOP), AAC stereo, 7 s"
    "audio_only.m4a|gen_audio_only|AAC-LC stereo 48 kHz, no video stream"
    "not_video.mp4|gen_not_video|INVALID: a plain text file"
    "truncated.mp4|gen_truncated|INVALID: first 40 % of a 3 s 640x360 mp4 whose moov was at the end (no index)"
    "corrupt_middle.mp4|gen_corrupt_middle|BROKEN: 3 s 640x360 faststart mp4, 10 % of the bytes mid-mdat overwritten (probes, decode errors)"
    "playlist_as.mp4|gen_playlist_as|HOSTILE: an HLS playlist naming file:///etc/hostname, saved as .mp4"
)

# ------------------------------------------------------------------------------------ driver
made=0
skipped=0
started=$(date +%s.%N)
for entry in "${CASES[@]}"; do
    IFS='|' read -r name fn desc <<<"$entry"
    CUR=$name
    final=$OUT/$name
    stamp=$STAMPS/$name
    if [ -f "$final" ] && [ -f "$stamp" ] && [ "$(head -n 1 "$stamp")" = "$HASH" ]; then
        skipped=$((skipped + 1))
        continue
    fi
    rm -f "$final" "$stamp"
    tmp=$TMPD/$name
    t0=$(date +%s.%N)
    # The generator runs in a subshell with -e, outside any condition (bash ignores -e inside a
    # condition), its output in the log; any failing step fails the case.
    set +e
    (
        set -e
        "$fn" "$tmp"
    ) >"$LOG" 2>&1
    rc=$?
    set -e
    if [ "$rc" -ne 0 ]; then
        echo "[gen-test-media] ERROR: could not generate $name (exit $rc)" >&2
        tail -n 20 "$LOG" >&2
        exit 1
    fi
    [ -s "$tmp" ] || die "$name: generator wrote nothing"
    mv -f "$tmp" "$final"
    size=$(stat -c %s "$final")
    dur=$(duration_of "$final" 2>/dev/null || true)
    [ -n "$dur" ] && dur=$(printf '%.2f s' "$dur") || dur="-"
    printf '%s\n| %s | %s | %s | %s |\n' "$HASH" "$name" "$size" "$dur" "$desc" >"$stamp"
    made=$((made + 1))
    printf '[gen-test-media] %-30s %9s bytes  %-7s  (%.1f s)\n' "$name" "$size" "$dur" \
        "$(python3 -c "import time; print(time.time() - $t0)")"
done

# Manifest from the stamps (no probing on a re-run).
{
    echo "# Test media"
    echo
    echo "Generated by \`scripts/gen-test-media.sh\` (stamp $HASH). Not committed."
    echo
    echo "| file | bytes | duration | what it is |"
    echo "|---|---|---|---|"
    for entry in "${CASES[@]}"; do
        IFS='|' read -r name _ _ <<<"$entry"
        sed -n 2p "$STAMPS/$name"
    done
} >"$OUT/MANIFEST.md.tmp"
mv -f "$OUT/MANIFEST.md.tmp" "$OUT/MANIFEST.md"

elapsed=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
if [ "$made" -gt 0 ]; then
    cat "$OUT/MANIFEST.md"
fi
echo "[gen-test-media] $OUT: $made generated, $skipped up to date (${elapsed} s)"
