"""MediaPipe's 21 hand landmarks: which index is which joint, and how they connect.

0 is the wrist; each finger counts up from its base: thumb 1-4, index 5-8, middle 9-12, ring 13-16, little 17-20.
"""

from __future__ import annotations

import numpy as np

NUM_LANDMARKS = 21
WRIST = 0
PALM = (0, 1, 5, 9, 13, 17)  # the wrist and each finger's base: the palm polygon
FINGERS = ((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))
THUMB_AND_TIPS = (2, 3, 4, 8, 12, 16, 20)  # which side of the palm they lie on tells the hand (is_left_hand)
# The bones as drawn: each finger from the wrist (thumb) or its knuckle, the knuckles joined across the palm.
CONNECTIONS = (
    *((WRIST, f[0]) for f in FINGERS[:2]),
    *((a, b) for f in FINGERS for a, b in zip(f, f[1:])),
    *((a[0], b[0]) for a, b in zip(FINGERS[1:], FINGERS[2:])),
    (WRIST, FINGERS[-1][0]),
)


def hand_size(landmarks: np.ndarray) -> float:
    """The hand's size in the image: wrist to middle knuckle, in the landmarks' pixels. Movement is measured in
    it, so that a hand near the camera and one far away moving alike measure alike."""
    return float(np.linalg.norm(landmarks[FINGERS[2][0], :2] - landmarks[WRIST, :2]))


def is_left_hand(landmarks: np.ndarray) -> bool:
    """Whether the landmarks (21, 3, z toward the camera negative, as MediaPipe gives them) are a left hand as seen
    in an unmirrored image, or a right hand in a mirrored one: the two are mirror images, which the crop can undo.

    A hand is chiral in 3D: the thumb and the curled fingers lie on the palm's side of the plane through the
    wrist and the index and little knuckles, and which side of that plane's normal (index knuckle x little
    knuckle) that is depends on the handedness. MediaPipe's depth estimate carries it, so the landmarks alone
    tell, with no image; on the shared photos this agrees with MediaPipe's own handedness label on 97-99.9% of
    each dataset (README)."""
    p = np.asarray(landmarks, dtype=np.float64)[:, :3] - landmarks[WRIST, :3]
    normal = np.cross(p[FINGERS[1][0]], p[FINGERS[4][0]])
    return float((p[list(THUMB_AND_TIPS)] @ normal).sum()) < 0
