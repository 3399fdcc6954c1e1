"""The one crop shared by training, evaluation and the live loop.

What the model sees in training must be exactly what it sees live, so every path that turns a frame and a
hand into model input goes through :func:`hand_box` and :func:`crop_hand` here (by way of
``model.preprocess.Preprocess.prepare``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.landmarks import FINGERS, PALM

DEFAULT_MARGIN = 0.25  # extra space on each side of the landmark box, as a share of its longer side


@dataclass(frozen=True)
class Box:
    """A square in frame pixels: centre and side length (it may reach past the frame edges)."""

    cx: float
    cy: float
    side: float

    @property
    def xyxy(self) -> tuple[int, int, int, int]:
        half = self.side / 2
        return (round(self.cx - half), round(self.cy - half), round(self.cx + half), round(self.cy + half))


def hand_box(landmarks_px: np.ndarray, margin: float = DEFAULT_MARGIN) -> Box:
    """Square box around 21 landmarks (x, y in pixels): the landmark bounding box's longer side plus
    ``margin`` of it on every side, centred on the bounding box."""
    xy = np.asarray(landmarks_px, dtype=np.float64)[:, :2]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    side = float(max(hi - lo)) * (1 + 2 * margin)
    cx, cy = (lo + hi) / 2
    return Box(float(cx), float(cy), max(side, 1.0))


def crop_square(frame: np.ndarray, box: Box, size: int, angle_deg: float = 0.0) -> np.ndarray:
    """Cut ``box`` out of ``frame`` and resize it to ``size`` x ``size``.

    Parts of the box outside the frame are padded by repeating the edge pixels (a hard black border is a cue
    the model never sees in tight training photos). ``angle_deg`` rotates the crop about the box centre; it is
    used only by training augmentation, the live loop passes 0.
    """
    native = int(round(box.side))
    if native <= size:
        return cv2.warpAffine(
            frame,
            _crop_matrix(box, size, angle_deg),
            (size, size),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
    # Shrinking: cut at full resolution first, then area-average down, so fine detail does not alias.
    full = cv2.warpAffine(
        frame,
        _crop_matrix(box, native, angle_deg),
        (native, native),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return cv2.resize(full, (size, size), interpolation=cv2.INTER_AREA)


def _crop_matrix(box: Box, size: int, angle_deg: float) -> np.ndarray:
    """The 2x3 affine map from frame pixels to crop pixels."""
    matrix = cv2.getRotationMatrix2D((box.cx, box.cy), angle_deg, size / box.side)
    matrix[0, 2] += size / 2 - box.cx
    matrix[1, 2] += size / 2 - box.cy
    return matrix


@dataclass(frozen=True)
class HandCrop:
    """What the model sees of one hand: the square crop (BGR) and the landmarks in crop pixels."""

    image: np.ndarray
    landmarks: np.ndarray  # (21, 3)


def crop_hand(
    frame: np.ndarray, landmarks_px: np.ndarray, box: Box, size: int, angle_deg: float = 0.0, flip: bool = False
) -> HandCrop:
    """Crop a hand for the model and carry its landmarks into the crop's pixel frame.

    ``flip`` mirrors crop and landmarks together (a left hand seen as a right one: training augmentation, or
    every left hand when the model was trained on right ones); ``angle_deg`` is for training augmentation only.
    """
    image = crop_square(frame, box, size, angle_deg)
    matrix = _crop_matrix(box, size, angle_deg)
    pts = np.asarray(landmarks_px, dtype=np.float32).copy()
    pts[:, :2] = pts[:, :2] @ matrix[:, :2].T + matrix[:, 2]
    pts[:, 2] *= size / box.side
    if flip:
        image = image[:, ::-1].copy()
        pts[:, 0] = size - pts[:, 0]
    return HandCrop(image, pts)


def hand_mask(landmarks: np.ndarray, size: int, width: float = 0.12) -> np.ndarray:
    """A soft (0..1) mask of the hand in a ``size`` crop, drawn from its landmarks: the palm polygon and each
    finger's bones as thick lines, ``width`` of the hand's extent wide, then feathered."""
    pts = np.round(landmarks[:, :2]).astype(np.int32)
    extent = float(np.ptp(landmarks[:, :2], axis=0).max())
    thickness = max(2, int(width * extent))
    mask = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(pts[list(PALM)]), (255,))
    for finger in FINGERS:
        chain = [pts[0] if finger[0] == 1 else pts[finger[0]]] + [pts[j] for j in finger]
        for a, b in zip(chain, chain[1:]):
            cv2.line(mask, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), (255,), thickness, cv2.LINE_AA)
        tip = pts[finger[-1]]
        cv2.circle(mask, (int(tip[0]), int(tip[1])), thickness // 2, (255,), -1, cv2.LINE_AA)
    k = max(3, (thickness // 2) | 1)
    return cv2.GaussianBlur(mask, (k, k), 0).astype(np.float32) * (1 / 255)


def focus_on_hand(crop: HandCrop, grey: int = 128) -> np.ndarray:
    """The crop with everything but the hand faded to grey: a face, a shirt or a room behind the hand then
    looks the same to the model as the plain walls of the training photos."""
    mask = hand_mask(crop.landmarks, crop.image.shape[0])
    return cv2.blendLinear(crop.image, np.full_like(crop.image, grey), mask, 1 - mask)
