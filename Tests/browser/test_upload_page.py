"""The upload page in a real browser: headless Chromium uploads a generated clip, watches the ring
reach 100 % (never going back), sees the thumbnail, and plays the HLS result natively."""

from conftest import API_KEY, ARTIFACTS, clip, wait_for
from selenium.webdriver.common.by import By


def test_upload_progress_thumbnail_and_playback(server, browser):
    browser.get(server + "/")
    key = browser.find_element(By.ID, "api-key")
    key.send_keys(API_KEY)
    browser.find_element(By.ID, "save-key").click()
    assert browser.execute_script("return localStorage.getItem('pulse.apiKey')") == API_KEY

    browser.find_element(By.ID, "file").send_keys(str(clip("sd_480p.mp4")))

    # Follow the ring: it only ever rises, and reaches 100.
    ring = browser.find_element(By.ID, "ring")
    seen = []

    def ring_done():
        percent = float(ring.get_attribute("data-percent") or 0)
        if not seen or seen[-1] != percent:
            seen.append(percent)
        message = browser.find_element(By.ID, "message")
        assert not message.is_displayed() or "info" in message.get_attribute("class"), message.text
        return percent >= 100

    wait_for("the ring to reach 100 %", ring_done, timeout=90)
    assert seen == sorted(seen), f"the ring went back: {seen}"
    # The ring and the upload bar have gone (the video plays in the bubble); their values stay.
    assert browser.find_element(By.ID, "ring-percent").get_attribute("textContent") == "100"
    assert browser.find_element(By.ID, "upload-percent").get_attribute("textContent") == "100 %"
    assert not browser.find_element(By.ID, "upload").is_displayed()

    # The thumbnail is shown and loaded.
    thumbnail = browser.find_element(By.ID, "thumbnail")
    wait_for("the thumbnail", lambda: thumbnail.is_displayed()
             and browser.execute_script("return arguments[0].naturalWidth", thumbnail) > 0, timeout=20)

    # The video plays the master playlist natively: currentTime advances.
    video = browser.find_element(By.ID, "player")
    wait_for("the master playlist", lambda: browser.execute_script("return arguments[0].src", video).endswith(
        "/master.m3u8"), timeout=20)
    wait_for("playback to start", lambda: browser.execute_script("return arguments[0].currentTime", video) > 0.2,
             timeout=30)
    # It plays in place as soon as it can, so the 2 s clip may be at its end by now: from the start again.
    browser.execute_script("arguments[0].currentTime = 0; arguments[0].play()", video)
    start = browser.execute_script("return arguments[0].currentTime", video)
    wait_for("currentTime to advance", lambda: browser.execute_script(
        "return arguments[0].currentTime", video) > start + 0.3, timeout=20)

    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", video)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "browser-upload.png"))


def test_failure_message_for_a_non_video(server, browser):
    browser.get(server + "/")
    browser.execute_script("localStorage.setItem('pulse.apiKey', arguments[0])", API_KEY)
    browser.get(server + "/")
    browser.find_element(By.ID, "file").send_keys(str(clip("not_video.mp4")))
    message = browser.find_element(By.ID, "message")
    wait_for("the failure message", lambda: message.is_displayed() and message.get_attribute("data-code"), timeout=60)
    assert message.get_attribute("data-code") == "ERR_NON_VIDEO"
    assert "not a video" in message.text
