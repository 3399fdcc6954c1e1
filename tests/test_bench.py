"""`python -m realtime.bench`: it measures what it says on a real clip, and refuses bad input in one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def bench(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "realtime.bench", *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_a_missing_clip_is_one_line_and_exit_2(tmp_path):
    proc = bench("--video", str(tmp_path / "none.mp4"))
    assert proc.returncode == 2 and proc.stderr.strip() == f"error: video file not found: {tmp_path / 'none.mp4'}"


def test_a_bad_camera_size_is_a_usage_error():
    proc = bench("--video", "x.mp4", "--camera-size", "640by480")
    assert proc.returncode == 2 and "WIDTHxHEIGHT" in proc.stderr


@pytest.mark.data
@pytest.mark.mediapipe
def test_the_benchmark_reports_every_number_on_a_short_clip(signademy, tmp_path):
    """Forty frames of the B clip, from the hand coming into view (a hand the frame's edge cuts is not read, so
    the clip's first 40 frames have none): the report holds the floor, both loops, the stages and the latencies."""
    cap = cv2.VideoCapture(str(signademy / "B" / "signademy_B.mp4"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 40)
    clip = tmp_path / "b40.avi"
    out = None
    for _ in range(40):
        ok, image = cap.read()
        assert ok
        out = out or cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, image.shape[1::-1])
        out.write(image)
    cap.release()
    assert out is not None
    out.release()
    proc = bench("--video", str(clip), "--rounds", "1")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    fps = report["fps"]
    assert set(fps) == {"floor", "floor, tracking at 960", "live loop", "live loop, stages one after the other"}
    assert all(v > 0 for v in fps.values())
    assert report["ratio"] == pytest.approx(fps["live loop"] / fps["floor"], rel=0.01)
    assert {"track", "crop", "classify", "read", "total"} <= set(report["stage_ms"])
    shown = report["letter_display_ms"]
    assert shown["letters"] >= 0 and (shown["p50"] is None) == (shown["letters"] == 0)
    camera = report["camera"]
    assert camera["size"] == "640x480" and camera["delivered"] == 40 and 0 < camera["processed"] <= 40
    latency = camera["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["max"]


def test_a_letters_display_delay_runs_from_its_first_frame_to_its_first_showing_in_place():
    from realtime.bench import DisplayDelay
    from realtime.capture import Frame
    from realtime.pipeline import FrameResult
    from realtime.words import WordEvent

    delay = DisplayDelay()
    for t, spelling in [(0.1, "C"), (0.2, "CE"), (0.3, "CA"), (0.4, "CAB")]:  # E became A: shown from 0.3
        delay.write(FrameResult(Frame(np.zeros((4, 4, 3), np.uint8), 0, t), spelling=spelling))
    ended = FrameResult(
        Frame(np.zeros((4, 4, 3), np.uint8), 0, 1.5), words=[WordEvent(1.5, "CAB", "CAB", (0.0, 0.15, 0.35))]
    )
    delay.write(ended)
    assert delay.seconds == pytest.approx([0.1, 0.15, 0.05])
