"""What a hostile but fair user tries: nothing of theirs is lost, nothing fails silently, every error is one line.

Each test names the defect it holds fixed (issue 19's numbering).
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import urllib.error
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from core.cli import NATIVE_NOISE, number
from core.errors import UsageError
from core.files import STALE_TEMP_S, atomic_write
from core.images import ImageError, check_header, read_header
from model import AI_CHECKPOINT
from model.checkpoint import load_checkpoint
from model.network import alexnet_features
from model.storage import CheckpointError
from realtime.capture import SourceLost, VideoFile
from realtime.recording import read_sidecar, sidecar_path
from tests.test_run_cli import ROOT, assert_one_line_error, count_frames, run_py
from train import __main__ as train_cli
from train import evaluate, features, label
from train.data import Sample


def noise_video(path: Path, frames: int = 40, finish: bool = True) -> Path:
    """A Motion-JPEG AVI of noise; ``finish=False`` ends the writing process as ``kill -9`` would: no index, no
    frame count in the header (large noisy frames, so they reach the disk before the end)."""
    code = (
        "import cv2, numpy as np, os, sys\n"
        f"w = cv2.VideoWriter({str(path)!r}, cv2.VideoWriter.fourcc(*'MJPG'), 30, (640, 480))\n"
        "rng = np.random.default_rng(0)\n"
        f"for i in range({frames}):\n"
        "    w.write(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8))\n"
        f"w.release() if {finish} else os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    return path


def clip(signademy: Path, letter: str) -> Path:
    return signademy / letter / f"signademy_{letter}.mp4"


def recording_replay(video: Path, rec: Path, frames: int) -> subprocess.Popen:
    """run.py replaying ``video`` at its own pace while recording to ``rec``, once ``frames`` are recorded."""
    proc = subprocess.Popen(
        [sys.executable, "run.py", "--video", str(video), "--no-window", "--record", str(rec)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 90
    while time.time() < deadline and len(read_sidecar(rec)) < frames and proc.poll() is None:
        time.sleep(0.2)
    return proc


# 1-3: outputs that would destroy an input, clash with each other, or overwrite a recording


@pytest.mark.parametrize("flag", ["--output", "--record"])
def test_an_output_that_is_the_input_video_is_refused_and_the_video_kept(tmp_path, flag):
    video = noise_video(tmp_path / "in.avi", frames=5)
    before = video.read_bytes()
    assert_one_line_error(run_py("--video", str(video), "--no-window", flag, str(video)), "would overwrite --video")
    assert video.read_bytes() == before


def test_events_on_the_recordings_sidecar_are_refused(tmp_path):
    proc = run_py(
        "--video", "x.mp4", "--no-window", "--record", str(tmp_path / "X.avi"), "--events", str(tmp_path / "X.jsonl")
    )
    assert_one_line_error(proc, "would write the same file as --events")
    assert not list(tmp_path.iterdir())


def test_an_existing_recording_is_never_overwritten(tmp_path):
    taken = tmp_path / "s.avi"
    taken.write_bytes(b"an earlier session")
    assert_one_line_error(run_py("--video", "x.mp4", "--no-window", "--record", str(taken)), "already exists")
    assert taken.read_bytes() == b"an earlier session"
    sidecar_path(tmp_path / "t.avi").write_text("{}\n")  # a sidecar alone counts too (a run recording right now)
    assert_one_line_error(
        run_py("--video", "x.mp4", "--no-window", "--record", str(tmp_path / "t.avi")), "already exists"
    )


# 4: recordings cut short by a hard kill are read by the project's own tools


def test_a_recording_without_an_index_is_counted_and_read_by_frame(tmp_path):
    rec = noise_video(tmp_path / "cut.avi", frames=40, finish=False)
    cap = cv2.VideoCapture(str(rec))
    assert cap.get(cv2.CAP_PROP_FRAME_COUNT) == 0  # what OpenCV says of such a file
    cap.release()
    recording = label.Recording(rec)
    assert not recording.indexed and recording.frame_count == count_frames(rec) >= 30
    later, earlier = recording.frame(20), recording.frame(5)  # a step back reads forward again
    assert np.array_equal(recording.frame(20), later) and not np.array_equal(earlier, later)
    recording.close()


def test_the_sidecar_keeps_every_complete_line_and_drops_a_torn_last_one(tmp_path):
    sidecar = sidecar_path(tmp_path / "s.avi")
    sidecar.write_text('{"frame": 0}\n{"frame": 1\n{"frame": 2}\n{"frame": 3, "ha')
    assert [r["frame"] for r in read_sidecar(tmp_path / "s.avi")] == [0, 2]


@pytest.mark.data
@pytest.mark.mediapipe
def test_a_recording_killed_hard_can_be_labeled_and_calibrated_from(signademy, tmp_path):
    import calibrate

    rec = tmp_path / "killed.avi"
    proc = recording_replay(clip(signademy, "B"), rec, frames=100)  # the held B is at frames 70-130
    proc.kill()
    proc.wait(timeout=30)
    assert cv2.VideoCapture(str(rec)).get(cv2.CAP_PROP_FRAME_COUNT) == 0
    assert label.main([str(rec), "--labels", "70-90:B", "--export", str(tmp_path / "ds")]) == 0
    assert len(list((tmp_path / "ds" / "B").glob("*.jpg"))) == 21
    assert (
        calibrate.main(["--video", str(rec), "--labels", "70-90:B", "--shots", "3", "--out", str(tmp_path / "p.pt")])
        == 0
    )


# 5: caches cut short by a killed run are recomputed, not fatal


def test_an_unreadable_hand_cache_is_recomputed(tmp_path, monkeypatch, caplog):
    def fake_find(paths, workers):
        yield [[[1.0] * 3] * 21 for _ in paths]

    monkeypatch.setattr(features, "_find_in_chunks", fake_find)
    photo = tmp_path / "1_A_1.jpg"
    photo.write_bytes(b"x")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "hands-v4.json").write_text('{"abc": [[1, 2')  # cut short mid-write
    hands = features.detect_hands([Sample(photo, "A", "1")], cache)
    assert hands[0] is not None and "unreadable" in caplog.text
    assert json.loads((cache / "hands-v4.json").read_text())  # whole again
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")]


def test_an_unreadable_feature_cache_counts_as_missing(tmp_path):
    bad = tmp_path / "features-x.pt"
    torch.save({"features": torch.zeros(100)}, bad)
    bad.write_bytes(bad.read_bytes()[:300])
    assert features._read_cache(bad, lambda p: torch.load(p, weights_only=True), None) is None


# 6: output paths are checked before the work


def test_training_output_under_a_file_is_refused_before_any_work(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = train_cli.main(["--data", str(tmp_path / "not-even-there"), "--out", str(blocker / "run")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: cannot write --out") and "\n" not in err


def test_evaluation_picture_path_is_checked_before_evaluating(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = evaluate.main(["--data", str(tmp_path / "nowhere"), "--confusion", str(blocker / "cm.png")])
    assert code == 2 and "cannot write --confusion" in capsys.readouterr().err


def test_label_export_under_a_file_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    rec = noise_video(tmp_path / "r.avi", frames=3)
    assert label.main([str(rec), "--labels", "0-1:A", "--export", str(blocker / "ds")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot write --export") and "\n" not in err


# 7, 17: a full disk fails loudly and names the file


@pytest.mark.data
@pytest.mark.mediapipe
def test_a_full_disk_fails_loudly_and_names_the_file(signademy):
    proc = run_py("--video", str(clip(signademy, "B")), "--no-window", "--fast", "--events", "/dev/full")
    assert proc.returncode == 1
    assert "error: the disk is full: /dev/full" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.data
@pytest.mark.mediapipe
def test_an_annotated_video_that_could_not_be_written_is_an_error(signademy, tmp_path):
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(tiny)], capture_output=True).returncode:
        pytest.skip("needs to mount a small tmpfs (root) to fill a disk")
    try:
        proc = run_py("--video", str(clip(signademy, "B")), "--no-window", "--fast", "--output", str(tiny / "a.mp4"))
    finally:
        subprocess.run(["umount", str(tiny)], check=True)
    assert proc.returncode == 1 and "could not be written" in proc.stderr and "a.mp4" in proc.stderr


# 8: a video cut short is not a complete replay


@pytest.mark.data
def test_a_truncated_video_ends_with_an_error_not_silence(signademy, tmp_path):
    data = clip(signademy, "C").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 4 // 10])
    source = VideoFile(cut, realtime=False)
    with pytest.raises(SourceLost, match=r"ended after \d+ of the 110 frames"):
        for _ in source:
            pass
    source.close()


@pytest.mark.data
@pytest.mark.mediapipe
def test_headless_replay_of_a_truncated_video_exits_non_zero(signademy, tmp_path):
    data = clip(signademy, "C").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 4 // 10])
    events = tmp_path / "e.jsonl"
    proc = run_py("--video", str(cut), "--no-window", "--fast", "--events", str(events))
    assert proc.returncode == 1 and "cut short" in proc.stderr
    assert events.exists()  # closed cleanly, with what was found


# 9: numbers that are not numbers


@pytest.mark.parametrize("flag", ["--window-s", "--no-letter-offset", "--release-s", "--min-hold-s", "--enter"])
@pytest.mark.parametrize("value", ["nan", "inf", "-1e9"])
def test_non_finite_and_out_of_range_flags_are_refused(flag, value):
    proc = run_py("--video", "x.mp4", "--no-window", flag, value)
    assert proc.returncode == 2 and f"argument {flag}" in proc.stderr and "Traceback" not in proc.stderr


def test_the_number_type_accepts_finite_values_in_range_only():
    seconds = number(0, 60)
    assert seconds("0.15") == 0.15 and seconds("0") == 0
    for bad in ("nan", "inf", "-0.1", "61", "ten"):
        with pytest.raises(ValueError):
            seconds(bad)
    with pytest.raises(ValueError):
        number(0, 1, low_open=True)("0")


# 12, 14: interrupted runs say so and exit 130


@pytest.mark.data
@pytest.mark.mediapipe
@pytest.mark.parametrize("signals", [[signal.SIGTERM], [signal.SIGINT, signal.SIGINT]])
def test_an_interrupted_replay_says_so_and_exits_130(signademy, tmp_path, signals):
    rec = tmp_path / "i.avi"
    proc = recording_replay(clip(signademy, "F"), rec, frames=20)
    for sig in signals:
        proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    assert len(read_sidecar(rec)) == count_frames(rec) >= 20  # both files end on the same frame


@pytest.mark.mediapipe
def test_ctrl_c_while_starting_up_is_one_line(tmp_path):
    video = noise_video(tmp_path / "v.avi", frames=5)
    proc = subprocess.Popen(
        [sys.executable, "run.py", "--video", str(video), "--no-window"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.8)  # importing torch and loading the model
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err and proc.returncode in (0, 130)  # 0: it had finished five frames already


def test_negative_shots_are_a_flag_error():
    proc = subprocess.run(
        [sys.executable, "calibrate.py", "--images", ".", "--shots", "-1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "--shots must be at least 1" in proc.stderr


# 13: a bad backbone file is the same one line as a bad model file


@pytest.mark.parametrize("content", [b"not weights at all", None])
def test_a_bad_backbone_file_is_one_line_without_unsafe_advice(tmp_path, capsys, content):
    bad = tmp_path / "bb.pth"
    if content is None:
        torch.save({"weight": torch.zeros(2)}, bad)
    else:
        bad.write_bytes(content)
    code = train_cli.main(["--data", str(tmp_path / "nowhere"), "--backbone", str(bad), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "AlexNet features weights" in err and "\n" not in err and "weights_only" not in err


# 15: no display


@pytest.mark.parametrize("display", [None, ":87"])  # none, or one whose X server is gone (Qt aborted, exit 134)
def test_window_mode_without_a_display_says_so_and_creates_nothing(tmp_path, display):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    if display:
        env["DISPLAY"] = display
    rec = tmp_path / "r.avi"
    proc = subprocess.run(
        [sys.executable, "run.py", "--video", "x.mp4", "--record", str(rec)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_one_line_error(proc, "no display")
    assert proc.returncode == 2 and not list(tmp_path.iterdir())


# 18: the C++ libraries' start-up lines stay out of the terminal


@pytest.mark.data
@pytest.mark.mediapipe
def test_native_start_up_lines_are_kept_out_unless_verbose(signademy):
    quiet = run_py("--video", str(clip(signademy, "A")), "--no-window", "--fast")
    assert quiet.returncode == 0
    assert not [line for line in quiet.stderr.splitlines() if NATIVE_NOISE.match(line.encode())], quiet.stderr
    loud = run_py("--video", str(clip(signademy, "A")), "--no-window", "--fast", "--verbose")
    assert [line for line in loud.stderr.splitlines() if NATIVE_NOISE.match(line.encode())]  # the filter's reach


# Issue 28: files and tools under attack


@pytest.mark.parametrize("ext", [".png", ".jpg", ".webp", ".bmp"])
def test_an_images_size_is_read_from_its_header(ext):
    data = cv2.imencode(ext, np.zeros((23, 37, 3), np.uint8))[1].tobytes()
    header = read_header(data)
    assert header is not None and (header.width, header.height) == (37, 23)
    assert read_header(data[:10]) is None  # cut short: not an image, never an exception


def test_a_tiff_or_gif_is_not_decoded_at_all():
    with pytest.raises(ImageError, match="JPEG, PNG, WebP or BMP"):
        check_header(b"II*\0" + b"\0" * 100, 10**6)
    with pytest.raises(ImageError, match="JPEG, PNG, WebP or BMP"):
        check_header(b"GIF89a" + b"\0" * 100, 10**6)


@pytest.mark.mediapipe
def test_a_photo_of_11000_pixels_in_a_dataset_is_evaluated_not_a_crash(tmp_path):
    """train, train.evaluate and calibrate.py --images died with exit 139 and no message on such a photo: the
    photo hand finder padded it past the side at which MediaPipe's OpenCV crashes."""
    for letter, size in (("A", (8, 11000)), ("B", (20, 11000)), ("C", (3600, 10900))):
        (tmp_path / "data" / letter).mkdir(parents=True)
        cv2.imwrite(str(tmp_path / "data" / letter / f"s1_{letter}_0.png"), np.full((*size, 3), 128, np.uint8))
    proc = subprocess.run(
        [sys.executable, "-m", "train.evaluate", "--data", str(tmp_path / "data"), "--model", "a-i"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode in (0, 2) and "Traceback" not in proc.stderr, proc.stderr[-2000:]


def test_a_symlink_is_written_through_and_what_is_not_a_file_is_refused(tmp_path):
    target = tmp_path / "real.txt"
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    atomic_write(link, lambda tmp: tmp.write_text("new"))
    assert link.is_symlink() and target.read_text() == "new"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/null"), tmp_path):
        with pytest.raises(UsageError, match="give the name of a file"):
            atomic_write(path, lambda tmp: tmp.write_text("x"))
    assert stat.S_ISFIFO(fifo.stat().st_mode) and stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("target", ["/dev/null", "fifo"])
def test_run_refuses_to_write_its_transcript_over_a_device_or_fifo(tmp_path, target):
    path = Path(target) if target.startswith("/") else tmp_path / target
    if not path.exists():
        os.mkfifo(path)
    proc = run_py("--video", "x.mp4", "--no-window", "--transcript", str(path))
    assert_one_line_error(proc, "not a regular file")


def test_calibration_output_in_an_unwritable_place_is_refused_before_the_work(tmp_path):
    """As root, permission bits said yes and the whole calibration ran before the write failed."""
    proc = subprocess.run(
        [sys.executable, "calibrate.py", "--images", str(tmp_path), "--out", "/proc/personal.pt"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_one_line_error(proc, "cannot write --out /proc/personal.pt")


def test_an_absurd_crop_margin_in_a_checkpoint_is_refused_at_load(tmp_path):
    payload = torch.load(AI_CHECKPOINT, weights_only=True)
    payload["preprocess"]["margin"] = 1e9
    bad = tmp_path / "margin.pt"
    torch.save(payload, bad)
    with pytest.raises(CheckpointError, match="crop margin 1000000000.0 is out of range"):
        load_checkpoint(bad)


def test_training_offline_without_the_backbone_says_what_to_pass(monkeypatch):
    import torchvision

    def offline(**_: object) -> None:
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.models, "alexnet", offline)
    with pytest.raises(CheckpointError, match="--backbone FILE .* ASL_SHARED"):
        alexnet_features(None)


def test_a_confusion_picture_in_an_unknown_format_is_a_flag_error(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "train.evaluate", "--data", str(tmp_path), "--confusion", str(tmp_path / "cm.xyz")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "give a picture name ending in .png" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_labeler_under_a_dead_display_is_one_line(tmp_path):
    """A DISPLAY whose X server is gone aborted the labeler in Qt (exit 134)."""
    env = {k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"}
    env["DISPLAY"] = ":87"  # no X server there
    video = noise_video(tmp_path / "n.avi", frames=3)
    proc = subprocess.run(
        [sys.executable, "-m", "train.label", str(video)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert_one_line_error(proc, "no display")


def test_temporary_files_left_by_killed_runs_are_removed_from_the_cache(tmp_path):
    stale, fresh = tmp_path / ".hands-v4.json.k1.tmp", tmp_path / ".features-x.pt.k2.tmp"
    for path in (stale, fresh):
        path.write_bytes(b"\0" * 1000)
    os.utime(stale, (time.time() - 2 * STALE_TEMP_S,) * 2)
    assert features.detect_hands([], cache_dir=tmp_path) == []
    assert not stale.exists() and fresh.exists()  # a write in progress elsewhere is left alone


@pytest.mark.mediapipe
def test_a_video_one_pixel_high_is_replayed_without_a_traceback(tmp_path):
    """A 2000x1 video was scaled for tracking to a height of 0: a traceback from cv2.resize."""
    path = tmp_path / "flat.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 30, (2000, 1))
    for _ in range(5):
        writer.write(np.full((1, 2000, 3), 100, np.uint8))
    writer.release()
    proc = run_py("--video", str(path), "--no-window", "--fast")
    assert proc.returncode == 0 and "hand in 0" in proc.stdout and "Traceback" not in proc.stderr
