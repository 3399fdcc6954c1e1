"""Finding the hand in still photos: harder than the live tracker can afford to try. Training, evaluation,
calibration from photos and the web API's /api/predict all read photos through it."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from core.hand import Hand
from realtime.tracking import HandTracker, pick_signing_hand, shrunk


class PhotoHandFinder:
    """Finds the hand in still photos, trying harder than the live tracker can afford to.

    Tight photos (only hand and wrist in frame) and close-up scenes where the hand runs off the edge often
    defeat the palm detector, which needs to see a whole palm. So a photo with no hand is shown to it again
    in other ways until one works: padded by repeating its edges (a hand that fills the frame becomes one
    inside it), padded with grey or a mirror image of itself (repeated edges can smear a hand cut by the
    border into a shape the detector rejects), and turned a quarter (a hand pointing sideways); edge padding
    first at the normal confidence, then at a low one, then the others likewise. Landmarks come back in the
    original photo's coordinates. Hands found: aps360 2026/2026, massey 1815/1815; roboflow scenes 1341 as
    they are, 1470 with edge padding, 1493 with all of these (A-I: 530 of 537).

    A photo larger than :attr:`MAX_SIDE` is searched on a copy scaled down to it (every dataset's photos are
    smaller): a photo with no hand is shown about twenty times, padded up to three times its size, so this
    bounds what one photo can cost, and it keeps the padded views within what MediaPipe takes.
    """

    MAX_SIDE = 1280

    PADS = (0.0, 0.25, 0.5, 1.0)  # share of the photo's longer side added on every side, repeating edges
    OTHER_PADS = (
        (cv2.BORDER_CONSTANT, 0.25),
        (cv2.BORDER_CONSTANT, 0.5),
        (cv2.BORDER_REFLECT, 0.5),
        (cv2.BORDER_CONSTANT, 1.0),
    )
    CONFIDENCES = (0.5, 0.15)

    def __init__(self) -> None:
        self._trackers = [HandTracker(video=False, min_confidence=c) for c in self.CONFIDENCES]

    @classmethod
    def views(cls) -> tuple[tuple[Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], ...], ...]:
        """Groups of ways to show a photo, tried in this order, each group at every confidence: edge padding
        first (how most photos are found), then the others. Each makes (image, 2x3 matrix from photo to image
        coordinates) only when it is tried, so a photo found as it is costs no copies."""
        return (
            tuple(_padded(cv2.BORDER_REPLICATE, share) for share in cls.PADS),
            tuple(_padded(border, share) for border, share in cls.OTHER_PADS)
            + (_turned(clockwise=True), _turned(clockwise=False)),
        )

    def find(self, image_bgr: np.ndarray) -> Hand | None:
        small, scale = shrunk(image_bgr, self.MAX_SIDE)
        hand = self._find(small)
        if hand is None or scale == 1.0:
            return hand
        return Hand(hand.landmarks / scale, hand.handedness, hand.score)

    def _find(self, image_bgr: np.ndarray) -> Hand | None:
        for group in self.views():
            for tracker in self._trackers:
                for make_view in group:
                    view, to_view = make_view(image_bgr)
                    hand = pick_signing_hand(tracker.detect(view))
                    if hand is not None:
                        back = cv2.invertAffineTransform(to_view)
                        pts = hand.landmarks.copy()
                        pts[:, :2] = pts[:, :2] @ back[:, :2].T + back[:, 2]
                        return Hand(pts, hand.handedness, hand.score)
        return None

    def close(self) -> None:
        for tracker in self._trackers:
            tracker.close()

    def __enter__(self) -> PhotoHandFinder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _padded(border: int, share: float) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The photo with ``share`` of its longer side added on every side (grey where the border is constant)."""

    def view(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = int(round(share * max(image.shape[:2])))
        out = cv2.copyMakeBorder(image, p, p, p, p, border, value=(128, 128, 128)) if p else image
        return out, np.array([[1, 0, p], [0, 1, p]], np.float32)

    return view


def _turned(clockwise: bool) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The photo turned a quarter."""

    def view(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h, w = image.shape[:2]
        if clockwise:
            return cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE), np.array([[0, -1, h - 1], [1, 0, 0]], np.float32)
        return cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE), np.array([[0, 1, 0], [-1, 0, w - 1]], np.float32)

    return view
