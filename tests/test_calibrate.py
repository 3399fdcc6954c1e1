"""calibrate.py: personalising improves a weak model on the calibrated signer; bad shots are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import calibrate
from model import default_backbone_weights
from model.calibration import CalibrationError, Shot, check_shots
from model.checkpoint import load_checkpoint
from train import __main__ as train_cli
from train import evaluate


def signer_folder(aps360: Path, dest: Path, signer: str, takes: set[str]) -> Path:
    for letter in "ABCDEFGHI":
        (dest / letter).mkdir(parents=True, exist_ok=True)
        for photo in (aps360 / letter).glob(f"{signer}_{letter}_*.jpg"):
            if photo.stem.split("_")[2] in takes:
                (dest / letter / photo.name).symlink_to(photo)
    return dest


@pytest.fixture(scope="module")
def weak_model(tmp_path_factory):
    """A deliberately weak model: one epoch on two photos per letter of a few signers."""
    from model import shared_dir

    aps360 = shared_dir() / "data/aps360_gestures"
    if not aps360.is_dir() or default_backbone_weights() is None:
        pytest.skip("needs ../shared (aps360_gestures and the AlexNet weights)")
    out = tmp_path_factory.mktemp("weak")
    assert (
        train_cli.main(
            [
                "--data",
                str(aps360),
                "--limit",
                "2",
                "--epochs",
                "1",
                "--views",
                "1",
                "--val-fraction",
                "0",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    return out / "asl_letters.pt"


def accuracy(model: Path, data: Path, capsys) -> float:
    assert evaluate.main(["--data", str(data), "--model", str(model)]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])["accuracy"]


@pytest.mark.data
@pytest.mark.mediapipe
def test_calibration_from_images_improves_a_weak_model(weak_model, aps360, tmp_path, capsys):
    shots = signer_folder(aps360, tmp_path / "shots", "100", {"1", "2"})
    held = signer_folder(aps360, tmp_path / "held", "100", {"3"})
    before = accuracy(weak_model, held, capsys)
    personal = tmp_path / "personal.pt"
    assert (
        calibrate.main(["--images", str(shots), "--model", str(weak_model), "--out", str(personal), "--signer", "p100"])
        == 0
    )
    assert "run.py --camera 0 --model" in capsys.readouterr().out
    after = accuracy(personal, held, capsys)
    assert after > before + 0.2, (before, after)
    info = load_checkpoint(personal).info["calibration"]
    assert info["signer"] == "p100" and info["shots"]["A"] == 2


@pytest.mark.data
@pytest.mark.mediapipe
def test_calibration_from_a_labeled_recording(weak_model, tmp_path, capsys):
    from model import shared_dir

    clip = shared_dir() / "data/video_signademy/B/signademy_B.mp4"
    out = tmp_path / "p.pt"
    assert (
        calibrate.main(
            [
                "--video",
                str(clip),
                "--labels",
                "70-130:B",
                "--shots",
                "4",
                "--model",
                str(weak_model),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert load_checkpoint(out).info["calibration"]["shots"] == {"B": 4}


def test_a_recording_labeled_with_j_ranges_teaches_the_signers_own_j(weak_model, tmp_path, capsys):
    """The J clip's two Js, labeled as ranges: the checkpoint keeps one drawn path for each, and the motion
    recogniser of a pipeline on that checkpoint loads them."""
    from model import shared_dir
    from model.classifier import LetterClassifier
    from realtime.motion import POINTS
    from realtime.pipeline import Pipeline

    clip = shared_dir() / "data/video_signademy/J/signademy_J.mp4"
    out = tmp_path / "p.pt"
    args = ["--video", str(clip), "--labels", "44-62:J,100-118:J", "--model", str(weak_model), "--out", str(out)]
    assert calibrate.main(args) == 0
    assert "0 shots, 2 J" in capsys.readouterr().out
    info = load_checkpoint(out).info
    assert info["calibration"]["moving_examples"] == {"J": 2}
    assert [len(p) for p in info["moving_shapes"]["J"]] == [POINTS, POINTS]
    with Pipeline(LetterClassifier(out, device="cpu")) as pipeline:
        assert len(pipeline.motion._drawn["J"]) == 3 * len(pipeline.motion._drawn["Z"])  # built-in + 2 personal


def test_no_shots_and_unknown_letters_are_refused(tmp_path, capsys):
    import numpy as np

    shot = Shot(np.zeros((8, 8, 3), np.uint8), np.zeros((21, 3)), "A")
    assert check_shots([shot], ["A", "B"]) == {"A": 1}  # one shot a letter is enough to calibrate it
    with pytest.raises(CalibrationError, match="does not know K"):
        check_shots([shot, shot, Shot(shot.image, shot.landmarks, "K")], ["A", "B", "none"])
    with pytest.raises(CalibrationError, match="no shots"):
        check_shots([], ["A"])


@pytest.mark.data
@pytest.mark.mediapipe
def test_calibrate_cli_error_is_one_line(aps360, tmp_path, capsys):
    one = tmp_path / "one" / "Z"  # a letter the A-I model does not know
    one.mkdir(parents=True)
    for photo in sorted((aps360 / "A").glob("100_A_*.jpg"))[:2]:
        (one / photo.name.replace("_A_", "_Z_")).symlink_to(photo)
    args = ["--images", str(one.parent), "--model", "model/weights/asl_letters.pt", "--out", str(tmp_path / "x.pt")]
    assert calibrate.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: the model does not know Z") and "\n" not in err
    assert not (tmp_path / "x.pt").exists()


def test_calibrate_without_a_camera_says_what_to_try(capsys):
    assert calibrate.main(["--camera", "97", "--out", "never.pt"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: camera 97 will not open") and "\n" not in err
    assert not Path("never.pt").exists()


def test_a_personal_model_that_cannot_be_written_is_kept_in_the_temp_folder(tmp_path, monkeypatch):
    """Issue 35: --out on a full disk was a traceback after the whole calibration, the work lost. torch.save
    reports a full disk as a RuntimeError."""
    from core.errors import RunFailure

    monkeypatch.setattr(calibrate.tempfile, "gettempdir", lambda: str(tmp_path))
    written = []

    def save(path, personal):
        if path.name == "personal.pt":
            raise RuntimeError("[enforce fail at inline_container.cc:595] . PytorchStreamWriter failed writing file")
        written.append(path)

    with pytest.raises(RunFailure, match="cannot write .*personal.pt .*PytorchStreamWriter.*kept in"):
        calibrate.save_or_rescue(tmp_path / "out" / "personal.pt", object(), save)
    assert len(written) == 1 and written[0].parent == tmp_path and written[0].name.startswith("personal-")

    def never(path, personal):
        raise OSError(28, "No space left on device", str(path))

    with pytest.raises(RunFailure, match="nor .*free some disk space"):
        calibrate.save_or_rescue(tmp_path / "personal.pt", object(), never)
