"""Networks, checkpoint I/O and the shipped weights."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ALPHABET_CHECKPOINT = REPO_ROOT / "model" / "weights" / "asl_alphabet.pt"  # the 24 still letters and "no letter"
AI_CHECKPOINT = REPO_ROOT / "model" / "weights" / "asl_letters.pt"  # A-I and "no letter", a point better on A-I
# The default of every tool: the whole alphabet. Most words need letters beyond A-I (README: "The alphabet model").
SHIPPED_CHECKPOINT = ALPHABET_CHECKPOINT
MODEL_NAMES = {"alphabet": ALPHABET_CHECKPOINT, "a-i": AI_CHECKPOINT}  # short names for --model
BACKBONE_FILE = "weights/alexnet_features_imagenet1k_v1.pth"
DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")  # model.device.pick_device; here so flags need no torch


def model_path(value: str) -> Path:
    """A ``--model`` value: a shipped model's short name (``alphabet``, ``a-i``) or a checkpoint's path."""
    return MODEL_NAMES.get(value.lower(), Path(value))


def shared_dir() -> Path:
    """The shared data folder: ``$ASL_SHARED`` if set, else ``../shared`` beside the repository."""
    return Path(os.environ.get("ASL_SHARED", REPO_ROOT.parent / "shared"))


def default_backbone_weights() -> Path | None:
    """The local copy of the ImageNet AlexNet weights, or None to let torchvision download them."""
    path = shared_dir() / BACKBONE_FILE
    return path if path.is_file() else None
