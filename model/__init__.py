"""Networks, checkpoint I/O and the shipped weights."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# The default model: A-I and "no letter". It stays the default until the alphabet model's A-I accuracy on unseen
# signers is within 0.3 points of its own (README: "The alphabet model").
SHIPPED_CHECKPOINT = REPO_ROOT / "model" / "weights" / "asl_letters.pt"
ALPHABET_CHECKPOINT = REPO_ROOT / "model" / "weights" / "asl_alphabet.pt"  # the 24 still letters and "no letter"
BACKBONE_FILE = "weights/alexnet_features_imagenet1k_v1.pth"
DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")  # model.device.pick_device; here so flags need no torch


def shared_dir() -> Path:
    """The shared data folder: ``$ASL_SHARED`` if set, else ``../shared`` beside the repository."""
    return Path(os.environ.get("ASL_SHARED", REPO_ROOT.parent / "shared"))


def default_backbone_weights() -> Path | None:
    """The local copy of the ImageNet AlexNet weights, or None to let torchvision download them."""
    path = shared_dir() / BACKBONE_FILE
    return path if path.is_file() else None
