"""Turning a hand crop into model input. Stored in the checkpoint, so training and live use agree."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from realtime.crop import DEFAULT_MARGIN, HandCrop, focus_on_hand

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Preprocess:
    input_size: int = 224
    margin: float = DEFAULT_MARGIN
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    hand_focus: bool = False  # fade all but the hand (from its landmarks) to grey before the network

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Preprocess":
        return cls(int(d["input_size"]), float(d["margin"]), tuple(d["mean"]), tuple(d["std"]),
                   bool(d.get("hand_focus", False)))

    def pixels(self, crop: HandCrop) -> np.ndarray:
        """The BGR pixels the network sees of a crop (what the live preview shows)."""
        return focus_on_hand(crop) if self.hand_focus else crop.image

    def images(self, crops: list[HandCrop]) -> torch.Tensor:
        """Hand crops -> (N, 3, S, S) normalised RGB float tensor: the one way pixels enter the model."""
        return self.tensor([self.pixels(c) for c in crops])

    def tensor(self, pixels: list[np.ndarray]) -> torch.Tensor:
        """Model pixels (from :meth:`pixels`) -> normalised RGB float tensor."""
        x = torch.from_numpy(np.ascontiguousarray(np.stack(pixels)[..., ::-1])).permute(0, 3, 1, 2).float().div_(255)
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
