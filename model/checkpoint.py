"""One self-contained checkpoint file: backbone and head weights, class names, preprocessing, training
metadata and metrics. Plain tensors and Python values only, so it loads with ``weights_only=True``.

Weights are stored in half precision, half the size on disk (and in git), and computed in float32 after loading:
the held-out scores of the shipped model are the same either way (README)."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from core.files import atomic_write
from core.letters import NO_LETTER
from model.network import FEATURE_SHAPE, HeadConfig, LetterHead, LetterNet, bare_alexnet_features
from model.preprocess import Preprocess
from model.storage import CheckpointError, load_weights, read_weights_file

FORMAT = "asl-letters/1"
MAX_MARGIN = 2.0  # the shipped models use 0.25


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
    payload = _payload(ckpt)
    atomic_write(Path(path), lambda tmp: torch.save(payload, tmp))


def checkpoint_bytes(ckpt: Checkpoint) -> bytes:
    """The checkpoint file's bytes, as :func:`save_checkpoint` writes them (a download of a personal model)."""
    buffer = io.BytesIO()
    torch.save(_payload(ckpt), buffer)
    return buffer.getvalue()


def _payload(ckpt: Checkpoint) -> dict:
    return {
        "format": FORMAT,
        "classes": list(ckpt.classes),
        "preprocess": ckpt.preprocess.to_dict(),
        "head_config": ckpt.net.head.config.to_dict(),
        "backbone": _compact(ckpt.net.backbone.state_dict()),
        "head": _compact(ckpt.net.head.state_dict()),
        "info": ckpt.info,
    }


def _compact(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Floating-point tensors in half precision, on the CPU; loading copies them back into float32 weights."""
    return {k: (v.half() if v.is_floating_point() else v).detach().cpu().contiguous() for k, v in state.items()}


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> Checkpoint:
    """Load a checkpoint; any problem with the file becomes a one-line :class:`CheckpointError`."""
    path = Path(path)
    payload = read_weights_file(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(f"{path} is not an {FORMAT} checkpoint (found {found!r})")
    try:
        head = LetterHead(HeadConfig(**payload["head_config"]))
        load_weights(head, payload["head"], f"{path} (head)")
        backbone = bare_alexnet_features()
        load_weights(backbone, payload["backbone"], f"{path} (backbone)")
        classes = [str(c) for c in payload["classes"]]
        if len(classes) != head.config.num_classes:
            raise ValueError(f"{len(classes)} class names for {head.config.num_classes} outputs")
        preprocess = Preprocess.from_dict(payload["preprocess"])
        check_preprocess(preprocess, backbone)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else f"{type(exc).__name__} {exc}"
        raise CheckpointError(f"{path} is incompatible with this version: {reason[:160]}") from None
    net = LetterNet(backbone, head).to(device).eval()
    return Checkpoint(net, classes, preprocess, payload.get("info", {}))


def check_preprocess(preprocess: Preprocess, backbone: torch.nn.Module) -> None:
    """Stored settings that the network can take: three finite means and positive deviations, a crop margin of at
    most :data:`MAX_MARGIN` (a huge one would cut a crop of gigapixels from every frame), and an input size whose
    backbone features the head was built for (one small forward pass finds out)."""
    p = preprocess
    if len(p.mean) != 3 or len(p.std) != 3:
        raise ValueError(f"preprocessing needs 3 means and 3 deviations (RGB), found {len(p.mean)} and {len(p.std)}")
    finite = all(math.isfinite(v) for v in (*p.mean, *p.std, p.margin))
    if not finite or not all(-1 <= m <= 2 for m in p.mean) or not all(1e-3 <= d <= 10 for d in p.std):
        raise ValueError(f"preprocessing settings out of range: mean {p.mean}, std {p.std}, margin {p.margin}")
    if not 0 <= p.margin <= MAX_MARGIN:
        raise ValueError(f"crop margin {p.margin} is out of range (0 to {MAX_MARGIN} of the hand's size on each side)")
    if not 32 <= p.input_size <= 1024:
        raise ValueError(f"input size {p.input_size} is out of range")
    with torch.inference_mode():
        shape = tuple(backbone(torch.zeros(1, 3, p.input_size, p.input_size)).shape[1:])
    if shape != FEATURE_SHAPE:
        raise ValueError(f"input size {p.input_size} gives features {shape}; the head takes {FEATURE_SHAPE}")
