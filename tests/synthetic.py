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
