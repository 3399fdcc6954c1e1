import cv2
import numpy as np
import pytest

from core.crop import Box, crop_hand, crop_square, hand_box
from core.landmarks import is_left_hand
from model.augment import Augment
from model.preprocess import Preprocess
from realtime.tracking import BoxSmoother
from tests.synthetic import hand_landmarks


def square_landmarks(x0, y0, x1, y1):
    xs = np.linspace(x0, x1, 21)
    ys = np.linspace(y0, y1, 21)
    return np.stack([xs, ys, np.zeros(21)], axis=1)


def test_hand_box_is_square_with_margin_around_longer_side():
    box = hand_box(square_landmarks(100, 200, 140, 300), margin=0.25)
    assert (box.cx, box.cy) == (120, 250)
    assert box.side == pytest.approx(100 * 1.5)
    x0, y0, x1, y1 = box.xyxy
    assert x1 - x0 == y1 - y0


def test_crop_inside_frame_matches_pixels():
    frame = np.zeros((100, 100, 3), np.uint8)
    frame[40:60, 40:60] = 200
    crop = crop_square(frame, Box(50, 50, 20), size=20)
    assert crop.shape == (20, 20, 3)
    assert crop.mean() == pytest.approx(200, abs=1)


def test_crop_past_edge_is_padded_with_edge_pixels():
    frame = np.zeros((100, 100, 3), np.uint8)
    frame[:, :50] = 255  # left half white
    crop = crop_square(frame, Box(0, 50, 40), size=40)  # half the box lies left of the frame
    assert crop.shape == (40, 40, 3)
    assert crop[:, :15].min() == 255  # outside the frame: the white edge repeated, not black


def test_crop_shrinks_large_box_without_aliasing_to_size():
    frame = np.random.default_rng(0).integers(0, 255, (1000, 1000, 3), dtype=np.uint8)
    crop = crop_square(frame, Box(500, 500, 800), size=224)
    assert crop.shape == (224, 224, 3)
    assert abs(float(crop.mean()) - float(frame[100:900, 100:900].mean())) < 2


def test_crop_hand_maps_landmarks_into_crop_and_flips_with_image():
    lms = square_landmarks(100, 100, 200, 200)
    frame = np.zeros((400, 400, 3), np.uint8)
    box = hand_box(lms, margin=0.0)
    crop = crop_hand(frame, lms, box, size=50)
    assert crop.landmarks[0, :2] == pytest.approx((0, 0), abs=0.01)
    assert crop.landmarks[-1, :2] == pytest.approx((50, 50), abs=0.01)
    flipped = crop_hand(frame, lms, box, size=50, flip=True)
    assert flipped.landmarks[0, 0] == pytest.approx(50, abs=0.01)


def test_box_smoother_damps_jitter_and_resets_on_jump():
    sm = BoxSmoother(alpha=0.5)
    sm.update(Box(100, 100, 50))
    assert sm.update(Box(110, 100, 50)).cx == pytest.approx(105)
    assert sm.update(Box(400, 100, 50)).cx == 400  # far jump: no dragging
    assert sm.update(None) is None


@pytest.mark.parametrize("shape", [set(), {4}, {1}, {1, 2}, {0, 4}])
@pytest.mark.parametrize("turn_deg", [0, 60, 180])
def test_is_left_hand_tells_a_hand_from_its_mirror_image(shape, turn_deg):
    a = np.radians(turn_deg)
    turn = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])  # in the image plane
    for left in (False, True):
        hand = hand_landmarks(shape, size=80.0, at=(300.0, 200.0), left=left) @ turn.T
        assert is_left_hand(hand) == left
        mirrored = hand * (-1, 1, 1) + (640, 0, 0)
        assert is_left_hand(mirrored) != left


def test_a_model_of_right_hands_sees_a_left_hand_as_its_right_twin():
    frame = cv2.GaussianBlur(np.random.default_rng(0).integers(0, 255, (240, 320, 3), np.uint8), (9, 9), 0)
    right = hand_landmarks({1, 2}, size=60.0, at=(150.0, 180.0))
    left = right * (-1, 1, 1) + (320, 0, 0)  # the same hand in the mirrored frame: a left hand
    mirrored_frame = frame[:, ::-1].copy()
    one_hand = Preprocess(mirror_left_hands=True)
    twin, own = one_hand.prepare(frame, right), one_hand.prepare(mirrored_frame, left)
    assert np.abs(twin.pixels.astype(int) - own.pixels.astype(int)).mean() < 3
    assert own.crop.landmarks == pytest.approx(twin.crop.landmarks, abs=0.5)
    both_hands = Preprocess().prepare(mirrored_frame, left)
    assert np.abs(twin.pixels.astype(int) - both_hands.pixels.astype(int)).mean() > 10
    assert Augment.for_input(one_hand).flip == 0 and Augment.for_input(Preprocess()).flip > 0


def test_preprocess_settings_of_older_checkpoints_mirror_no_hand():
    older = {k: v for k, v in Preprocess(hand_focus=True).to_dict().items() if k != "mirror_left_hands"}
    assert Preprocess.from_dict(older) == Preprocess(hand_focus=True)
    assert Preprocess.from_dict(Preprocess(mirror_left_hands=True).to_dict()).mirror_left_hands
