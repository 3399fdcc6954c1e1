import numpy as np
import pytest

from core.hand import Hand
from realtime.photos import PhotoHandFinder
from realtime.tracking import pick_signing_hand


def test_every_photo_view_maps_photo_pixels_onto_the_same_view_pixels():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)
    ys, xs = np.mgrid[0:40:7, 0:60:7]
    points = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32)
    views = [make_view(photo) for group in PhotoHandFinder.views() for make_view in group]
    assert len(views) == len(PhotoHandFinder.PADS) + len(PhotoHandFinder.OTHER_PADS) + 2
    for view, to_view in views:
        mapped = np.rint(points @ to_view[:, :2].T + to_view[:, 2]).astype(int)
        assert (view[mapped[:, 1], mapped[:, 0]] == photo[points[:, 1].astype(int), points[:, 0].astype(int)]).all()


def hand_at(x: float, y: float, label: str = "Right") -> Hand:
    pts = np.zeros((21, 3), np.float32)
    pts[:, 0] = x + np.linspace(0, 50, 21)
    pts[:, 1] = y + np.linspace(0, 80, 21)
    return Hand(pts, label, 0.9)


def test_signing_hand_is_the_raised_one_and_holds_against_a_small_rise():
    low, high = hand_at(100, 400), hand_at(400, 100)
    assert pick_signing_hand([low, high]) is high
    assert pick_signing_hand([low, high], prefer="Left") is high  # no left hand: any hand
    assert pick_signing_hand([hand_at(100, 400, "Left"), high], prefer="Left").landmarks[0, 0] == 100
    current, rival = hand_at(100, 200), hand_at(400, 180)  # rival higher by less than half a hand
    assert pick_signing_hand([current, rival], previous=current.box(0.25)) is current
    assert pick_signing_hand([current, hand_at(400, 100)], previous=current.box(0.25)).landmarks[0, 0] == 400


@pytest.mark.data
@pytest.mark.mediapipe
def test_photo_hands_found_in_worker_processes_match_one_process(aps360, tmp_path, monkeypatch):
    """Hand finding on photos shares the work among processes; the landmarks must not depend on that, and a
    damaged photo must still give the dataset error, not a worker's traceback."""
    from train import features
    from train.data import DatasetError, discover

    samples = [s for s in discover(aps360) if s.signer.endswith("/1")][:6]
    monkeypatch.setattr(features, "PARALLEL_FROM", 0)
    serial = features.detect_hands(samples, tmp_path / "one", workers=1)
    parallel = features.detect_hands(samples, tmp_path / "two", workers=2)
    assert sum(h is not None for h in serial) >= 5
    assert all((a is None and b is None) or np.array_equal(a, b) for a, b in zip(serial, parallel))

    broken = tmp_path / "bad" / "A" / "7_A_1.jpg"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"not a jpeg")
    with pytest.raises(DatasetError, match="cannot read image"):
        features.detect_hands([*samples, *discover(tmp_path / "bad")], tmp_path / "three", workers=2)


@pytest.mark.mediapipe
def test_a_hand_the_frame_cuts_off_is_resting_not_spelling():
    """Issue 35: hands resting on the lap, cut by the frame's bottom edge, were guessed as letters."""
    from model import AI_CHECKPOINT
    from model.classifier import LetterClassifier
    from realtime.capture import Frame
    from realtime.pipeline import Pipeline, Tracked

    frame = Frame(np.full((480, 640, 3), 120, np.uint8), 0, 0.0)
    inside, cut = hand_at(300, 200), hand_at(300, 430)  # the second reaches 30 px below the frame's edge
    assert inside.share_outside(640, 480) == 0 and 0.25 < cut.share_outside(640, 480) < 0.5
    with Pipeline(LetterClassifier(AI_CHECKPOINT, device="cpu")) as pipeline:
        assert pipeline.finish(Tracked(frame, [cut], 0.0)).hand is None
        above = hand_at(300, -30)  # cut by the top edge: the highest hand, yet not the signing one
        assert pipeline.finish(Tracked(frame, [above, inside], 0.0)).hand.found is inside
        assert pipeline.finish(Tracked(frame, [inside], 0.0)).hand is not None
