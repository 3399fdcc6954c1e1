"""Personalising a checkpoint to one signer: fine-tune the head (never the backbone) on a few shots.

A handful of crops per letter is far too little to train on alone, so the head starts from the base model
and is held near it by an L2 pull towards the base weights (L2-SP): the signer's shots move the decision
boundaries where this signer differs, everything else stays where the base model had it. Each shot is used
as a clean crop plus augmented views, exactly as in training.
"""

from __future__ import annotations

import copy
import logging
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import numpy as np
import torch
from torch import nn

from core.errors import AslError
from model.augment import Augment, embed, views_of
from model.checkpoint import Checkpoint
from model.network import LetterHead

log = logging.getLogger(__name__)
MIN_SHOTS = 2  # per letter


class CalibrationError(AslError):
    """Shots that cannot calibrate this model; the message is one line for the user."""


@dataclass
class Shot:
    image: np.ndarray  # the whole frame or photo, BGR
    landmarks: np.ndarray  # (21, 3) in its pixels
    label: str  # a letter the model knows, or NO_LETTER


@dataclass(frozen=True)
class CalibrationSettings:
    views: int = 8
    epochs: int = 40
    lr: float = 3e-4
    anchor: float = 1e-2  # strength of the pull towards the base weights
    seed: int = 0


def check_shots(shots: list[Shot], classes: list[str]) -> Counter:
    counts = Counter(s.label for s in shots)
    unknown = sorted(set(counts) - set(classes))
    if unknown:
        raise CalibrationError(f"the model does not know {', '.join(unknown)}: it knows {', '.join(classes)}")
    few = sorted(letter for letter, n in counts.items() if n < MIN_SHOTS)
    if not shots or few:
        listed = ", ".join(f"{letter}: {counts[letter]}" for letter in few) or "none"
        raise CalibrationError(f"too few shots ({listed}): calibration needs at least {MIN_SHOTS} per letter")
    return counts


def calibrate(
    base: Checkpoint,
    shots: list[Shot],
    settings: CalibrationSettings = CalibrationSettings(),
    signer: str = "",
    moving_shapes: dict[str, list[np.ndarray]] | None = None,
) -> Checkpoint:
    """A new checkpoint whose head is fine-tuned on ``shots``; backbone, classes and preprocessing unchanged.
    ``moving_shapes``: the signer's own J and Z paths (``realtime.motion.drawn_path``), kept in the checkpoint's
    info beside any it has, for the live loop's motion recogniser."""
    moving_shapes = {k: v for k, v in (moving_shapes or {}).items() if v}
    if not shots and not moving_shapes:
        raise CalibrationError("nothing to calibrate on: no labeled hands found")
    info = dict(base.info)
    if moving_shapes:
        kept = {k: list(v) for k, v in info.get("moving_shapes", {}).items()}
        for letter, paths in moving_shapes.items():
            kept.setdefault(letter, []).extend(np.round(p, 4).tolist() for p in paths)
        info["moving_shapes"] = kept
    info["calibration"] = {
        "signer": signer,
        "shots": dict(Counter(s.label for s in shots)),
        "moving_examples": {k: len(v) for k, v in moving_shapes.items()},
        "settings": settings.__dict__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if not shots:
        return replace(base, info=info)
    check_shots(shots, base.classes)
    inputs, labels = [], []
    augment = Augment.for_input(base.preprocess)
    for i, shot in enumerate(shots):
        views = views_of(shot.image, shot.landmarks, base.preprocess, augment, settings.views, [settings.seed, i])
        inputs += views
        labels += [base.classes.index(shot.label)] * len(views)
    backbone = base.net.backbone  # where it is: a server's shared model stays on its device
    feats, lms = zip(*(embed(backbone, base.preprocess, inputs[i : i + 64]) for i in range(0, len(inputs), 64)))
    x, lm, y = torch.cat(feats).float(), torch.cat(lms), torch.tensor(labels)
    head = fine_tune(base.net.head, x, lm, y, settings)
    net = copy.deepcopy(base.net).cpu()
    net.head = head
    return replace(base, net=net, info=info)


def fine_tune(
    base_head: LetterHead, x: torch.Tensor, lm: torch.Tensor, y: torch.Tensor, settings: CalibrationSettings
) -> LetterHead:
    torch.manual_seed(settings.seed)
    head = copy.deepcopy(base_head).cpu().train()
    anchor = [p.detach().clone() for p in head.parameters()]
    opt = torch.optim.Adam(head.parameters(), lr=settings.lr)
    for _ in range(settings.epochs):
        for idx in torch.randperm(len(y)).split(64):
            loss = nn.functional.cross_entropy(head(x[idx], lm[idx]), y[idx])
            loss = loss + settings.anchor * sum(((p - a) ** 2).sum() for p, a in zip(head.parameters(), anchor))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return head.eval()
