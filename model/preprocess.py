"""Turning a hand crop into model input. Stored in the checkpoint, so training and live use agree."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from realtime.crop import DEFAULT_MARGIN

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Preprocess:
    input_size: int = 224
    margin: float = DEFAULT_MARGIN
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Preprocess":
        return cls(int(d["input_size"]), float(d["margin"]), tuple(d["mean"]), tuple(d["std"]))

    def images(self, crops_bgr: np.ndarray) -> torch.Tensor:
        """(N, S, S, 3) uint8 BGR crops -> (N, 3, S, S) normalised RGB float tensor."""
        x = torch.from_numpy(np.ascontiguousarray(crops_bgr[..., ::-1])).permute(0, 3, 1, 2).float().div_(255)
        mean = torch.tensor(self.mean).view(1, 3, 1, 1)
        std = torch.tensor(self.std).view(1, 3, 1, 1)
        return (x - mean) / std


def landmark_features(landmarks_crop: np.ndarray) -> np.ndarray:
    """(..., 21, 3) landmarks in crop pixels -> (..., 63): relative to the wrist and divided by the largest
    wrist distance, so position and hand size drop out and only shape (and in-plane pose) remain."""
    pts = np.asarray(landmarks_crop, dtype=np.float32)
    rel = pts - pts[..., :1, :]
    scale = np.linalg.norm(rel[..., :2], axis=-1).max(axis=-1)[..., None, None]
    return (rel / np.maximum(scale, 1e-6)).reshape(*pts.shape[:-2], 63)
