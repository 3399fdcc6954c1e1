"""Which torch device to run on."""

from __future__ import annotations

import torch

from core.errors import UsageError
from model import DEVICE_CHOICES


def pick_device(name: str = "auto") -> torch.device:
    """CUDA if available, else Apple MPS, else CPU; or the device named, with a clear error if it is absent."""
    if name not in DEVICE_CHOICES:
        raise UsageError(f"unknown device {name!r}: choose one of {', '.join(DEVICE_CHOICES)}")
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if (name == "cuda" and not cuda) or (name == "mps" and not mps):
        raise UsageError(f"device {name!r} was asked for but is not available here: use --device cpu or auto")
    return torch.device(name)
