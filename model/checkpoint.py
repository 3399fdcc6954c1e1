"""One self-contained checkpoint file: backbone and head weights, class names, preprocessing, training
metadata and metrics. Plain tensors and Python values only, so it loads with ``weights_only=True``.

Weights are stored in half precision, half the size on disk (and in git), and computed in float32 after loading:
the held-out scores of the shipped model are the same either way (README)."""

from __future__ import annotations

import os
import pickle
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

from core.errors import AslError
from core.letters import NO_LETTER
from model.network import HeadConfig, LetterHead, LetterNet, bare_alexnet_features
from model.preprocess import Preprocess

FORMAT = "asl-letters/1"


class CheckpointError(AslError):
    """A checkpoint that cannot be used; the message is one line for the user."""


@dataclass
class Checkpoint:
    net: LetterNet
    classes: list[str]
    preprocess: Preprocess
    info: dict = field(default_factory=dict)  # training metadata and metrics

    @property
    def letters(self) -> list[str]:
        return [c for c in self.classes if c != NO_LETTER]


def save_checkpoint(path: Path, ckpt: Checkpoint) -> None:
    """Write atomically (temp file, then rename), so an interrupted save never leaves a broken checkpoint."""
    payload = {
        "format": FORMAT,
        "classes": list(ckpt.classes),
        "preprocess": ckpt.preprocess.to_dict(),
        "head_config": ckpt.net.head.config.to_dict(),
        "backbone": _compact(ckpt.net.backbone.state_dict()),
        "head": _compact(ckpt.net.head.state_dict()),
        "info": ckpt.info,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _compact(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Floating-point tensors in half precision, on the CPU; loading copies them back into float32 weights."""
    return {k: (v.half() if v.is_floating_point() else v).detach().cpu().contiguous() for k, v in state.items()}


def _load_failure(exc: Exception) -> str:
    """Why ``torch.load`` failed, in a few words: its own messages run to paragraphs and, for a file that is
    not a checkpoint at all, advise turning off ``weights_only``, which is the wrong advice here."""
    text = str(exc)
    if isinstance(exc, PermissionError):
        return "no permission to read it"
    if isinstance(exc, (EOFError, OSError)) or "zip archive" in text:
        return "the file is damaged or cut short (an interrupted copy or save?)"
    if isinstance(exc, pickle.UnpicklingError):
        return "not a PyTorch file, or one holding more than plain tensors and values"
    return (text.strip().splitlines() or [type(exc).__name__])[0][:160]


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> Checkpoint:
    """Load a checkpoint; any problem with the file becomes a one-line :class:`CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"model file not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for truncated or foreign files
        raise CheckpointError(
            f"cannot read model file {path} (corrupt or not a checkpoint): {_load_failure(exc)}"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(f"{path} is not an {FORMAT} checkpoint (found {found!r})")
    try:
        head = LetterHead(HeadConfig(**payload["head_config"]))
        head.load_state_dict(payload["head"])
        backbone = bare_alexnet_features()
        backbone.load_state_dict(payload["backbone"])
        classes = [str(c) for c in payload["classes"]]
        if len(classes) != head.config.num_classes:
            raise ValueError(f"{len(classes)} class names for {head.config.num_classes} outputs")
        preprocess = Preprocess.from_dict(payload["preprocess"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        reason = str(exc).strip().splitlines()[0]
        raise CheckpointError(f"{path} is incompatible with this version: {reason[:160]}") from None
    net = LetterNet(backbone, head).to(device).eval()
    return Checkpoint(net, classes, preprocess, payload.get("info", {}))
