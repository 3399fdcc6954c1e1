"""A frame and a hand in, letter probabilities out: the one inference path for the live loop, evaluation and
labeling (training embeds the same model inputs, see ``train.features``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.crop import Box
from core.letters import NO_LETTER
from model import SHIPPED_CHECKPOINT
from model.checkpoint import Checkpoint, load_checkpoint
from model.device import pick_device
from model.preprocess import ModelInput


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
    """A checkpoint ready to classify hands: :meth:`prepare` each, then :meth:`predict` a list of them.

    ``no_letter_offset`` overrides the checkpoint's operating point for the no-letter class (see
    ``model.network.LetterHead``): the checkpoint's (``photo_offset``) suits single photos; the live loop uses
    its own (``realtime.smoothing.LIVE_NO_LETTER_OFFSET``). One loaded model can serve both: :meth:`predict`
    takes another offset for one call.
    """

    def __init__(
        self,
        path: Path = SHIPPED_CHECKPOINT,
        device: str = "auto",
        no_letter_offset: float | None = None,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        """``checkpoint``: one already in memory (a personal model made by the server) instead of ``path``."""
        self.device = pick_device(device)
        ckpt = load_checkpoint(path, self.device) if checkpoint is None else checkpoint
        ckpt.net.to(self.device).eval()
        self.net, self.preprocess, self.info = ckpt.net, ckpt.preprocess, ckpt.info
        self.classes = tuple(ckpt.classes)
        self.photo_offset = self.net.head.config.no_letter_offset
        self.offset = no_letter_offset if NO_LETTER in self.classes else None  # None: the checkpoint's own

    def as_checkpoint(self) -> Checkpoint:
        """The loaded model as a checkpoint (the base a personal model is calibrated from)."""
        return Checkpoint(self.net, list(self.classes), self.preprocess, self.info)

    @property
    def margin(self) -> float:
        return self.preprocess.margin

    def prepare(self, image: np.ndarray, landmarks: np.ndarray, box: Box | None = None) -> ModelInput:
        """The model input for a hand in ``image`` (landmarks in its pixels), cut at ``box`` or the landmarks' box."""
        return self.preprocess.prepare(image, landmarks, box)

    @torch.inference_mode()
    def predict(self, inputs: list[ModelInput], no_letter_offset: float | None = None) -> list[Prediction]:
        """Probabilities for each input; ``no_letter_offset``: the operating point for this call only."""
        if not inputs:
            return []
        images, landmarks = self.preprocess.tensors(inputs)
        offset = self.offset if no_letter_offset is None or NO_LETTER not in self.classes else no_letter_offset
        logits = self.net(images.to(self.device), landmarks.to(self.device), offset)
        probs = torch.softmax(logits, dim=1).cpu().numpy()
        return [Prediction(self.classes, p) for p in probs]
