"""run.py as a user meets it: bad input gives one clear line and a non-zero exit; recordings survive."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

import run
from realtime.recording import read_sidecar

ROOT = Path(__file__).resolve().parent.parent


def run_py(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "run.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(proc: subprocess.CompletedProcess, fragment: str) -> None:
    assert proc.returncode != 0
    lines = [l for l in proc.stderr.splitlines() if l.strip() and not l.startswith(("W0", "I0", "WARNING: All"))]
    assert len(lines) == 1 and fragment in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def count_frames(path: Path) -> int:
    cap, n = cv2.VideoCapture(str(path)), 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


def test_missing_video(tmp_path):
    assert_one_line_error(run_py("--video", str(tmp_path / "nope.mp4"), "--no-window"), "video file not found")


def test_unreadable_video(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is not a video" * 100)
    assert_one_line_error(run_py("--video", str(bad), "--no-window"), "cannot read video")


def test_corrupt_model(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x80\x02garbage" * 50)
    assert_one_line_error(run_py("--video", "x.mp4", "--model", str(bad), "--no-window"), "cannot read model file")


def test_camera_that_does_not_open():
    assert_one_line_error(run_py("--camera", "97", "--no-window"), "camera 97 will not open")


def test_bad_smoothing_flags():
    assert_one_line_error(run_py("--video", "x.mp4", "--enter", "0.3", "--exit", "0.6"), "exit")


@pytest.mark.data
@pytest.mark.mediapipe
def test_recording_round_trip(signademy, tmp_path):
    rec = tmp_path / "session.avi"
    proc = run_py("--video", str(signademy / "C" / "signademy_C.mp4"), "--no-window", "--fast", "--record", str(rec))
    assert proc.returncode == 0, proc.stderr
    lines = read_sidecar(rec)
    assert len(lines) == count_frames(rec) == 110
    assert [l["frame"] for l in lines] == list(range(110))
    held = lines[80]
    assert held["hand"] and len(held["hand"]["landmarks"]) == 21 and held["prediction"]["label"] == "C"
    assert held["letter"] == "C"


@pytest.mark.data
@pytest.mark.mediapipe
def test_interrupted_recording_keeps_what_was_recorded(signademy, tmp_path):
    rec = tmp_path / "cut.avi"
    proc = subprocess.Popen(
        [
            sys.executable,
            "run.py",
            "--video",
            str(signademy / "F" / "signademy_F.mp4"),
            "--no-window",
            "--record",
            str(rec),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline and len(read_sidecar(rec)) < 30:  # paced at the clip's 30 fps
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    assert proc.returncode == 130  # interrupted: the files are whole, the run was not (issue 19)
    lines = read_sidecar(rec)
    frames = count_frames(rec)
    assert 30 <= frames < 133 and len(lines) == frames
    assert json.loads(json.dumps(lines[-1]))["frame"] == frames - 1


def test_a_practice_word_with_letters_the_model_does_not_know():
    proc = run_py("--video", "x.mp4", "--no-window", "--model", "a-i", "--practice", "bad,hello")
    assert_one_line_error(proc, "HELLO has letters this model does not know (LO)")
    assert proc.returncode == 2


def test_the_alphabet_model_is_the_default_and_models_have_short_names(tmp_path):
    from model import AI_CHECKPOINT, ALPHABET_CHECKPOINT, model_path

    assert run.parse_args(["--camera", "0"]).model == ALPHABET_CHECKPOINT
    assert run.parse_args(["--camera", "0", "--model", "A-I"]).model == AI_CHECKPOINT
    assert model_path("alphabet") == ALPHABET_CHECKPOINT and model_path(str(tmp_path / "x.pt")) == tmp_path / "x.pt"
    assert run.parse_args(["--camera", "0", "--no-autocorrect"]).no_autocorrect
