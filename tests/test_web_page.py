"""The live page in a real browser: headless Chromium whose fake camera plays the signademy B clip, against the
server as `run.py --serve` runs it; the page must show B committed. A screenshot is kept in the test's temporary
folder (and copied to $ASL_SCREENSHOTS when set) for a person to look at.

Needs Debian's chromium and chromium-driver and the selenium package (setup.sh --dev installs them); skips
without them."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.y4m import write_y4m

pytestmark = [pytest.mark.data, pytest.mark.mediapipe, pytest.mark.window]
BROWSER, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture
def server():
    uvicorn = pytest.importorskip("uvicorn")
    from model import AI_CHECKPOINT
    from model.classifier import LetterClassifier
    from realtime.smoothing import LIVE_NO_LETTER_OFFSET
    from web.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(LetterClassifier(AI_CHECKPOINT, "cpu", LIVE_NO_LETTER_OFFSET))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)
    app.state.close()


@pytest.mark.skipif(not (BROWSER and DRIVER), reason="needs chromium and chromedriver (bash setup.sh --dev)")
def test_the_page_commits_the_letter_the_camera_shows(server, signademy, tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    camera = tmp_path / "b.y4m"
    write_y4m(signademy / "B" / "signademy_B.mp4", camera, (540, 960))
    options = webdriver.ChromeOptions()
    options.binary_location = BROWSER
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--use-fake-ui-for-media-stream",  # allow the camera without asking
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
        "--window-size=800,1100",
    ):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        browser.get(server)
        deadline, letter = time.time() + 90, ""
        while time.time() < deadline and not letter:
            letter = browser.find_element(By.ID, "letter").get_attribute("data-letter") or ""
            time.sleep(0.25)
        time.sleep(0.5)
        shot = tmp_path / "page.png"
        browser.save_screenshot(str(shot))
        if os.environ.get("ASL_SCREENSHOTS"):
            Path(os.environ["ASL_SCREENSHOTS"]).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(os.environ["ASL_SCREENSHOTS"]) / "page.png")
        status = browser.find_element(By.ID, "status").text
        text = browser.find_element(By.ID, "text").text
    finally:
        browser.quit()
    assert letter == "B", f"the page showed no B (status: {status!r}, text: {text!r}); screenshot {shot}"
    assert text.startswith("B")
