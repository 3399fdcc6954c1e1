"""`python -m realtime.bench`: it measures what it says on a real clip, and refuses bad input in one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
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
    """Forty frames of the B clip: the report holds the floor, both loops, the stages and the latencies."""
    cap = cv2.VideoCapture(str(signademy / "B" / "signademy_B.mp4"))
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
    assert {"track", "crop", "classify", "total"} <= set(report["stage_ms"])
    camera = report["camera"]
    assert camera["size"] == "640x480" and camera["delivered"] == 40 and 0 < camera["processed"] <= 40
    latency = camera["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["max"]
