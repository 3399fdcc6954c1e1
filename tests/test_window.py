"""The real window under Xvfb: keys pressed with xdotool change what is drawn; q quits cleanly.

Needs Xvfb and xdotool (setup.sh --dev installs them); skips without them. Screenshots are kept in the test's
temporary folder (and copied to $ASL_SCREENSHOTS when set) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.window, pytest.mark.data, pytest.mark.mediapipe]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def display():
    if not (shutil.which("Xvfb") and shutil.which("xdotool")):
        pytest.skip("needs Xvfb and xdotool (bash setup.sh --dev installs them)")
    number = 90 + os.getpid() % 9
    server = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    if server.poll() is not None:
        pytest.skip(f"Xvfb could not start on :{number}")
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


def xdotool(display: str, *args: str) -> str:
    return subprocess.run(
        ["xdotool", *args],
        env={**os.environ, "DISPLAY": display},
        check=True,
        capture_output=True,
        text=True,
        timeout=90,
    ).stdout.strip()


def screenshot(display: str, path: Path) -> np.ndarray:
    from PIL import ImageGrab

    image = ImageGrab.grab(xdisplay=display)
    image.save(path)
    if os.environ.get("ASL_SCREENSHOTS"):
        Path(os.environ["ASL_SCREENSHOTS"]).mkdir(parents=True, exist_ok=True)
        image.save(Path(os.environ["ASL_SCREENSHOTS"]) / path.name)
    return np.asarray(image).astype(np.int16)


def test_keys_toggle_layers_snapshot_edit_the_text_and_quit(display, signademy, tmp_path):
    clip = signademy / "B" / "signademy_B.mp4"
    proc = subprocess.Popen(
        [sys.executable, "run.py", "--video", str(clip), "--snapshots", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "DISPLAY": display},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        window = xdotool(display, "search", "--sync", "--onlyvisible", "--name", "ASL letters").splitlines()[0]
        xdotool(display, "windowfocus", "--sync", window)
        deadline = time.time() + 60
        while not any("commit B" in line for line in lines) and time.time() < deadline:
            time.sleep(0.1)
        # pause on a held B (had the clip ended first, the window would hold its last frame, also a B)
        xdotool(display, "key", "space")
        time.sleep(1.0)
        full = screenshot(display, tmp_path / "1-all-layers.png")
        xdotool(display, "windowfocus", "--sync", window)
        xdotool(display, "key", "--delay", "100", "p", "l", "b", "c", "s")  # bars, landmarks, box, crop, stats off
        time.sleep(1.0)
        bare = screenshot(display, tmp_path / "2-no-layers.png")
        xdotool(display, "key", "--delay", "100", "h", "n")  # help line on, snapshot
        time.sleep(1.0)
        helped = screenshot(display, tmp_path / "3-help.png")
        changed = np.abs(full - bare).max(axis=2) > 40
        assert changed.mean() > 0.003, "turning the debug layers off changed nothing on screen"
        assert np.abs(helped - bare).max(axis=2).astype(bool).any(), "the help line did not appear"
        assert list(tmp_path.glob("snapshot-*.png")), "key n saved no snapshot"
        xdotool(display, "key", "BackSpace")  # takes the B back out of the text
        time.sleep(0.5)
        xdotool(display, "key", "q")
        proc.wait(timeout=30)
        reader.join(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
    out = "".join(lines)
    assert proc.returncode == 0, out
    assert "committed: B@" in out
    assert "text:" not in out, "backspace left the B in the text"
