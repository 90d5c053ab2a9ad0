"""What a chat client shows before the first frame, checked from outside against a real `serve`:
the asset's `placeholder` is the BlurHash of its thumbnail (the PyPI `blurhash` package encodes the
same pixels to the same string, and its decoding looks like the thumbnail); the `storyboard_url`
WebVTT tiles the whole duration with cues of at most 5 s, each a rectangle inside its sprite sheet
(ffprobe reads the sheet's size), and a signed asset's storyboard plays only with its token; the
page at phone size paints the placeholder at once, then the thumbnail with the ring over it, then
plays the video in place near the top, with screenshots kept in artifacts/."""
import re
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request

import blurhash
from conftest import API_KEY, ARTIFACTS, PHONE, clip, upload_clip, wait_for, wait_until_ready
from selenium.webdriver.common.by import By

CUE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})\n(\S+)$", re.M)


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def rgb(image_bytes, side=32):
    """The image scaled to side x side by ffmpeg, as rows of [r, g, b]."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "pipe:0", "-frames:v", "1", "-vf", f"scale={side}:{side}:flags=area,format=rgb24",
         "-f", "rawvideo", "pipe:1"], input=image_bytes, capture_output=True, check=True).stdout
    assert len(raw) == side * side * 3
    return [[list(raw[(y * side + x) * 3:(y * side + x) * 3 + 3]) for x in range(side)] for y in range(side)]


def image_size(image_bytes):
    with tempfile.NamedTemporaryFile(suffix=".jpg") as file:
        file.write(image_bytes)
        file.flush()
        out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", file.name],
                             capture_output=True, text=True, check=True).stdout
    width, height = out.strip().split(",")
    return int(width), int(height)


def milliseconds(h, m, s, ms):
    return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(ms)


def test_the_placeholder_is_the_blurhash_of_the_thumbnail(server):
    created, _ = upload_clip(server, "sd_480p.mp4")
    asset = wait_until_ready(server, created["id"])
    placeholder = asset["placeholder"]
    assert placeholder and 20 <= len(placeholder) <= 30, placeholder
    pixels = rgb(fetch(asset["thumbnail_url"]))
    # The reference encoder, on the same pixels, gives the same string.
    assert blurhash.encode(pixels, 4, 3) == placeholder
    # Decoded, it looks like the thumbnail: the same average colour and, cell by cell of a 4 x 3
    # grid, close colours (averaged in linear light, as BlurHash averages; a placeholder of the
    # thumbnail's negative is about 135 away on the grid).
    decoded = blurhash.decode(placeholder, 32, 32)
    assert grid_distance(decoded, pixels, 1, 1) < 6
    assert grid_distance(decoded, pixels, 4, 3) < 45


def grid_distance(a, b, columns, rows, side=32):
    """Mean absolute difference (0-255) of the two images' cells, each averaged in linear light."""
    def cells(image):
        out = []
        for gy in range(rows):
            for gx in range(columns):
                pixels = [image[y][x] for y in range(gy * side // rows, (gy + 1) * side // rows)
                          for x in range(gx * side // columns, (gx + 1) * side // columns)]
                out.append([255 * sum(blurhash.srgb_to_linear(p[c]) for p in pixels) / len(pixels) for c in range(3)])
        return out
    return sum(abs(x - y) for ca, cb in zip(cells(a), cells(b)) for x, y in zip(ca, cb)) / (columns * rows * 3)


def check_storyboard(vtt_url, duration):
    text = fetch(vtt_url).decode()
    assert text.startswith("WEBVTT")
    cues = CUE.findall(text)
    assert cues, text
    sizes = {}
    position = 0
    for cue in cues:
        start, end = milliseconds(*cue[0:4]), milliseconds(*cue[4:8])
        assert start == position, f"gap or overlap at {start} ms (expected {position})"
        assert 0 < end - start <= 5000, (start, end)
        position = end
        sprite, fragment = cue[8].split("#xywh=")
        sprite_url = urllib.parse.urljoin(vtt_url, sprite)
        if sprite_url not in sizes:
            sizes[sprite_url] = image_size(fetch(sprite_url))
        x, y, w, h = map(int, fragment.split(","))
        width, height = sizes[sprite_url]
        assert w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= width and y + h <= height, (cue[8], width, height)
    assert abs(position - duration * 1000) <= 1, f"the cues end at {position} ms, the video at {duration} s"
    if duration >= 10:
        assert len(cues) >= 10
    return cues, sizes


def test_the_storyboard_tiles_the_whole_duration_with_rectangles_inside_their_sprites(server):
    created, _ = upload_clip(server, "long_7s_320p.mp4")
    asset = wait_until_ready(server, created["id"])
    assert asset["storyboard_url"], asset
    cues, sizes = check_storyboard(asset["storyboard_url"], asset["duration"])
    assert len(cues) == 7 and len(sizes) == 1


def test_a_signed_assets_storyboard_needs_its_token(server):
    created, _ = upload_clip(server, "progressive_720p_40s.mp4", playback_policy="signed")
    asset = wait_until_ready(server, created["id"], timeout=240)
    url = asset["storyboard_url"]
    assert "/t/" in url, url
    cues, sizes = check_storyboard(url, asset["duration"])
    assert len(cues) == 10
    # Without the token, neither the VTT nor a sprite is served.
    unsigned = re.sub(r"/t/[^/]+/", "/", url)
    for target in (unsigned, urllib.parse.urljoin(unsigned, "storyboard_000.jpg")):
        try:
            fetch(target)
            raise AssertionError(f"{target} was served without a token")
        except urllib.error.HTTPError as error:
            assert error.code == 403, error.code


def bubble_stage(browser):
    return browser.find_element(By.ID, "bubble").get_attribute("data-stage")


def test_the_page_shows_a_chat_bubble_placeholder_then_thumbnail_with_ring_then_playing(server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    # The window cannot be narrower than 500 px in headless Chromium: the viewport is set instead.
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 2, "mobile": True})
    browser.get(server + "/")
    browser.execute_script("localStorage.setItem('pulse.apiKey', arguments[0])", API_KEY)
    browser.get(server + "/")
    # The thumbnail is held on its way, so the placeholder is seen alone first.
    browser.execute_cdp_cmd("Fetch.enable", {"patterns": [{"urlPattern": "*thumbnail.jpg*", "requestStage": "Request"}]})
    try:
        browser.find_element(By.ID, "file").send_keys(str(clip("progressive_720p_40s.mp4")))
        wait_for("the placeholder", lambda: bubble_stage(browser) == "placeholder", timeout=120)
        canvas = browser.find_element(By.ID, "placeholder")
        assert canvas.is_displayed() and not browser.find_element(By.ID, "thumbnail").is_displayed()
        assert not browser.find_element(By.ID, "upload").is_displayed(), "the upload bar stayed after the upload"
        # What is painted is the placeholder the service sent, as the reference decoder draws it.
        hash_ = canvas.get_attribute("data-hash")
        painted = browser.execute_script(
            "const c = arguments[0]; return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)", canvas)
        reference = blurhash.decode(hash_, 32, 32)
        worst = max(abs(painted[(y * 32 + x) * 4 + c] - reference[y][x][c]) for y in range(32) for x in range(32) for c in range(3))
        assert worst <= 2, f"the painted placeholder differs from the reference decoding by {worst}"
        browser.save_screenshot(str(ARTIFACTS / "bubble-1-placeholder.png"))
    finally:
        browser.execute_cdp_cmd("Fetch.disable", {})

    wait_for("the thumbnail", lambda: bubble_stage(browser) in ("thumbnail", "playing"), timeout=30)
    if bubble_stage(browser) == "thumbnail":
        browser.save_screenshot(str(ARTIFACTS / "bubble-2-thumbnail-ring.png"))
    video = browser.find_element(By.ID, "player")
    wait_for("playback in place", lambda: bubble_stage(browser) == "playing"
             and browser.execute_script("return arguments[0].currentTime", video) > 0.3, timeout=120)
    stages = browser.find_element(By.ID, "bubble").get_attribute("data-stages").split()
    assert stages == ["pending", "placeholder", "thumbnail", "playing"], stages

    # In place, near the top of a phone screen, wholly visible without scrolling.
    rect = browser.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.top, r.bottom, r.left, r.right]",
                                  browser.find_element(By.ID, "media"))
    assert browser.execute_script("return window.scrollY") == 0
    width, height = browser.execute_script("return [window.innerWidth, window.innerHeight]")
    assert [width, height] == list(PHONE), (width, height)
    assert rect[0] < 150 and rect[1] <= height and rect[2] >= 0 and rect[3] <= width, (rect, height)
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    assert video.is_displayed() and not browser.find_element(By.ID, "upload").is_displayed()
    browser.save_screenshot(str(ARTIFACTS / "bubble-3-playing.png"))
