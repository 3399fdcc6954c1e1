"""Hand crops in, letter probabilities out: the one inference path for evaluation, replay and the live loop."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from model import SHIPPED_CHECKPOINT
from model.checkpoint import NO_LETTER, load_checkpoint
from model.device import pick_device
from model.preprocess import landmark_features
from realtime.crop import HandCrop


@dataclass(frozen=True)
class Prediction:
    """One frame's guess: probabilities over ``classes`` (which may end in the no-letter class)."""

    classes: tuple[str, ...]
    probs: np.ndarray

    @property
    def index(self) -> int:
        return int(self.probs.argmax())

    @property
    def label(self) -> str:
        return self.classes[self.index]

    @property
    def confidence(self) -> float:
        return float(self.probs[self.index])

    @property
    def letter(self) -> str | None:
        """The top class, or None when it is the no-letter class."""
        return None if self.label == NO_LETTER else self.label


class LetterClassifier:
    """A checkpoint ready to classify hand crops.

    ``no_letter_offset`` overrides the checkpoint's operating point for the no-letter class (see
    ``model.network.LetterHead``): the checkpoint's suits single photos; the live loop uses its own
    (``realtime.pipeline.LIVE_NO_LETTER_OFFSET``).
    """

    def __init__(self, path: Path = SHIPPED_CHECKPOINT, device: str = "auto",
                 no_letter_offset: float | None = None) -> None:
        self.device = pick_device(device)
        ckpt = load_checkpoint(path, self.device)
        self.net, self.preprocess, self.info = ckpt.net, ckpt.preprocess, ckpt.info
        if no_letter_offset is not None and NO_LETTER in ckpt.classes:
            self.net.head.config = replace(self.net.head.config, no_letter_offset=no_letter_offset)
        self.classes = tuple(ckpt.classes)
        self.uses_landmarks = self.net.head.config.use_landmarks

    @property
    def input_size(self) -> int:
        return self.preprocess.input_size

    @property
    def margin(self) -> float:
        return self.preprocess.margin

    def predict(self, crops: list[HandCrop]) -> list[Prediction]:
        return self.predict_pixels([self.preprocess.pixels(c) for c in crops], [c.landmarks for c in crops])

    @torch.inference_mode()
    def predict_pixels(self, pixels: list[np.ndarray], landmarks: list[np.ndarray]) -> list[Prediction]:
        """Predictions from pixels already prepared by ``preprocess.pixels`` and the crops' landmarks."""
        if not pixels:
            return []
        images = self.preprocess.tensor(pixels).to(self.device)
        lms = None
        if self.uses_landmarks:
            lms = torch.from_numpy(landmark_features(np.stack(landmarks))).to(self.device)
        probs = torch.softmax(self.net(images, lms), dim=1).cpu().numpy()
        return [Prediction(self.classes, p) for p in probs]
