"""The live page in a real browser: headless Chromium whose fake camera plays the signademy B clip, against the
server as `run.py --serve` runs it: the page must show B committed, keep its text through a server restart,
and fit a phone. Screenshots are kept in the test's temporary folder (and copied to $ASL_SCREENSHOTS when set)
for a person to look at.

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


class Served:
    """The app on a port of its own, as `run.py --serve` runs it; ``stop`` and ``start`` again on the same port
    (a restarted server)."""

    def __init__(self) -> None:
        from model import AI_CHECKPOINT
        from model.classifier import LetterClassifier
        from realtime.smoothing import LIVE_NO_LETTER_OFFSET

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.classifier = LetterClassifier(AI_CHECKPOINT, "cpu", LIVE_NO_LETTER_OFFSET)
        self.url = f"http://127.0.0.1:{self.port}/"
        self.start()

    def start(self) -> None:
        import uvicorn

        from web.app import create_app

        self.app = create_app(self.classifier)
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started and time.time() < deadline:
            time.sleep(0.1)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.app.state.close()


@pytest.fixture
def served():
    pytest.importorskip("uvicorn")
    served = Served()
    yield served
    served.stop()


def open_page(url: str, camera: Path, size: tuple[int, int], phone: bool = False):
    """Headless Chromium on ``url`` whose fake camera plays ``camera`` (a .y4m); ``phone``: a touch screen."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = BROWSER
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--use-fake-ui-for-media-stream",  # allow the camera without asking
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
        f"--window-size={size[0]},{size[1]}",
    ):
        options.add_argument(flag)
    if phone:
        metrics = {"width": size[0], "height": size[1], "pixelRatio": 2.0, "touch": True}
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
    browser = webdriver.Chrome(service=Service(DRIVER), options=options)
    browser.get(url)
    return browser


def wait_for(browser, script: str, timeout_s: float = 90):
    """The first truthy value of ``script`` (JavaScript returning a value), or the last one after the wait."""
    deadline, value = time.time() + timeout_s, None
    while time.time() < deadline:
        value = browser.execute_script(script)
        if value:
            return value
        time.sleep(0.25)
    return value


