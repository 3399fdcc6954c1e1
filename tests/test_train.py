"""Training and evaluation commands end to end, on small slices of the shared data."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from model import AI_CHECKPOINT, ALPHABET_CHECKPOINT, default_backbone_weights
from model.checkpoint import load_checkpoint
from model.network import FEATURE_SHAPE, HeadConfig
from train import __main__ as train_cli
from train import evaluate, experiment
from train.data import DatasetError, Sample
from train.features import FeatureSet
from train.fit import FitConfig, fit_head, smoothed_targets


@pytest.mark.data
@pytest.mark.mediapipe
def test_one_epoch_smoke_training_writes_checkpoint_metrics_and_plots(aps360, tmp_path):
    if default_backbone_weights() is None:
        pytest.skip("needs the shared AlexNet weights")
    out = tmp_path / "run"
    code = train_cli.main(
        [
            "--data",
            str(aps360),
            "--limit",
            "6",
            "--epochs",
            "1",
            "--views",
            "2",
            "--val-fraction",
            "0.2",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    ckpt = load_checkpoint(out / "asl_letters.pt")
    assert ckpt.classes == list("ABCDEFGHI")  # aps360 has no other letters: no no-letter class
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["validation"]["images"] > 0 and 0 <= metrics["validation"]["accuracy"] <= 1
    assert ckpt.info["metrics"]["validation"]["accuracy"] == metrics["validation"]["accuracy"]
    assert (out / "curves.png").stat().st_size > 1000 and (out / "confusion.png").stat().st_size > 1000


def test_training_rejects_a_bad_dataset(tmp_path, capsys):
    (tmp_path / "A").mkdir()
    assert train_cli.main(["--data", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "empty" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--repeats", "2"], "--repeats needs --cv"),
        (["--cv", "5", "--repeats", "0"], "must be at least 1"),
        (["--letters", "ABC", "--expert-letters", "AK"], "--expert-letters must be some of --letters"),
        (["--expert-letters", "AB", "--no-reject"], "needs the no-letter class"),
        (["--expert-data", "elsewhere"], "--expert-data needs --expert-letters"),
        (["--expert-letters", "AB", "--expert-data", "elsewhere"], "must be some of the --data folders"),
    ],
)
def test_bad_training_flags_give_one_line_errors(tmp_path, capsys, flags, message):
    with pytest.raises(SystemExit) as exit_:
        train_cli.main(["--data", str(tmp_path), *flags])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.data
@pytest.mark.mediapipe
def test_shipped_model_on_photos_of_signers_it_never_saw(aps360, tmp_path, capsys):
    """The aps360 signers held out of the shipped model's training, through the evaluate command: a floor."""
    held_out = {s.split("/")[-1] for s in load_checkpoint(AI_CHECKPOINT).info["metrics"]["validation"]["signers"]}
    data = tmp_path / "unseen"
    for letter in "ABCDEFGHI":
        (data / letter).mkdir(parents=True)
        for photo in sorted((aps360 / letter).glob("*.jpg")):
            if photo.name.split("_")[0] in held_out:
                (data / letter / photo.name).symlink_to(photo)
    assert evaluate.main(["--data", str(data), "--model", "a-i", "--confusion", str(tmp_path / "cm.png")]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["images"] >= 200 and result["hands_found"] >= 0.98 * result["images"]
    assert result["accuracy"] >= 0.95
    assert set(result["per_letter"]) == set("ABCDEFGHI")
    assert result["classes"] == load_checkpoint(AI_CHECKPOINT).classes
    assert result["confusable_groups"]["A/E/M/N/S/T"]["images"] > 0
    assert (tmp_path / "cm.png").is_file()


@pytest.mark.parametrize(
    "path, letters", [(AI_CHECKPOINT, "ABCDEFGHI"), (ALPHABET_CHECKPOINT, "ABCDEFGHIKLMNOPQRSTUVWXY")]
)
def test_shipped_checkpoints_are_self_contained(path, letters):
    ckpt = load_checkpoint(path)
    assert ckpt.letters == list(letters) and ckpt.classes[-1] == "none"
    assert len(ckpt.net.backbone.state_dict()) == 10  # AlexNet conv weights travel inside the file
    assert "metrics" in ckpt.info


@pytest.mark.data
@pytest.mark.mediapipe
def test_cross_validation_reports_the_no_letter_offset_trade(massey, tmp_path, capsys):
    """Signer CV on a few massey photos of A-C (known) and K, L (no letter): the offset table runs from
    'rejects most' to 'never says no letter', monotonically, as lowering the no-letter logit must."""
    if default_backbone_weights() is None:
        pytest.skip("needs the shared AlexNet weights")
    data = tmp_path / "data"
    for letter in "ABCKL":
        (data / letter).mkdir(parents=True)
        for signer in ("hand1", "hand2", "hand3", "hand5"):
            photo = sorted((massey / letter).glob(f"{signer}_*"))[0]
            (data / letter / photo.name).symlink_to(photo)
    cv2.imwrite(str(data / "L" / "hand5_L_blank.jpg"), np.full((200, 200, 3), 90, np.uint8))  # no hand found
    out = tmp_path / "cv"
    assert (
        train_cli.main(
            [
                "--data",
                str(data),
                "--letters",
                "ABC",
                "--cv",
                "2",
                "--epochs",
                "2",
                "--views",
                "1",
                "--no-letter-offset",
                "1.5",
                "--expert-letters",
                "AB",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["classes"] == ["A", "B", "C", "none"] and summary["head"]["no_letter_offset"] == 1.5
    assert summary["expert"] == {"letters": ["A", "B"], "data": ["data"], "weight": 1.0}
    assert summary["head"]["shape_depth"]  # finger distances in 3D unless --flat-hand-shape
    table = summary["no_letter_offsets"]
    assert [row["offset"] for row in table][-1] == "never" and len(table) == len(experiment.OFFSETS)
    accuracy = [row["accuracy"] for row in table]
    rejection = [row["rejection_rate"] for row in table]
    assert accuracy == sorted(accuracy) and rejection == sorted(rejection, reverse=True)
    assert rejection[-1] > 0  # the photo with no hand found is given no letter, whatever the offset
    per_letter = summary["per_letter"]
    assert sorted(per_letter) == list("ABCKL") and per_letter["L"] >= 0.2  # 1 of 5 L photos has no hand
    trained = next(row for row in table if row["offset"] == 1.5)
    assert trained["accuracy"] == pytest.approx(np.mean([per_letter[k] for k in "ABC"]), abs=1e-3)
    assert (out / "cv.json").is_file() and (out / "cv_confusion.png").is_file()
    assert (
        train_cli.main(
            [
                "--data",
                str(data),
                "--letters",
                "ABC",
                "--cv",
                "2",
                "--epochs",
                "1",
                "--views",
                "1",
                "--no-reject",
                "--repeats",
                "2",
                "--flat-hand-shape",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])  # other letters are left out
    assert not summary["head"]["shape_depth"]
    assert summary["classes"] == ["A", "B", "C"] and "no_letter_offsets" not in summary
    assert len(summary["fold_accuracy"]) == 2 and len(summary["repeat_accuracy"]) == 2  # two heads a fold
    assert summary["mean_accuracy"] == pytest.approx(np.mean(summary["repeat_accuracy"]), abs=1e-3)


def test_sets_with_fewer_views_are_padded_and_the_padding_never_trains():
    def feature_set(n: int, views: int, letter: str) -> FeatureSet:
        samples = [Sample(Path(f"{letter}{i}.jpg"), letter, f"s{i}") for i in range(n)]
        return FeatureSet(samples, torch.rand(n, views, *FEATURE_SHAPE).half(), torch.rand(n, views, 63), [])

    data = FeatureSet.concat([feature_set(4, 3, "A"), feature_set(2, 1, "B")])
    assert data.features.shape[:2] == (6, 3) and data.views.tolist() == [3, 3, 3, 3, 1, 1]
    assert not data.features[4:, 1:].any() and not data.landmarks[4:, 1:].any()
    split = experiment.make_split(data, list(range(6)), ["A", "B"])
    split.features[4:, 1:] = float("nan")  # a padded view that trained would make the loss NaN
    _, history = fit_head(HeadConfig(2), FitConfig(epochs=2, batch_size=4), split)  # batches of real rows only
    assert np.isfinite(history[-1]["train_loss"])


def test_the_expert_learns_from_its_own_datasets_only(monkeypatch):
    def feature_set(dataset: str, letters: str) -> FeatureSet:
        samples = [Sample(Path(f"{lt}{i}.jpg"), lt, f"{dataset}/s{i}") for i in range(3) for lt in letters]
        n = len(samples)
        return FeatureSet(samples, torch.rand(n, 1, *FEATURE_SHAPE).half(), torch.rand(n, 1, 63), [])

    data = FeatureSet.concat([feature_set("photos", "ABK"), feature_set("train/webcam", "ABKL")])
    trained: list[int] = []

    def fit_and_count(config, fit, split, *args, **kwargs):
        trained.append(len(split.labels))
        return fit_head(config, fit, split, *args, **kwargs)

    monkeypatch.setattr(experiment, "fit_head", fit_and_count)
    classes, expert_classes = ["A", "B", "K", "none"], ["A", "B", "none"]
    plan = experiment.ExpertPlan(expert_classes, HeadConfig(3, no_letter_offset=1.0), ("photos",), 1.0)
    head, _ = experiment.fit_letters(
        HeadConfig(4), FitConfig(epochs=1), data, list(range(len(data.samples))), classes, plan, torch.device("cpu")
    )
    assert trained == [21, 9]  # the main head on both sets, the expert on the photos
    assert head.expert is not None and head.config.expert_map == (0, 1, 2, 2)
    info = {"expert": plan.about()}  # as training stores it
    main, again = experiment.ExpertPlan.of_recipe(head.config, info)  # how the calibration study retrains it
    assert main == HeadConfig(4) and again == plan


def test_label_smoothing_can_spare_the_no_letter_class():
    targets = smoothed_targets(4, 0.3, spare_no_letter=True)  # letters A, B, C and "none"
    assert torch.allclose(targets.sum(1), torch.ones(4))
    assert targets[3].tolist() == [0, 0, 0, 1]  # another sign is taught "none" outright
    assert not targets[:3, 3].any()  # and no letter is taught a little "none"
    assert targets[0, 0] == pytest.approx(0.8) and targets[0, 1] == pytest.approx(0.1)
    logits, labels = torch.randn(5, 4), torch.tensor([0, 1, 2, 3, 1])
    plain = smoothed_targets(4, 0.3, spare_no_letter=False)  # the usual smoothing over every class
    assert torch.nn.functional.cross_entropy(logits, plain[labels]) == pytest.approx(
        torch.nn.functional.cross_entropy(logits, labels, label_smoothing=0.3).item(), rel=1e-5
    )


def test_fit_settings_of_older_checkpoints_still_load():
    older = {"epochs": 3, "label_smoothing": 0.1, "no_letter_class": True, "a_setting_from_elsewhere": 1}
    assert FitConfig.from_dict(older) == FitConfig(epochs=3, label_smoothing=0.1, spare_no_letter=True)
    assert FitConfig.from_dict(FitConfig(seed=4).to_dict()) == FitConfig(seed=4)


def test_hand_cache_follows_file_contents_not_paths_or_times(tmp_path, monkeypatch):
    """A copied or re-provisioned dataset (new paths, new mtimes) reuses the cached hands; an edited photo does not."""
    from train import features

    looked_at: list[Path] = []

    def fake_find(paths, workers):
        looked_at.extend(paths)
        yield [[[float(len(p.read_bytes()))] * 3] * 21 for p in paths]

    monkeypatch.setattr(features, "_find_in_chunks", fake_find)
    first = tmp_path / "first" / "A"
    first.mkdir(parents=True)
    for take in (1, 2):
        (first / f"1_A_{take}.jpg").write_bytes(bytes([take]) * (10 + take))
    copy = tmp_path / "copy" / "A"
    copy.mkdir(parents=True)
    for f in first.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())

    def hands(folder: Path) -> list[float]:
        found = features.detect_hands([Sample(f, "A", "1") for f in sorted(folder.iterdir())], tmp_path / "cache")
        return [h[0, 0] for h in found]

    assert hands(first) == [11, 12] and len(looked_at) == 2
    assert hands(copy) == [11, 12] and len(looked_at) == 2
    (copy / "1_A_2.jpg").write_bytes(b"an edited photo")
    assert hands(copy) == [11, 15] and looked_at[2:] == [copy / "1_A_2.jpg"]
    with pytest.raises(DatasetError, match="cannot read image .*gone.jpg"):  # deleted after discovery
        features.detect_hands([Sample(tmp_path / "gone.jpg", "A", "1")], tmp_path / "cache")


def test_confusable_groups_count_errors_within_and_outside_the_group():
    from train.metrics import NO_HAND, group_confusions, letter_confusion

    letters = ["E", "E", "E", "S", "K", "J"]
    predicted = ["E", "S", "B", "S", "R", "none"]
    groups = group_confusions(letters, predicted, known=set("BEKRS"))
    assert groups["A/E/M/N/S/T"] == {"images": 4, "accuracy": 0.5, "within_group_errors": 1, "other_errors": 1}
    assert groups["K/R/U/V"] == {"images": 1, "accuracy": 0.0, "within_group_errors": 1, "other_errors": 0}
    assert "I/J/Y" not in groups  # J is not known: it scores by rejection, not here
    cm, rows, cols = letter_confusion(letters, predicted, ["B", "E", "K", "R", "S", "none"])
    assert rows == ["E", "J", "K", "S"] and cols[-1] == NO_HAND
    assert cm[rows.index("J"), cols.index("none")] == 1 and cm.sum() == len(letters)
