"""Playable in seconds, seen from outside: a real `serve` publishes a first rendition while the
ladder encodes. What a player fetches is valid at every moment: from `playable` on, VOD playlists
that list every planned segment of the first rendition on the ladder's boundaries (a segment asked
for before it is encoded is waited for), the same URLs after `ready`, with the same bytes. The page
in Chromium starts playing before the asset is ready and plays through to the end."""
import hashlib
import json
import re
import time
import urllib.request

from conftest import API_KEY, clip, running_serve
from selenium.webdriver.common.by import By

SOURCE = "progressive_720p_40s.mp4"


def call(method, url, bearer=API_KEY, body=None, data=None, headers=None):
    headers = dict(headers or {})
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method, headers=headers), timeout=30) as response:
        text = response.read()
        return json.loads(text) if text else None


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def submit(base, path):
    created = call("POST", f"{base}/v1/assets", body={"filename": path.name})
    with open(path, "rb") as f:
        call("PUT", created["upload"]["url"], bearer=None, data=f.read(), headers=created["upload"].get("headers") or {})
    call("POST", f"{base}/v1/assets/{created['id']}/complete")
    return created["id"]


def media_playlist(text):
    """(type, target, segments [(duration, uri)], ended)."""
    kind = re.search(r"#EXT-X-PLAYLIST-TYPE:(\w+)", text)
    target = int(re.search(r"#EXT-X-TARGETDURATION:(\d+)", text).group(1))
    segments = re.findall(r"#EXTINF:([\d.]+),\n(\S+)", text)
    return (kind.group(1) if kind else None, target, [(float(d), uri) for d, uri in segments], "#EXT-X-ENDLIST" in text)


def test_a_player_sees_valid_playlists_of_the_whole_video_and_stable_segments():
    with running_serve({"PULSE_API_KEY": API_KEY}) as service:
        asset_id = submit(service.url, clip(SOURCE))
        deadline = time.monotonic() + 120
        while True:
            asset = call("GET", f"{service.url}/v1/assets/{asset_id}")
            assert asset["status"] != "failed", asset
            assert asset["status"] != "ready", "ready before it was seen playable"
            assert time.monotonic() < deadline, f"never playable: {asset}"
            if asset["playable_at"]:
                break
            time.sleep(0.05)
        # Playable: the first rendition and the audio, both listed whole, as VOD, from the start.
        assert asset["playlist_url"] and asset["status"] == "processing"
        master_url = asset["playlist_url"]
        base = master_url.rsplit("/", 1)[0]
        early_master = fetch(master_url).decode()
        assert re.findall(r'^(\d+p)/index\.m3u8$', early_master, re.M) == ["360p"], early_master
        assert 'URI="audio/index.m3u8"' in early_master
        early = {}
        for rendition in ("360p", "audio"):
            kind, target, segments, ended = media_playlist(fetch(f"{base}/{rendition}/index.m3u8").decode())
            assert kind == "VOD" and ended and target == 10, (rendition, kind, ended, target)
            assert abs(sum(d for d, _ in segments) - 40) < 0.1, f"{rendition} does not list the whole video: {segments}"
            early[rendition] = segments
        assert [d for d, _ in early["360p"]][:7] == [1.0] * 6 + [10.0]
        # Every segment can be fetched now: those not encoded yet are waited for.
        fetched = {}
        for rendition, segments in early.items():
            for _, name in segments:
                url = f"{base}/{rendition}/{name}"
                fetched[url] = hashlib.sha256(fetch(url)).hexdigest()
        still = call("GET", f"{service.url}/v1/assets/{asset_id}")
        print(f"fetched {len(fetched)} segments; the asset is now {still['status']}")

        deadline = time.monotonic() + 300
        while asset["status"] != "ready":
            assert asset["status"] != "failed" and time.monotonic() < deadline, asset
            time.sleep(0.2)
            asset = call("GET", f"{service.url}/v1/assets/{asset_id}")

        # Ready: every rung VOD on the first rendition's boundaries; the same URLs, the same bytes.
        final = fetch(asset["playlist_url"]).decode()
        rungs = re.findall(r'^(\d+p)/index\.m3u8$', final, re.M)
        assert rungs == ["720p", "480p", "360p", "240p"], final
        for rung in rungs:
            kind, target, segments, ended = media_playlist(fetch(f"{base}/{rung}/index.m3u8").decode())
            assert kind == "VOD" and ended and target == 10
            assert [name for _, name in segments] == [name for _, name in early["360p"]], rung
            assert all(abs(a - b) < 0.05 for (a, _), (b, _) in zip(segments, early["360p"])), (rung, segments)
        audio = media_playlist(fetch(f"{base}/audio/index.m3u8").decode())[2]
        assert [name for _, name in audio][:len(early["audio"])] == [name for _, name in early["audio"]]
        changed = [url for url, digest in fetched.items() if hashlib.sha256(fetch(url)).hexdigest() != digest]
        assert not changed, f"segments served differently after ready: {changed}"


def test_the_page_plays_before_ready_and_on_to_the_end(browser):
    # ultrafast: the ladder must finish while the 40 s clip plays, even on a loaded 2-core machine.
    with running_serve({"PULSE_API_KEY": API_KEY, "PULSE_X264_PRESET": "ultrafast"}) as service:
        browser.get(service.url + "/")
        browser.execute_script("localStorage.setItem('pulse.apiKey', arguments[0])", API_KEY)
        browser.get(service.url + "/")
        # Every media event of the player, with the page's state at that moment.
        browser.execute_script("""
            window.seen = [];
            const v = document.getElementById('player');
            for (const name of ['playing', 'waiting', 'stalled', 'error', 'ended']) {
              v.addEventListener(name, () => window.seen.push({name, t: v.currentTime,
                status: document.getElementById('status-text').textContent,
                note: !document.getElementById('playable-note').hidden,
                error: v.error && v.error.message}));
            }""")
        browser.find_element(By.ID, "file").send_keys(str(clip(SOURCE)))
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            seen = browser.execute_script("return window.seen")
            if any(e["name"] in ("ended", "error") for e in seen):
                break
            time.sleep(0.25)
        seen = browser.execute_script("return window.seen")
        message = browser.find_element(By.ID, "message")
        assert not message.is_displayed() or "info" in message.get_attribute("class"), message.text
        names = [e["name"] for e in seen]
        assert "error" not in names, seen
        assert names and names[-1] == "ended", f"did not play to the end: {seen}"
        first = next(e for e in seen if e["name"] == "playing")
        assert first["status"] != "Ready" and first["note"], f"playback did not start before ready: {first}"
        # It played past the switch to the full ladder: the asset was ready before playback ended.
        assert seen[-1]["status"] == "Ready", f"the ladder was not done when playback ended: {seen}"
        # No stall: the player never waited for data once playing. ('stalled' only says the network
        # was idle for 3 s, which it is while a 10 s buffer lasts.)
        after_start = seen[seen.index(first) + 1:]
        stalls = [e for e in after_start if e["name"] == "waiting"]
        assert not stalls, f"playback stalled after it started: {seen}"
        duration = browser.execute_script("return document.getElementById('player').duration")
        assert abs(seen[-1]["t"] - 40) < 0.5 and abs(duration - 40) < 0.5, (seen[-1], duration)
