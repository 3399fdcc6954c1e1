"""Training-time variation that imitates webcam conditions, applied through the one model-input path; the views
of a hand that training and calibration learn from, and their backbone features."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np
import torch

from core.crop import Box, hand_box
from model.preprocess import ModelInput, Preprocess


@dataclass(frozen=True)
class Augment:
    """Ranges of the random changes; stored with cached features so a change invalidates the cache."""

    rotate_deg: float = 20.0  # in-plane tilt of the hand
    scale: tuple[float, float] = (0.85, 1.25)  # crop box size: tracker boxes are never exactly the margin
    shift: float = 0.10  # box centre offset, share of the side
    flip: float = 0.5  # mirrored: left-handed signers
    brightness: float = 40.0  # +- added to pixel values
    contrast: tuple[float, float] = (0.7, 1.3)
    colour: float = 0.12  # +- per-channel gain: white balance, skin tones
    blur: float = 0.3  # chance of a Gaussian or motion blur
    low_res: float = 0.3  # chance of a small hand upscaled (a hand far from the camera)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def for_input(cls, preprocess: Preprocess) -> Augment:
        """The augmentation for a model input path: no random mirroring where left hands are mirrored anyway."""
        return cls(flip=0.0) if preprocess.mirror_left_hands else cls()

    def __call__(
        self, preprocess: Preprocess, image: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator
    ) -> ModelInput:
        """One augmented model input of the hand: the box moved and scaled, the crop turned and maybe mirrored,
        then its pixels changed (before hand focus, as a camera would have)."""
        box = hand_box(landmarks, preprocess.margin)
        s = rng.uniform(*self.scale)
        dx, dy = rng.uniform(-self.shift, self.shift, 2) * box.side
        box = Box(box.cx + dx, box.cy + dy, box.side * s)
        angle = rng.uniform(-self.rotate_deg, self.rotate_deg)
        flip = rng.random() < self.flip
        return preprocess.prepare(image, landmarks, box, angle, flip, adjust=lambda img: self._photometric(img, rng))

    def _photometric(self, img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        size = img.shape[0]
        if rng.random() < self.low_res:
            small = int(rng.uniform(0.2, 0.5) * size)
            img = cv2.resize(cv2.resize(img, (small, small), interpolation=cv2.INTER_AREA), (size, size))
        if rng.random() < self.blur:
            k = int(rng.choice([3, 5, 7]))
            if rng.random() < 0.5:
                img = cv2.GaussianBlur(img, (k, k), 0)
            else:
                kernel: np.ndarray = np.zeros((k, k), np.float32)
                kernel[k // 2] = 1.0 / k
                centre = (k / 2 - 0.5, k / 2 - 0.5)
                kernel = cv2.warpAffine(kernel, cv2.getRotationMatrix2D(centre, rng.uniform(0, 180), 1), (k, k))
                img = cv2.filter2D(img, -1, kernel / max(kernel.sum(), 1e-6))
        x = img.astype(np.float32)
        x = x * rng.uniform(*self.contrast) + rng.uniform(-self.brightness, self.brightness)
        x = x * (1 + rng.uniform(-self.colour, self.colour, 3)).astype(np.float32)
        return np.clip(x, 0, 255).astype(np.uint8)


def views_of(
    image: np.ndarray, landmarks: np.ndarray, preprocess: Preprocess, augment: Augment, views: int, seed: list[int]
) -> list[ModelInput]:
    """The clean model input of a hand, then ``views - 1`` augmented ones (deterministic for a given seed)."""
    inputs = [preprocess.prepare(image, landmarks)]
    inputs += [augment(preprocess, image, landmarks, np.random.default_rng([*seed, v])) for v in range(1, views)]
    return inputs


@torch.inference_mode()
def embed(
    backbone: torch.nn.Module, preprocess: Preprocess, inputs: list[ModelInput]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Backbone features (float16) and landmark features of a batch of model inputs."""
    device = next(backbone.parameters()).device
    images, landmarks = preprocess.tensors(inputs)
    return backbone(images.to(device)).cpu().half(), landmarks
