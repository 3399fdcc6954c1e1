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
