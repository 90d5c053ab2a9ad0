#!/usr/bin/env bash
# Generates a benchmark source, 1920x1080 30 fps H.264 High with AAC stereo 48 kHz, moov at the
# front; 30 s unless SECONDS is given. Skipped when the file is already there. KIND picks the content:
#   phone   (default) a phone-like clip at about 17 Mb/s: a moving pattern with temporal noise
#   screen  a screen recording: flat UI, sharp text scrolling from 2 s on, a moving pointer (CRF 16)
#   dark    a dark, low-motion clip: slow dark gradients, a dim picture drifting 8 px/s, light
#           grain (CRF 18), where blocking and banding show first
#
#   scripts/bench/gen-bench-media.sh [OUTDIR] [SECONDS] [KIND]   default: BenchMedia/ at the repo root (git-ignored), 30, phone
#   -> phone_1080p30_17mbps.mp4 (30 s) or phone_1080p30_17mbps_SECONDSs.mp4; screen_1080p30[_SECONDSs].mp4;
#      dark_1080p30[_SECONDSs].mp4
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${1:-$ROOT/BenchMedia}
DUR=${2:-30}
KIND=${3:-phone}
case $KIND in
    phone) BASE=phone_1080p30_17mbps ;;
    screen | dark) BASE=${KIND}_1080p30 ;;
    *) echo "[gen-bench-media] unknown KIND '$KIND' (phone, screen, dark)" >&2; exit 64 ;;
esac
NAME=$BASE.mp4
[ "$DUR" = 30 ] || NAME=${BASE}_${DUR}s.mp4
mkdir -p "$OUT"
command -v ffmpeg >/dev/null 2>&1 || { echo "ffmpeg not found: run scripts/setup.sh" >&2; exit 1; }

if [ -s "$OUT/$NAME" ]; then
    echo "[gen-bench-media] $OUT/$NAME already there"
    exit 0
fi

tmp=$OUT/.$NAME.tmp.mp4
trap 'rm -f "$tmp"' EXIT
t0=$(date +%s)
FF=(ffmpeg -nostdin -hide_banner -loglevel error -y)
AUDIO=(-f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$DUR")
OUTPUT=(-c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p -g 30
    -c:a aac -b:a 128k -ac 2 -ar 48000 -t "$DUR" -movflags +faststart "$tmp")
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans
case $KIND in
    phone)
        # Temporal noise on a moving pattern keeps the encoder at its rate (a clean pattern would come
        # out far below 17 Mb/s). veryfast, CABAC, B-frames, a 1 s GOP: close to what phones write.
        "${FF[@]}" -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=$DUR,noise=alls=20:allf=t" "${AUDIO[@]}" \
            -b:v 17M -maxrate 17M -bufsize 34M "${OUTPUT[@]}"
        ;;
    screen)
        [ -f "$FONT.ttf" ] || { echo "[gen-bench-media] $FONT.ttf not found: apt-get install fonts-dejavu-core" >&2; exit 1; }
        # Lines of words picked by arithmetic, so every run draws the same text.
        words=(the pulse video chat message upload segment ladder rung encode stream player phone screen
            record scroll bubble thumbnail storyboard quality bit rate frame key cue a)
        text=$OUT/.$NAME.lines.txt side=$OUT/.$NAME.side.txt
        trap 'rm -f "$tmp" "$text" "$side"' EXIT
        : >"$text"
        : >"$side"
        for i in $(seq 0 119); do
            line=
            for j in $(seq 0 $((4 + (i * 7) % 11))); do line+="${words[$(((i * 5 + j * 3) % ${#words[@]}))]} "; done
            echo "$line" >>"$text"
            echo "${words[$((i % ${#words[@]}))]} ${words[$(((i * 3 + 1) % ${#words[@]}))]}" >>"$side"
        done
        ui="color=c=0xf4f4f4:s=1920x1080:r=30:d=$DUR"
        ui+=",drawtext=fontfile=$FONT.ttf:textfile=$text:fontsize=26:line_spacing=14:fontcolor=0x202020:x=360:y='110-max(0\,t-2)*90'"
        ui+=",drawbox=x=0:y=0:w=320:h=1080:color=0x2b2f36:t=fill,drawbox=x=320:y=0:w=1600:h=72:color=0xdfe3e8:t=fill"
        ui+=",drawtext=fontfile=$FONT-Bold.ttf:text='Pulse Chat':fontsize=30:fontcolor=0x202020:x=360:y=22"
        ui+=",drawtext=fontfile=$FONT.ttf:textfile=$side:fontsize=20:line_spacing=22:fontcolor=0xc8ccd2:x=24:y=24"
        ui+=",drawbox=x='900+300*sin(t*0.9)':y='500+200*cos(t*0.7)':w=14:h=22:color=black:t=fill"
        "${FF[@]}" -f lavfi -i "$ui" "${AUDIO[@]}" -crf 16 "${OUTPUT[@]}"
        ;;
    dark)
        scene="[1:v]lutyuv=y=16+val*0.22:u=128+(val-128)*0.3:v=128+(val-128)*0.3,gblur=sigma=1.5[f];"
        scene+="[0:v][f]overlay=x='720+t*8':y=400,noise=alls=3:allf=t,format=yuv420p[v]"
        "${FF[@]}" -f lavfi -i "gradients=s=1920x1080:r=30:d=$DUR:n=3:c0=0x0c0d14:c1=0x2a2116:c2=0x101a22:speed=0.004:seed=3" \
            -f lavfi -i "testsrc2=s=480x320:r=30:d=$DUR" "${AUDIO[@]}" \
            -filter_complex "$scene" -map "[v]" -map 2:a -crf 18 "${OUTPUT[@]}"
        ;;
esac

info=$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,profile,width,height,pix_fmt,avg_frame_rate \
    -of default=noprint_wrappers=1 "$tmp")
for want in codec_name=h264 profile=High width=1920 height=1080 pix_fmt=yuv420p avg_frame_rate=30/1; do
    grep -qxF "$want" <<<"$info" || { echo "[gen-bench-media] ERROR: expected $want, got:" >&2; echo "$info" >&2; exit 1; }
done
mv -f "$tmp" "$OUT/$NAME"
vbr=$(ffprobe -v error -select_streams v:0 -show_entries stream=bit_rate -of csv=p=0 "$OUT/$NAME")
dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$OUT/$NAME")
echo "[gen-bench-media] $OUT/$NAME: $(stat -c %s "$OUT/$NAME") bytes, ${dur} s, video $((vbr / 1000)) kb/s ($(($(date +%s) - t0)) s)"
