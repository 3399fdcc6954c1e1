import numpy as np
import pytest

from core.crop import Box, crop_hand, crop_square, hand_box
from realtime.tracking import BoxSmoother


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
