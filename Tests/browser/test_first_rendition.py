"""Playable in seconds, seen from outside: a real `serve` publishes a first rendition while the
ladder encodes. What a player fetches stays valid at every moment (EVENT playlists that only grow,
on the planned boundaries, then VOD; every URL fetched early serves the same bytes for ever), and
the page in Chromium starts playing before the asset is ready and plays through to the end."""
import hashlib
import json
import re
import time
import urllib.request

import pytest
from conftest import API_KEY, clip, running_serve
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
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


def test_a_player_sees_only_valid_growing_playlists_and_stable_segments():
    with running_serve({"PULSE_API_KEY": API_KEY}) as service:
        asset_id = submit(service.url, clip(SOURCE))
        fetched = {}        # URL -> sha256 of what a player got while the asset was processing
        versions = {}       # rendition -> the segment lists seen, in order
        early_master = None
        deadline = time.monotonic() + 300
        while True:
            asset = call("GET", f"{service.url}/v1/assets/{asset_id}")
            assert asset["status"] != "failed", asset
            if asset["status"] == "ready" or time.monotonic() > deadline:
                break
            if asset["playable_at"]:
                assert asset["playlist_url"], "playable without a playlist_url"
                master_url = asset["playlist_url"]
                base = master_url.rsplit("/", 1)[0]
                master = fetch(master_url).decode()
                early_master = early_master or master
                for uri in re.findall(r'^(\S+\.m3u8)$', master, re.M) + re.findall(r'URI="([^"]+)"', master):
                    text = fetch(f"{base}/{uri}").decode()
                    kind, target, segments, ended = media_playlist(text)
                    rendition = uri.split("/")[0]
                    assert target == 10, f"{rendition}: the target duration must be the final one from the start"
                    assert all(d <= target + 0.5 for d, _ in segments), f"{rendition}: a segment exceeds the target"
                    assert len(segments) >= 3 or ended, f"{rendition}: an open playlist with {len(segments)} segments"
                    assert kind == ("VOD" if ended else "EVENT"), f"{rendition}: {kind} with ENDLIST={ended}"
                    previous = versions.setdefault(rendition, [])
                    if previous:
                        assert segments[:len(previous[-1])] == previous[-1], f"{rendition}: a playlist changed instead of growing"
                    previous.append(segments)
                    for _, name in segments:
                        url = f"{base}/{rendition}/{name}"
                        if url not in fetched:
                            fetched[url] = hashlib.sha256(fetch(url)).hexdigest()
            time.sleep(0.2)
        assert asset["status"] == "ready", f"not ready in time: {asset}"
        assert early_master is not None, "never saw the asset playable before ready"
        early_renditions = re.findall(r'^(\S+)/index\.m3u8$', early_master, re.M)
        assert early_renditions == ["360p"], f"the early master should list the first rendition only: {early_master}"
        assert "audio/index.m3u8" in early_master
        assert any(len(v) > 1 and len(v[-1]) > len(v[0]) for v in versions.values()), "the playlists never grew while watched"

        # After ready: every rung VOD on the same boundaries, and every early URL the same bytes.
        master_url = asset["playlist_url"]
        base = master_url.rsplit("/", 1)[0]
        final = fetch(master_url).decode()
        rungs = re.findall(r'^(\S+)/index\.m3u8$', final, re.M)
        assert rungs == ["720p", "480p", "360p", "240p"], final
        boundaries = set()
        for rung in rungs:
            kind, target, segments, ended = media_playlist(fetch(f"{base}/{rung}/index.m3u8").decode())
            assert kind == "VOD" and ended and target == 10
            boundaries.add(tuple(round(d, 3) for d, _ in segments))
        assert len(boundaries) == 1, f"rungs disagree on segment boundaries: {boundaries}"
        durations = boundaries.pop()
        assert durations[:6] == (2.0,) * 6 and abs(sum(durations) - 40) < 0.1, durations
        for rendition, seen in versions.items():
            final_segments = media_playlist(fetch(f"{base}/{rendition}/index.m3u8").decode())[2]
            assert final_segments[:len(seen[-1])] == seen[-1], f"{rendition}: the final playlist dropped or changed a segment"
        changed = [url for url, digest in fetched.items() if hashlib.sha256(fetch(url)).hexdigest() != digest]
        assert not changed and fetched, f"segments served differently after ready: {changed}"


@pytest.fixture
def browser():
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--autoplay-policy=no-user-gesture-required", "--no-sandbox",
                     "--disable-dev-shm-usage", "--window-size=390,844"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()


def test_the_page_plays_before_ready_and_on_to_the_end(browser):
    with running_serve({"PULSE_API_KEY": API_KEY}) as service:
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
        # It played past the switch to the full ladder: the page said Ready while it played on.
        assert browser.find_element(By.ID, "status-text").text == "Ready"
        after_start = seen[seen.index(first) + 1:]
        stalls = [e for e in after_start if e["name"] in ("waiting", "stalled")]
        assert not stalls, f"playback stalled after it started: {seen}"
        duration = browser.execute_script("return document.getElementById('player').duration")
        assert abs(seen[-1]["t"] - 40) < 0.5 and abs(duration - 40) < 0.5, (seen[-1], duration)
