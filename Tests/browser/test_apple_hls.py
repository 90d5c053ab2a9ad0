"""Apple's HLS Authoring Specification, checked from outside on what a real `serve` publishes for a
30 s 1080p phone clip: the playlists read with the `m3u8` parser, bit rates measured from the
segments a player fetches (sizes on the wire, durations from the playlists), key frames with
ffprobe, gzip on the wire, and Chromium playing the result.

Rules (the spec's numbers): 6.1/6.2 I-frame playlists; 9.21 a variant with a peak of at most
192 kbit/s; 1.26/1.27 BANDWIDTH and AVERAGE-BANDWIDTH within 10 % of the measured peak and average;
7.4 every segment starts with a key frame; 1.13 key frames at most 2 s apart; 10.1 playlists
gzip-compressed. And every variant states BANDWIDTH, AVERAGE-BANDWIDTH, CODECS, RESOLUTION and
FRAME-RATE."""
import gzip
import subprocess
import tempfile
import time
import urllib.request

import m3u8
import pytest

from conftest import API_KEY, running_serve, upload_clip, wait_for, wait_until_ready

SOURCE = "phone_1080p30_30s.mp4"
AAC_FRAME = 1024 / 48000


def get(url, headers=None):
    """(status, headers, body as received on the wire: urllib never inflates)."""
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, response.headers, response.read()


def text(url):
    """A playlist as a player gets it: asking for gzip, inflating what comes back."""
    _, headers, body = get(url, {"Accept-Encoding": "gzip"})
    return (gzip.decompress(body) if headers.get("Content-Encoding") == "gzip" else body).decode()


def segments_of(url):
    """[(duration, bytes on the wire, absolute URL)] of a media playlist."""
    playlist = m3u8.loads(text(url), uri=url)
    result = []
    for segment in playlist.segments:
        request = urllib.request.Request(segment.absolute_uri, method="HEAD")
        with urllib.request.urlopen(request, timeout=60) as response:
            result.append((segment.duration, int(response.headers["Content-Length"]), segment.absolute_uri))
    return playlist, result


def measured(video, audio):
    """A variant's (peak, average) bit rate as a player fetching it sees them: for each video
    segment, its bytes plus the audio bytes of the same time span (each audio segment counted
    in proportion to its overlap), over the segment's duration. The audio past the video's end is
    fetched with the last video segment."""
    audio_spans, start = [], 0.0
    for duration, size, _ in audio:
        audio_spans.append((start, start + duration, size))
        start += duration
    peak, start = 0.0, 0.0
    total_video = sum(d for d, _, _ in video)
    for index, (duration, size, _) in enumerate(video):
        end = start + duration if index + 1 < len(video) else float("inf")
        bits = size * 8
        for a_start, a_end, a_size in audio_spans:
            overlap = min(end, a_end) - max(start, a_start)
            if overlap > 0:
                bits += a_size * 8 * overlap / (a_end - a_start)
        peak = max(peak, bits / duration)
        start += duration
    total_bits = 8 * (sum(s for _, s, _ in video) + sum(s for _, s, _ in audio))
    length = max(total_video, sum(d for d, _, _ in audio))
    return peak, total_bits / length


