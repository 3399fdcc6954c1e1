"""MediaPipe hand tracking: finds hands in a frame, picks the one that is signing, and steadies its crop box."""

from __future__ import annotations

import os
from collections import deque

import cv2
import numpy as np

from core.crop import Box
from core.hand import Hand
from core.images import MIN_SIDE
from core.landmarks import PALM, hand_size

os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ start-up chatter (core.cli filters the rest)

# MediaPipe's bundled OpenCV crashes the process (no exception) on an image with a side of about 32,000 pixels,
# and it reads the hand through a window of a few hundred pixels whatever the image's size: every image it gets
# is scaled to at most this side first.
MEDIAPIPE_MAX_SIDE = 4096


class HandTracker:
    """MediaPipe Hands. ``video=True`` tracks across consecutive frames (fast, stable); ``video=False`` treats
    every image on its own, as training and evaluation on photos need.

    ``max_side``: a frame whose longer side is larger is tracked on a copy scaled down to it. MediaPipe reads
    the hand through a 224-pixel window either way, so a hand that is still a few hundred pixels wide in the
    copy gives the same landmarks, and copying, converting and resampling a smaller frame costs less. The
    landmarks come back in the full frame's pixels (MediaPipe's are fractions of the frame). Whatever
    ``max_side`` says, no image larger than :data:`MEDIAPIPE_MAX_SIDE` reaches MediaPipe, and a strip thinner
    than ``core.images.MIN_SIDE`` (no hand fits in it) has no hand without being shown to it.

    ``lite``: MediaPipe's lighter landmark model (``model_complexity=0``), for slow machines: about half the
    tracking time (docs/RESULTS.md, "Speed").
    """

    def __init__(
        self,
        video: bool,
        max_hands: int = 2,
        min_confidence: float = 0.5,
        max_side: int | None = None,
        lite: bool = False,
    ) -> None:
        import mediapipe as mp  # heavy import, kept out of module import time

        self.max_side = min(max_side or MEDIAPIPE_MAX_SIDE, MEDIAPIPE_MAX_SIDE)
        self._hands = mp.solutions.hands.Hands(
            static_image_mode=not video,
            max_num_hands=max_hands,
            model_complexity=0 if lite else 1,
            min_detection_confidence=min_confidence,
            min_tracking_confidence=min_confidence,
        )

    def detect(self, frame_bgr: np.ndarray) -> list[Hand]:
        h, w = frame_bgr.shape[:2]
        if min(h, w) < MIN_SIDE:
            return []
        image, _ = shrunk(frame_bgr, self.max_side)
        result = self._hands.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        if not result.multi_hand_landmarks:
            return []
        hands = []
        for lms, handed in zip(result.multi_hand_landmarks, result.multi_handedness):
            pts = np.array([(p.x * w, p.y * h, p.z * w) for p in lms.landmark], dtype=np.float32)
            label = handed.classification[0]
            hands.append(Hand(pts, label.label, float(label.score)))
        return hands

    def close(self) -> None:
        self._hands.close()

    def __enter__(self) -> HandTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def shrunk(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """``image`` scaled down so that its longer side is at most ``max_side`` (no side below one pixel), and the
    scale it was scaled by (1 when it already fits)."""
    h, w = image.shape[:2]
    if max(h, w) <= max_side:
        return image, 1.0
    scale = max_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def pick_signing_hand(hands: list[Hand], previous: Box | None = None, prefer: str | None = None) -> Hand | None:
    """The signing hand among those found.

    A fingerspelling hand is raised to chest or face height while the other hand rests lower, so the highest
    hand wins (the preferred MediaPipe handedness label first, when given). The hand nearest the previous
    crop box keeps the crop unless another is higher by more than half a hand, so the crop does not hop
    between two hands at about the same height.
    """
    if not hands:
        return None
    candidates = [hd for hd in hands if hd.handedness == prefer] or hands
    highest = min(candidates, key=lambda hd: hd.landmarks[:, 1].mean())
    if previous is None:
        return highest
    current = min(candidates, key=lambda hd: np.hypot(*(hd.landmarks[:, :2].mean(0) - (previous.cx, previous.cy))))
    size = np.ptp(current.landmarks[:, :2], axis=0).max()
    if current.landmarks[:, 1].mean() - highest.landmarks[:, 1].mean() > 0.5 * size:
        return highest
    return current


class BoxSmoother:
    """Exponential smoothing of the crop box across frames, so the crop does not jitter.

    A jump larger than ``reset_ratio`` box sides (a new hand, a fast move) resets the filter instead of
    dragging the box slowly across the frame.
    """

    def __init__(self, alpha: float = 0.5, reset_ratio: float = 0.5) -> None:
        self.alpha = alpha
        self.reset_ratio = reset_ratio
        self._box: Box | None = None

    def update(self, box: Box | None) -> Box | None:
        if box is None:
            self._box = None
            return None
        prev = self._box
        if prev is None or np.hypot(box.cx - prev.cx, box.cy - prev.cy) > self.reset_ratio * prev.side:
            self._box = box
        else:
            a = self.alpha
            self._box = Box(
                a * box.cx + (1 - a) * prev.cx, a * box.cy + (1 - a) * prev.cy, a * box.side + (1 - a) * prev.side
            )
        return self._box


MIN_FRAMES = 2  # earlier frames a movement is always measured against, however slow the frame rate


class HandMotion:
    """How far the hand has travelled within the last ``span_s`` seconds, in hand sizes (``core.landmarks``):
    the largest distance from its palm now to where its palm was at any frame of the span.

    The palm (wrist and knuckles) moves with the hand, not with the fingers, so a change of handshape is no
    movement. Over a span rather than between two frames, because a held hand's tremor, a pixel or two each
    frame back and forth, is a large speed between frames on a small hand yet covers nothing; a bounce or a
    move to the next letter covers its distance within the span. At a low frame rate (a browser page sends about
    13 frames a second) a span of 0.15 s holds one earlier frame only, and a slide spread over two frame
    intervals was never seen whole: the last :data:`MIN_FRAMES` earlier frames always count. A hand just found
    has moved 0."""

    def __init__(self, span_s: float) -> None:
        self.span_s = span_s
        self._palms: deque[tuple[float, np.ndarray]] = deque()

    def update(self, landmarks: np.ndarray | None, t: float) -> float:
        if landmarks is None:
            self._palms.clear()
            return 0.0
        palm = landmarks[list(PALM), :2].mean(axis=0)
        while self._palms and self._palms[-1][0] > t:  # time went back (a new source): start afresh
            self._palms.clear()
        while len(self._palms) > MIN_FRAMES and self._palms[0][0] < t - self.span_s:
            self._palms.popleft()
        moved = max((float(np.linalg.norm(palm - p)) for _, p in self._palms), default=0.0)
        self._palms.append((t, palm))
        return moved / max(hand_size(landmarks), 1.0)
