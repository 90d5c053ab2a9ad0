"""Signed playback in a real browser: headless Chromium plays a signed asset through the
`playlist_url` the API returns (the token in the path carries over to every relative URI of the
playlists), and the same path without the token is refused (403 to a fetch, an error on <video>)."""
import re

from conftest import call, upload_clip, wait_for, wait_until_ready


def ready_signed_asset(server):
    created, _ = upload_clip(server, filename="private.mp4", playback_policy="signed", passthrough="chat-message-1")
    return wait_until_ready(server, created["id"])


PLAY = """
const [url, done] = [arguments[0], arguments[arguments.length - 1]];
const video = document.createElement('video');
video.id = 'v-' + Math.random().toString(36).slice(2);
video.muted = true;
video.autoplay = true;
video.addEventListener('error', () => {});
document.body.appendChild(video);
video.src = url;
video.play().catch(() => {});
done(video.id);
"""

STATE = """
const video = document.getElementById(arguments[0]);
return {readyState: video.readyState, currentTime: video.currentTime,
        error: video.error ? video.error.code : null};
"""

FETCH = """
const done = arguments[arguments.length - 1];
fetch(arguments[0]).then(r => r.json().then(body => done({status: r.status, body})))
                   .catch(e => done({status: -1, body: String(e)}));
"""


def test_signed_asset_plays_with_its_token_and_not_without(server, browser):
    asset = ready_signed_asset(server)
    playlist = asset["playlist_url"]
    match = re.fullmatch(r"(.*/media/[0-9a-f-]+)/t/([0-9]+\.[0-9a-f]{64})/master\.m3u8", playlist)
    assert match, playlist
    plain = match.group(1) + "/master.m3u8"

    browser.get(server + "/healthz")
    # With the token: the player resolves the rung and audio playlists and the segments itself.
    video = browser.execute_async_script(PLAY, playlist)
    wait_for("readyState 4", lambda: browser.execute_script(STATE, video)["readyState"] == 4, timeout=30)
    start = browser.execute_script(STATE, video)["currentTime"]
    wait_for("currentTime to advance",
             lambda: browser.execute_script(STATE, video)["currentTime"] > start + 0.5, timeout=20)
    assert browser.execute_script(STATE, video)["error"] is None

    # Without it: the same path is 403 to a fetch, and the <video> fails.
    answer = browser.execute_async_script(FETCH, plain)
    assert answer["status"] == 403, answer
    assert answer["body"]["error"]["code"] == "ERR_PLAYBACK_TOKEN_REQUIRED"
    refused = browser.execute_async_script(PLAY, plain)
    failed = wait_for("the unsigned <video> to fail", lambda: browser.execute_script(STATE, refused)["error"], timeout=20)
    assert failed in (2, 4)  # MEDIA_ERR_NETWORK or MEDIA_ERR_SRC_NOT_SUPPORTED
    assert browser.execute_script(STATE, refused)["readyState"] == 0

    # A variant playlist with another asset's path is refused too: the token is for this asset only.
    status, minted = call("POST", f"{server}/v1/assets/{asset['id']}/playback-tokens", {"ttl_seconds": 120})
    assert status == 201 and minted["playlist_url"].endswith(f"/t/{minted['token']}/master.m3u8")
    status, other = call("POST", server + "/v1/assets", {"filename": "other.mp4", "playback_policy": "signed"})
    assert status == 201
    foreign = f"{server}/media/{other['id']}/t/{minted['token']}/master.m3u8"
    assert browser.execute_async_script(FETCH, foreign)["status"] == 403