def ffprobe_frames(path):
    """[(key_frame, pict_type)] of every video frame in a file."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "frame=key_frame,pict_type",
                          "-of", "csv=p=0", path], capture_output=True, text=True, check=True).stdout
    return [tuple(line.split(",")[:2]) for line in out.split()]


@pytest.fixture(scope="module")
def stream():
    """A ready asset of the 30 s 1080p clip on a live `serve`: (master URL, its text)."""
    with running_serve({"PULSE_API_KEY": API_KEY}) as service:
        created, _ = upload_clip(service.url, SOURCE)
        asset = wait_until_ready(service.url, created["id"], timeout=900)
        master_url = asset["playlist_url"]
        yield master_url, service


def test_playlists_are_gzip_compressed_for_clients_that_accept_it(stream):
    master_url, _ = stream
    master = m3u8.loads(text(master_url), uri=master_url)
    urls = [master_url] + [v.absolute_uri for v in master.playlists] + [i.absolute_uri for i in master.iframe_playlists]
    for url in urls:
        status, headers, body = get(url, {"Accept-Encoding": "gzip, deflate, br"})
        assert status == 200 and headers["Content-Encoding"] == "gzip", (url, dict(headers))
        assert "Accept-Encoding" in headers.get("Vary", ""), url
        inflated = gzip.decompress(body)
        assert inflated.startswith(b"#EXTM3U") and len(body) < len(inflated), url
        # The same playlist, as stored, to a client that does not ask for gzip.
        _, plain_headers, plain = get(url)
        assert plain_headers.get("Content-Encoding") in (None, "identity") and plain == inflated, url
    # Segments are not playlists: never re-encoded.
    segment = m3u8.loads(text(master.playlists[0].absolute_uri), uri=master.playlists[0].absolute_uri).segments[0]
    _, headers, _ = get(segment.absolute_uri, {"Accept-Encoding": "gzip"})
    assert headers.get("Content-Encoding") is None


def test_every_variant_states_its_attributes_and_its_measured_bit_rates(stream):
    master_url, _ = stream
    master = m3u8.loads(text(master_url), uri=master_url)
    audio_media = [m for m in master.media if m.type == "AUDIO"]
    assert len(audio_media) == 1
    _, audio = segments_of(audio_media[0].absolute_uri)
    # No audio segment shorter than a frame: a sliver's per-second rate is no rate a player sees.
    assert all(d >= AAC_FRAME for d, _, _ in audio), [d for d, _, _ in audio]

    video_variants = [v for v in master.playlists if v.stream_info.resolution]
    assert [v.stream_info.resolution[1] for v in video_variants] == [1080, 720, 480, 360, 240]
    report = []
    for variant in video_variants:
        info = variant.stream_info
        assert info.bandwidth and info.average_bandwidth and info.codecs and info.frame_rate, variant
        assert "mp4a.40.2" in info.codecs and info.audio == audio_media[0].group_id
        _, video = segments_of(variant.absolute_uri)
        peak, average = measured(video, audio)
        report.append((info.resolution, info.bandwidth, round(peak), info.average_bandwidth, round(average)))
        assert abs(info.bandwidth - peak) <= 0.10 * peak, f"{info.resolution}: BANDWIDTH {info.bandwidth}, measured peak {peak:.0f}"
        assert abs(info.average_bandwidth - average) <= 0.10 * average, \
            f"{info.resolution}: AVERAGE-BANDWIDTH {info.average_bandwidth}, measured {average:.0f}"
    print("declared vs measured (resolution, BANDWIDTH, peak, AVERAGE-BANDWIDTH, average):", report)


def test_a_cellular_variant_peaks_at_most_192_kbits(stream):
    master_url, _ = stream
    master = m3u8.loads(text(master_url), uri=master_url)
    small = [v for v in master.playlists if v.stream_info.bandwidth <= 192_000]
    assert small, [v.stream_info.bandwidth for v in master.playlists]
    for variant in small:
        _, segments = segments_of(variant.absolute_uri)
        peak = max(size * 8 / duration for duration, size, _ in segments)
        assert peak <= 192_000, f"{variant.uri}: measured peak {peak:.0f}"
        assert abs(variant.stream_info.bandwidth - peak) <= 0.10 * peak
        print(f"cellular variant {variant.uri}: BANDWIDTH {variant.stream_info.bandwidth}, measured peak {peak:.0f}")


def test_every_video_rung_has_an_i_frame_playlist_of_key_frames_2_s_apart(stream):
    master_url, _ = stream
    master = m3u8.loads(text(master_url), uri=master_url)
    video_variants = [v for v in master.playlists if v.stream_info.resolution]
    iframes = {i.iframe_stream_info.resolution: i for i in master.iframe_playlists}
    assert set(iframes) == {v.stream_info.resolution for v in video_variants}
    with tempfile.TemporaryDirectory() as scratch:
        for resolution, entry in iframes.items():
            info = entry.iframe_stream_info
            assert info.bandwidth and info.codecs, entry
            playlist = m3u8.loads(text(entry.absolute_uri), uri=entry.absolute_uri)
            assert playlist.is_i_frames_only and playlist.is_endlist
            assert abs(sum(s.duration for s in playlist.segments) - 30) < 0.1
            # 1.13: key frames at most 2 s apart, every one of them listed: one a second in the
            # lead-in (its 1 s segments, to 6 s), then one every 2 s.
            assert len(playlist.segments) == 6 + 12 and all(s.duration <= 2.0 + 1e-3 for s in playlist.segments), \
                [s.duration for s in playlist.segments]
            peak = 0.0
            for index, segment in enumerate(playlist.segments):
                length, offset = (int(x) for x in segment.byterange.split("@"))
                status, _, body = get(segment.absolute_uri, {"Range": f"bytes={offset}-{offset + length - 1}"})
                assert status == 206 and len(body) == length
                piece = f"{scratch}/{resolution[1]}-{index}.ts"
                with open(piece, "wb") as file:
                    file.write(body)
                # The range alone decodes to one picture, a key frame.
                assert ffprobe_frames(piece) == [("1", "I")], (entry.uri, segment.byterange)
                peak = max(peak, length * 8 / segment.duration)
            assert abs(info.bandwidth - peak) <= 0.10 * peak, (resolution, info.bandwidth, peak)


def test_every_segment_starts_with_a_key_frame(stream):
    master_url, _ = stream
    master = m3u8.loads(text(master_url), uri=master_url)
    for variant in (v for v in master.playlists if v.stream_info.resolution):
        playlist = m3u8.loads(text(variant.absolute_uri), uri=variant.absolute_uri)
        for segment in playlist.segments:
            out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-read_intervals", "%+#1",
                                  "-show_entries", "frame=key_frame,pict_type", "-of", "csv=p=0", segment.absolute_uri],
                                 capture_output=True, text=True, check=True).stdout.split()
            assert out and out[0].startswith("1,I"), (segment.absolute_uri, out)


def test_chromium_plays_a_video_variant_not_the_audio_only_one(stream, browser):
    master_url, service = stream
    browser.get(service.url + "/")
    browser.execute_script("""
        const v = document.createElement('video');
        v.id = 'apple'; v.muted = true; v.autoplay = true; v.playsInline = true; v.src = arguments[0];
        document.body.prepend(v);""", master_url)
    state = wait_for("Chromium to play", lambda: (lambda s: s if s[0] > 1 else None)(browser.execute_script(
        "const v = document.getElementById('apple'); return [v.currentTime, v.videoWidth, v.error && v.error.message]")),
        timeout=60)
    assert state[1] > 0 and state[2] is None, state
