import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from train import label
from train.labels import LabelError, Range, label_at, parse_labels, read_labels, set_range, write_labels

ROOT = Path(__file__).resolve().parent.parent


def test_label_file_round_trip(tmp_path):
    ranges = [Range(40, 109, "A"), Range(0, 10, "none"), Range(120, 130, "K")]
    path = tmp_path / "s.labels.csv"
    write_labels(path, ranges)
    assert read_labels(path) == sorted(ranges)
    assert "40,109,A" in path.read_text()


def test_inline_ranges_and_errors():
    assert parse_labels("40-109:a,110-131:none") == [Range(40, 109, "A"), Range(110, 131, "none")]
    for bad, msg in [
        ("1-5:A,4-9:B", "overlap"),
        ("5-1:A", "bad frame range"),
        ("1-5:AB", "unknown label"),
        ("x:A", "cannot read"),
    ]:
        with pytest.raises(LabelError, match=msg):
            parse_labels(bad)


def test_set_range_trims_splits_merges_and_erases():
    r = [Range(0, 99, "A")]
    r = set_range(r, 40, 59, "B")
    assert r == [Range(0, 39, "A"), Range(40, 59, "B"), Range(60, 99, "A")]
    r = set_range(r, 60, 70, "B")
    assert r[1] == Range(40, 70, "B")
    r = set_range(r, 0, 10, None)
    assert label_at(r, 5) is None and label_at(r, 11) == "A"


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """A real clip re-recorded through run.py, so it has a sidecar."""
    from model import shared_dir

    clip = shared_dir() / "data/video_signademy/C/signademy_C.mp4"
    if not clip.is_file():
        pytest.skip(f"needs {clip}")
    rec = tmp_path_factory.mktemp("rec") / "anna.avi"
    proc = subprocess.run(
        [sys.executable, "run.py", "--video", str(clip), "--no-window", "--fast", "--record", str(rec)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return rec


@pytest.mark.data
@pytest.mark.mediapipe
def test_headless_export_writes_dataset_layout(recording, tmp_path, capsys):
    out = tmp_path / "ds"
    assert label.main([str(recording), "--labels", "50-69:C,0-19:none", "--export", str(out)]) == 0
    files = sorted((out / "C").glob("*.jpg"))
    assert len(files) == 20 and not (out / "none").exists()
    assert files[0].name.startswith("anna_C_")
    assert cv2.imread(str(files[0])).shape == (label.EXPORT_SIZE, label.EXPORT_SIZE, 3)
    assert "exported 20 crops" in capsys.readouterr().out
    from train.data import discover

    assert {s.letter for s in discover(out)} == {"C"}  # python -m train reads it as it is


@pytest.mark.data
@pytest.mark.mediapipe
def test_export_without_sidecar_tracks_hands_itself(recording, tmp_path):
    bare = tmp_path / "bare.avi"
    bare.write_bytes(recording.read_bytes())  # no .jsonl beside it
    rec = label.Recording(bare)
    assert not rec.sidecar
    counts = label.export(rec, [Range(60, 64, "C")], tmp_path / "ds", "bare")
    assert counts == {"no hand": 0, "C": 5}


@pytest.mark.data
@pytest.mark.mediapipe
def test_labels_past_the_end_and_empty_recordings_are_refused(recording, tmp_path, capsys):
    assert label.main([str(recording), "--labels", "100-500:C", "--export", str(tmp_path)]) == 2
    assert "past the end" in capsys.readouterr().err
    empty = tmp_path / "empty.avi"
    empty.write_bytes(b"")
    assert label.main([str(empty), "--labels", "1-2:A", "--export", str(tmp_path)]) == 2
    assert "no readable frames" in capsys.readouterr().err


def test_a_header_line_is_accepted_and_non_utf8_bytes_are_one_clear_error(tmp_path):
    """Issue 35: a header got "expected first,last,label, got 'first,last,label'"; Latin-1 bytes a traceback."""
    assert parse_labels("first,last,label\n40,109,A\n") == [Range(40, 109, "A")]
    latin = tmp_path / "labels.csv"
    latin.write_bytes(b"40,109,A\n# caf\xe9\n")
    with pytest.raises(LabelError, match="not UTF-8 text"):
        read_labels(latin)
