"""One hand found in a frame, as every layer passes it on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.crop import Box, hand_box


@dataclass(frozen=True)
class Hand:
    """One detected hand, in the pixel coordinates of the frame it was found in."""

    landmarks: np.ndarray  # (21, 3): x, y in pixels; z in the same pixel scale, relative to the wrist
    handedness: str  # MediaPipe's label, "Left" or "Right" (it assumes a mirrored selfie image)
    score: float

    def box(self, margin: float) -> Box:
        return hand_box(self.landmarks, margin)

    def share_outside(self, width: int, height: int) -> float:
        """The share of its landmarks outside a frame of this size (MediaPipe places a cut-off hand's missing
        joints beyond the edge)."""
        x, y = self.landmarks[:, 0], self.landmarks[:, 1]
        return float(((x < 0) | (x >= width) | (y < 0) | (y >= height)).mean())
