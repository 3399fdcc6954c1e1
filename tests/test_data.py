import cv2
import numpy as np
import pytest

from train.data import DatasetError, discover
from train.splits import signer_folds, signer_holdout


def make_dataset(root, layout):
    for letter, names in layout.items():
        (root / letter).mkdir(parents=True, exist_ok=True)
        for name in names:
            cv2.imwrite(str(root / letter / name), np.zeros((8, 8, 3), np.uint8))
    return root


def test_discover_letters_and_signers(tmp_path):
    root = make_dataset(tmp_path / "ds", {"A": ["1_A_1.jpg", "2_A_1.jpg"], "B": ["1_B_1.jpg"]})
    (root / "manifest.csv").write_text("ignored")
    samples = discover(root)
    assert [(s.letter, s.signer) for s in samples] == [("A", "ds/1"), ("A", "ds/2"), ("B", "ds/1")]


@pytest.mark.parametrize(
    "layout, extra, message",
    [
        ({}, None, "no letter folders"),
        ({"A": []}, None, "empty"),
        ({"A": ["1_A_1.jpg"]}, ("A", "notes.txt"), "not an image"),
        ({"A": ["noname.jpg"]}, None, "cannot tell the signer"),
        ({"A": ["1_A_1.jpg"], "misc": ["1_x.jpg"]}, None, "not a letter folder"),
    ],
)
def test_layout_errors_are_clear(tmp_path, layout, extra, message):
    root = tmp_path / "ds"
    root.mkdir()
    make_dataset(root, layout)
    if extra:
        (root / extra[0] / extra[1]).write_text("x")
    with pytest.raises(DatasetError, match=message):
        discover(root)


def test_missing_folder(tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        discover(tmp_path / "nope")


def test_signer_folds_never_share_a_signer(tmp_path):
    layout = {l: [f"{p}_{l}_{t}.jpg" for p in range(10) for t in range(2)] for l in "AB"}
    samples = discover(make_dataset(tmp_path / "ds", layout))
    folds = signer_folds(samples, 5, seed=1)
    seen = []
    for train, test in folds:
        train_signers = {samples[i].signer for i in train}
        test_signers = {samples[i].signer for i in test}
        assert not train_signers & test_signers
        assert len(train) + len(test) == len(samples)
        seen += test_signers
    assert sorted(seen) == sorted({s.signer for s in samples})  # each signer tested exactly once
    train, held = signer_holdout(samples, 0.3, seed=1)
    assert not {samples[i].signer for i in train} & {samples[i].signer for i in held}
    assert len({samples[i].signer for i in held}) == 3


@pytest.mark.data
def test_real_dataset_layout(aps360):
    samples = discover(aps360)
    assert len(samples) == 2026
    assert len({s.signer for s in samples}) == 76
    assert {s.letter for s in samples} == set("ABCDEFGHI")


def test_a_typical_handshape_is_a_real_hand_in_one_frame():
    from train.handshapes import normalized, typical

    rng = np.random.default_rng(0)
    hand = rng.normal(size=(21, 3)).astype(np.float32) * 50 + 200
    pts = normalized(hand)
    assert np.allclose(pts[0], 0) and np.isclose(np.linalg.norm(pts[9, :2]), 1)
    hands = [pts, pts + 0.01, pts + 1.0]
    assert typical(hands) is not None and np.array_equal(typical(hands), hands[1])  # the one nearest the median
