"""Synthetic inputs shared by several test modules."""

import numpy as np
import torch


def straight_hand() -> torch.Tensor:
    """Five straight fingers fanning up from the wrist at the origin, as normalised landmarks (1, 63)."""
    pts = np.zeros((21, 3), np.float32)
    for f, angle in enumerate(np.linspace(-0.6, 0.6, 5)):
        for j in range(1, 5):
            pts[4 * f + j, :2] = 0.25 * j * np.array([np.sin(angle), -np.cos(angle)])
    return torch.from_numpy(pts.reshape(1, 63))


# Straightness of the fingers of hand_landmarks: a bent finger folds over (its tip comes back toward the palm),
# away from the camera (positive z, as MediaPipe measures depth).
BENT_FINGER = ((0.0, -1.0, 0.0), (0.0, -0.2, 0.8), (0.0, 0.7, 0.5))
STRAIGHT_FINGER = ((0.0, -1.0, 0.0),) * 3


def hand_landmarks(
    straight: set[int], size: float = 100.0, at: tuple[float, float] = (0.0, 0.0), left: bool = False
) -> np.ndarray:
    """(21, 3) landmarks of an upright hand, in pixels: the wrist at ``at``, the middle knuckle ``size`` above
    it, the fingers in ``straight`` (0 thumb ... 4 little) extended, the others folded. A right hand with its back
    to the camera: the little finger on the viewer's right, the fingers folding away; ``left`` mirrors it."""
    pts = np.zeros((21, 3))
    side = -1.0 if left else 1.0
    for f in range(5):
        knuckle = np.array([side * (f - 2) * 0.25 * size, -size * (0.5 if f == 0 else 1.0), 0.0])
        pts[4 * f + 1] = knuckle
        bones = STRAIGHT_FINGER if f in straight else BENT_FINGER
        for j, bone in enumerate(bones):
            pts[4 * f + 2 + j] = pts[4 * f + 1 + j] + 0.3 * size * np.array(bone)
    pts[:, :2] += at
    return pts


def fingertip_track(
    handshape: set[int],
    tip: int,
    path: np.ndarray,
    fps: float = 30.0,
    size: float = 100.0,
    left: bool = False,
    noise: float = 0.0,
    seed: int = 0,
) -> list[np.ndarray]:
    """One frame of landmarks per point of ``path`` (pixels), the hand moved so that landmark ``tip`` is there;
    ``noise``: standard deviation of every coordinate, in hand sizes."""
    rng = np.random.default_rng(seed)
    base = hand_landmarks(handshape, size, left=left)
    frames = []
    for point in path:
        lm = base.copy()
        lm[:, :2] += np.asarray(point) - base[tip, :2]
        frames.append(lm + rng.normal(0.0, noise * size, lm.shape))
    return frames