def keep_screenshot(browser, path: Path) -> Path:
    browser.save_screenshot(str(path))
    if os.environ.get("ASL_SCREENSHOTS"):
        Path(os.environ["ASL_SCREENSHOTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(os.environ["ASL_SCREENSHOTS"]) / path.name)
    return path


@pytest.fixture
def b_camera(signademy, tmp_path) -> Path:
    camera = tmp_path / "b.y4m"
    write_y4m(signademy / "B" / "signademy_B.mp4", camera, (540, 960))
    return camera


ON_SCREEN = (  # the share of each element's box inside the window (0: off screen)
    "return arguments[0].map((id) => { const r = document.getElementById(id).getBoundingClientRect();"
    "  const h = Math.max(0, Math.min(r.bottom, innerHeight) - Math.max(r.top, 0));"
    "  const w = Math.max(0, Math.min(r.right, innerWidth) - Math.max(r.left, 0));"
    "  return Math.round(100 * h * w / Math.max(1, r.width * r.height)) / 100; })"
)
LETTER = "return document.getElementById('letter').dataset.letter"
TEXT = "return document.getElementById('text').textContent"


@pytest.mark.skipif(not (BROWSER and DRIVER), reason="needs chromium and chromedriver (bash setup.sh --dev)")
def test_the_page_commits_the_letter_and_keeps_its_text_through_a_server_restart(served, b_camera, tmp_path):
    """B committed; the server stops: the page says so in plain words and reconnects by itself to the restarted
    server, whose new session takes back the text; suggestions are buttons that name their word."""
    from selenium.webdriver.common.by import By

    browser = open_page(served.url, b_camera, (800, 1100))
    try:
        letter = wait_for(browser, LETTER)
        shot = keep_screenshot(browser, tmp_path / "page.png")
        text = browser.execute_script(TEXT)
        said = wait_for(browser, "return document.getElementById('announce').textContent", 10)
        live = browser.execute_script(
            "return [...document.querySelectorAll('[aria-live]')].map((e) => e.id).filter((id) => id)"
        )
        names = [browser.find_element(By.ID, b).accessible_name.strip() for b in ("delete", "clear", "copy", "undo")]
        small = browser.execute_script(  # issue 35, item 10: four small defects of the page, each checked
            "const out = {};"
            "const canvas = CanvasRenderingContext2D.prototype, stroke = canvas.strokeText; let strokes = 0;"
            "canvas.strokeText = function (...a) { strokes += 1; return stroke.apply(this, a); };"
            "draw(last); canvas.strokeText = stroke; out.outlined = strokes;"
            "fps = 0; lastAnswerAt = performance.now() - 100; socket.onmessage({ data: JSON.stringify(last) });"
            "out.fps = fps;"  # the first interval, 10 a second, not an average climbing from 0
            "out.faded = getComputedStyle(document.getElementById('undo')).opacity;"
            "retries = 3; const send = socket.send; socket.send = () => {}; socket.onopen(); socket.send = send;"
            "out.retries = retries;"  # accepted is not served: a busy server closes right after
            "return out"
        )
        served.stop()
        problem = wait_for(browser, "const p = document.getElementById('problem'); return !p.hidden && p.textContent")
        keep_screenshot(browser, tmp_path / "page-lost.png")
        browser.execute_script("localStorage.setItem('asl-text', 'CAB FACE')")  # issue 35: CAB was dropped
        served.start()
        back = wait_for(browser, "return document.getElementById('status').textContent === 'connected'", 60)
        text_after = wait_for(
            browser, "const t = document.getElementById('text').textContent; return t.startsWith('CAB') && t", 30
        )
        suggestions, sent = browser.execute_script(
            "socket.onmessage = null;"  # no more answers: one would replace the suggestions shown below
            "showSuggestions(['CAB', 'CAR'], 'CAB');"
            "const shown = document.getElementById('suggestions').textContent;"
            "window.sent = []; socket.send = (m) => { if (typeof m === 'string') window.sent.push(m); };"
            "document.querySelector('#suggestions button:nth-of-type(2)').click();"
            "const tab = (target, shiftKey) => target.dispatchEvent("
            "  new KeyboardEvent('keydown', { key: 'Tab', shiftKey, bubbles: true, cancelable: true }));"
            "tab(document.body, false); tab(document.body, true);"  # Tab takes the first; Shift+Tab never
            "tab(document.querySelector('#suggestions button:nth-of-type(2)'), false);"  # from a suggestion: moves
            "return [shown, window.sent]"
        )
    finally:
        browser.quit()
    assert letter == "B" and text.startswith("B"), f"no B committed: {text!r}; screenshot {shot}"
    # issue 35: a screen reader heard the whole text at every letter, each letter twice, and "dash"
    assert said.startswith("B") and "text" not in live and "letter" not in live, (said, live)
    assert names == ["delete", "clear", "copy", "undo correction"], names  # no key hints in the names
    assert small["outlined"] > 0 and 9 < small["fps"] < 11 and float(small["faded"]) < 0.6, small
    assert small["retries"] == 3, small
    assert ("stopped" in problem or "lost" in problem) and "your text is kept" in problem, problem
    assert back and text_after.startswith("CAB FACE"), text_after
    assert suggestions.startswith("for CAB:") and "CAR" in suggestions
    assert sent == ['{"action":"accept","word":"CAR"}', '{"action":"accept"}']


@pytest.mark.skipif(not (BROWSER and DRIVER), reason="needs chromium and chromedriver (bash setup.sh --dev)")
def test_the_page_on_a_phone_keeps_everything_on_screen_and_shows_no_key_hints(served, b_camera, tmp_path):
    browser = open_page(served.url, b_camera, (390, 844), phone=True)
    try:
        wait_for(browser, LETTER)
        browser.execute_script(
            "socket.onmessage = null;"  # no more answers: they would overwrite the text below
            "document.getElementById('text').textContent = 'HELLO WORLD FINGERSPELLING PRACTICE';"
            "showSuggestions(['HELLO', 'HELL'], 'HELLO');"
        )
        shot = keep_screenshot(browser, tmp_path / "page-phone.png")
        browser.find_element("css selector", '[data-mode="chart"]').click()
        wait_for(browser, "return document.querySelectorAll('#chart-grid .card').length", 10)
        charting = browser.execute_script(ON_SCREEN, ["video", "chart"])
        keep_screenshot(browser, tmp_path / "page-phone-chart.png")
        browser.find_element("css selector", '[data-mode="spell"]').click()
        overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        box = browser.execute_script("return handBox([[0.4, 0.4], [0.5, 0.6]], 1)")  # issue 35: the box trailed
        hints = browser.execute_script(
            "return [...document.querySelectorAll('kbd')].filter((k) => getComputedStyle(k).display !== 'none').length"
        )
        split_words = browser.execute_script(  # words whose letters lie on more than one line
            "const node = document.getElementById('text').firstChild, split = []; let at = 0;"
            "for (const word of node.textContent.split(' ')) {"
            "  const r = document.createRange(); r.setStart(node, at); r.setEnd(node, at + word.length);"
            "  if (new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size > 1) split.push(word);"
            "  at += word.length + 1; }"
            "return split"
        )
        height = browser.execute_script("return document.getElementById('text').getBoundingClientRect().height")
        knows = browser.find_element("id", "knows").text
    finally:
        browser.quit()
    assert overflow <= 0, f"the page is {overflow} px wider than the phone; screenshot {shot}"
    assert charting[0] > 0.9 and charting[1] > 0.2, charting  # the video and the chart together
    assert [round(v, 3) for v in box] == [0.33, 0.38, 0.57, 0.62], box  # about the landmarks, not the steadied crop
    assert hints == 0, f"{hints} key hints shown on a touch screen; screenshot {shot}"
    assert split_words == [] and height > 60, f"{split_words} broken across lines; screenshot {shot}"
    assert knows.startswith("This model knows A B C D E F G H I")


@pytest.mark.skipif(not (BROWSER and DRIVER), reason="needs chromium and chromedriver (bash setup.sh --dev)")
def test_practice_marks_a_word_right_and_the_next_wrong_with_a_hint_and_the_chart_draws_every_letter(
    served, b_camera, tmp_path
):
    """The camera signs B (its clip loops, so B comes again): practising "B A", B is marked right and the A
    that B came in place of is marked missed, with a hint; the scores stay in the browser."""
    from selenium.webdriver.common.by import By

    browser = open_page(served.url, b_camera, (1280, 800))
    try:
        browser.execute_script("localStorage.clear()")
        browser.find_element(By.CSS_SELECTOR, '[data-mode="practice"]').click()
        browser.find_element(By.ID, "level").send_keys("my own words")
        browser.find_element(By.ID, "my-words").send_keys("b a")
        browser.find_element(By.ID, "practice-start").click()
        hint = wait_for(browser, "return document.getElementById('practice-hint').textContent", 120)
        marks = browser.execute_script("return run.marks")
        said = browser.execute_script(  # issue 35: marked by colour alone, and a finished word vanished at once
            "const saved = JSON.stringify(run);"
            "Object.assign(run, { words: ['BA', 'C'], marks: [['right', 'missed'], ['pending']], word: 1, pos: 0,"
            "  finished: { word: 0, until: performance.now() + 5000 } });"
            "showPractice();"
            "const said = [...document.querySelectorAll('#target-word > span')].map((s) => s.textContent);"
            "Object.assign(run, JSON.parse(saved), { finished: null }); showPractice(); return said"
        )
        score = browser.find_element(By.ID, "practice-score").text
        stats = browser.execute_script("return JSON.parse(localStorage.getItem('asl-practice'))")
        keep_screenshot(browser, tmp_path / "page-practice.png")
        practising = browser.execute_script(ON_SCREEN, ["video", "target-word", "target-shape"])
        browser.find_element(By.CSS_SELECTOR, '[data-mode="spell"]').click()
        spelling = browser.execute_script(ON_SCREEN, ["video", "text", "suggestions", "delete", "undo"])
        keep_screenshot(browser, tmp_path / "page-desktop.png")
        browser.find_element(By.CSS_SELECTOR, '[data-mode="chart"]').click()
        cards = wait_for(browser, "return document.querySelectorAll('#chart-grid .card').length", 10)
        inked = browser.execute_script(  # every card's drawing has something drawn on it
            "return [...document.querySelectorAll('#chart-grid canvas')].filter((c) =>"
            "  c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3 && v > 0)"
            ").length"
        )
        keep_screenshot(browser, tmp_path / "page-chart.png")
        charting = browser.execute_script(ON_SCREEN, ["video", "chart"])
        browser.execute_script("[...document.querySelectorAll('#chart-grid .card')].at(-2).scrollIntoView()")
        keep_screenshot(browser, tmp_path / "page-chart-jz.png")
        hooks = browser.execute_script(  # issue 35: J's hook curved away from the thumb its caption names
            "const j = chart.shapes.J, path = movingPath(j, 'J');"
            "return [Math.sign(path[3][0] - path[0][0]), Math.sign(j[4][0] - j[20][0])]"
        )
    finally:
        browser.quit()
    # issue 35: practice and the chart pushed the video off screen on a 1280x800 desktop
    assert min(practising) > 0.9 and charting[0] > 0.9 and charting[1] > 0.3, (practising, charting)
    assert min(spelling) > 0.9, spelling  # issue 35: the suggestions and buttons were below the fold
    assert hooks[0] == hooks[1] != 0, hooks
    assert marks == [["right"], ["missed"]], marks
    assert said == ["B right", "A missed"], said
    assert hint.startswith("it looked like B: flat hand")  # A's own handshape is shown beside it
    assert score.startswith("B 1/1") and stats["letters"]["B"] == {"tries": 1, "first": 1}
    assert cards == inked == 11  # the A-I model: A to I, and J and Z by movement


@pytest.mark.skipif(not (BROWSER and DRIVER), reason="needs chromium and chromedriver (bash setup.sh --dev)")
def test_calibration_in_the_page_counts_down_takes_shots_and_offers_the_personal_model(served, b_camera, tmp_path):
    from selenium.webdriver.common.by import By

    browser = open_page(served.url, b_camera, (800, 1100))
    try:
        wait_for(browser, LETTER)  # the camera is on and the hand is read
        browser.execute_script(  # what practice and spelling noted: E taken for A three times, G for H twice
            "localStorage.setItem('asl-unsure', JSON.stringify("
            "{E: {n: 4, as: {A: 3}}, G: {n: 2, as: {H: 2}}, Q: {n: 9, as: {}}}))"
        )
        browser.find_element(By.CSS_SELECTOR, '[data-mode="calibrate"]').click()
        suggested = wait_for(browser, "return document.getElementById('calibrate-suggest-text').textContent", 5)
        browser.find_element(By.ID, "calibrate-suggest-use").click()
        filled = browser.find_element(By.ID, "calibrate-letters").get_attribute("value")
        browser.find_element(By.ID, "calibrate-letters").clear()
        browser.find_element(By.ID, "calibrate-letters").send_keys("b")
        browser.find_element(By.ID, "calibrate-start").click()
        counted = wait_for(
            browser,
            "const c = document.getElementById('calibrate-count').textContent;return c.startsWith('get ready') && c",
            5,
        )
        result = wait_for(
            browser,
            "const r = document.getElementById('calibrate-result').textContent; return r.includes('Calibrated') && r",
            90,
        )
        calibrated = browser.find_element(By.ID, "calibrated").text
        keep_screenshot(browser, tmp_path / "page-calibrated.png")
        status = browser.execute_script(
            "const a = document.getElementById('calibrate-download');"
            "return fetch(a.href).then((r) => r.status + ' ' + r.headers.get('content-disposition'))"
        )
        browser.refresh()  # the calibration is kept in the browser and given back to the new session
        wait_for(browser, LETTER)
        browser.find_element(By.CSS_SELECTOR, '[data-mode="calibrate"]').click()
        kept = wait_for(
            browser,
            "return document.getElementById('calibrated').textContent.includes('B') && "
            "document.getElementById('calibrated').textContent",
            10,
        )
        browser.find_element(By.ID, "calibrate-reset").click()
        shared = browser.find_element(By.ID, "calibrated").text
        keep_screenshot(browser, tmp_path / "page-calibration-reset.png")
        left = browser.execute_script("return localStorage.getItem('asl-calibration')")
    finally:
        browser.quit()
    assert filled == "EGAH" and "E read as A, G read as H" in suggested, (filled, suggested)  # Q: not in A-I
    assert counted and result and "from 5 shots" in result and "On " in result, result
    assert "B calibrated" in calibrated and "B calibrated" in kept, (calibrated, kept)
    assert "shared model" in shared and left is None
    assert status.startswith("200 ") and "personal.pt" in status
