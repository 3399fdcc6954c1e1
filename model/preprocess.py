"""The one way a frame and a hand become model input. Its settings are stored in the checkpoint, so training,
evaluation, calibration, labeling and the live loop all cut and normalise exactly as the model was trained."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from core.crop import DEFAULT_MARGIN, Box, HandCrop, crop_hand, focus_on_hand, hand_box
from core.landmarks import is_left_hand

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class ModelInput:
    """One hand, ready for the network: where it was cut, the crop, and the pixels the network sees of it."""

    box: Box  # in the frame's pixels
    crop: HandCrop  # the square crop (BGR) and the landmarks in its pixels
    pixels: np.ndarray  # the crop as the network sees it (hand focus applied): what the live preview shows


@dataclass(frozen=True)
class Preprocess:
    input_size: int = 224
    margin: float = DEFAULT_MARGIN
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    hand_focus: bool = False  # fade all but the hand (from its landmarks) to grey before the network
    # Mirror every left hand (core.landmarks.is_left_hand) into a right one, so the network learns one hand of
    # each letter instead of both mirror images (training then needs no random mirroring): README, "One hand".
    mirror_left_hands: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Preprocess:
        return cls(
            int(d["input_size"]),
            float(d["margin"]),
            tuple(d["mean"]),
            tuple(d["std"]),
            bool(d.get("hand_focus", False)),
            bool(d.get("mirror_left_hands", False)),
        )

    def prepare(
        self,
        image: np.ndarray,
        landmarks: np.ndarray,
        box: Box | None = None,
        angle_deg: float = 0.0,
        flip: bool = False,
        adjust: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> ModelInput:
        """Cut the hand out of ``image`` (BGR, with its ``landmarks`` in the image's pixels) for the network.

        ``box`` defaults to the landmarks' box at this margin (photos); the live loop passes its steadied box.
        ``angle_deg``, ``flip`` and ``adjust`` (a change to the crop's pixels, before hand focus) are training
        augmentation: every other caller leaves them alone. ``flip`` mirrors on top of ``mirror_left_hands``.
        """
        box = box if box is not None else hand_box(landmarks, self.margin)
        mirror = flip != (self.mirror_left_hands and is_left_hand(landmarks))
        crop = crop_hand(image, landmarks, box, self.input_size, angle_deg, mirror)
        if adjust is not None:
            crop = HandCrop(adjust(crop.image), crop.landmarks)
        return ModelInput(box, crop, focus_on_hand(crop) if self.hand_focus else crop.image)

    def tensors(self, inputs: Sequence[ModelInput]) -> tuple[torch.Tensor, torch.Tensor]:
        """Model inputs -> (N, 3, S, S) normalised RGB images and (N, 63) landmark features, on the CPU."""
        x = np.stack([i.pixels for i in inputs])[..., ::-1]  # BGR -> RGB
        images = torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2).float().div_(255)
        mean = torch.tensor(self.mean).view(1, 3, 1, 1)
        std = torch.tensor(self.std).view(1, 3, 1, 1)
        landmarks = torch.from_numpy(landmark_features(np.stack([i.crop.landmarks for i in inputs])))
        return (images - mean) / std, landmarks


def landmark_features(landmarks_crop: np.ndarray) -> np.ndarray:
    """(..., 21, 3) landmarks in crop pixels -> (..., 63): relative to the wrist and divided by the largest
    wrist distance, so position and hand size drop out and only shape (and in-plane pose) remain."""
    pts = np.asarray(landmarks_crop, dtype=np.float32)
    rel = pts - pts[..., :1, :]
    scale = np.linalg.norm(rel[..., :2], axis=-1).max(axis=-1)[..., None, None]
    return (rel / np.maximum(scale, 1e-6)).reshape(*pts.shape[:-2], 63)
