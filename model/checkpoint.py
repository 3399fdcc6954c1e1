"""One self-contained checkpoint file: backbone and head weights, class names, preprocessing, training
metadata and metrics. Plain tensors and Python values only, so it loads with ``weights_only=True``.

Weights are stored in half precision, half the size on disk (and in git), and computed in float32 after loading:
the held-out scores of the shipped model are the same either way (README)."""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import torch

from core.files import atomic_write
from core.letters import NO_LETTER
from model.network import FEATURE_SHAPE, HeadConfig, LetterHead, LetterNet, bare_alexnet_features
from model.preprocess import Preprocess
from model.storage import CheckpointError, load_weights, read_weights_file

FORMAT = "asl-letters/1"
MAX_MARGIN = 2.0  # the shipped models use 0.25
# What a checkpoint may ask this version to build, checked before anything is allocated: the shipped models have
# 10 and 25 classes, a hidden layer of 256 and 800 anchors.
MAX_CLASSES = 64
MAX_HIDDEN = 4096
MAX_ANCHORS = 10_000
MAX_MOVING_SHAPES = 50  # a signer's own J or Z paths kept (each one more comparison per movement)
MAX_PATH_POINTS = 256
CLASS_NAME = re.compile(r"[A-Z]")


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
        classes = check_classes(payload.get("classes"))
        head = LetterHead(check_head_config(payload.get("head_config"), len(classes)))
        load_weights(head, payload["head"], f"{path} (head)")
        backbone = bare_alexnet_features()
        load_weights(backbone, payload["backbone"], f"{path} (backbone)")
        info = check_info(payload.get("info", {}))
        preprocess = Preprocess.from_dict(payload["preprocess"])
        check_preprocess(preprocess, backbone)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else f"{type(exc).__name__} {exc}"
        raise CheckpointError(f"{path} is incompatible with this version: {reason[:160]}") from None
    net = LetterNet(backbone, head).to(device).eval()
    return Checkpoint(net, classes, preprocess, info)


def check_classes(classes: Any) -> list[str]:
    """Class names: distinct single capital letters, then at most one no-letter class, last."""
    if not isinstance(classes, list) or not 2 <= len(classes) <= MAX_CLASSES:
        raise ValueError(f"class names: expected a list of 2 to {MAX_CLASSES}")
    letters = classes[:-1] if classes[-1] == NO_LETTER else classes
    if not all(isinstance(c, str) and CLASS_NAME.fullmatch(c) for c in letters) or len(set(letters)) < len(letters):
        raise ValueError(f"class names must be distinct letters A-Z, then {NO_LETTER!r} (found {str(classes)[:60]})")
    return list(classes)


def check_head_config(config: Any, classes: int, expert: bool = False) -> HeadConfig:
    """The head's settings, every one of a type and size this version builds (an expert's too), so that a file
    cannot make the loader allocate gigabytes or build a head that answers NaN."""
    if not isinstance(config, dict):
        raise ValueError("no head settings")
    known = {f.name: f for f in fields(HeadConfig)}
    if unknown := sorted(set(config) - set(known)):
        raise ValueError(f"unknown head setting {unknown[0][:40]!r}")
    c = HeadConfig(**config)

    def whole(name: str, lo: int, hi: int) -> None:
        v = getattr(c, name)
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise ValueError(f"head setting {name} must be a whole number from {lo} to {hi}")

    def real(name: str, lo: float, hi: float) -> None:
        v = getattr(c, name)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not (math.isfinite(v) and lo <= v <= hi):
            raise ValueError(f"head setting {name} must be a number from {lo} to {hi}")

    whole("num_classes", 2, MAX_CLASSES)
    whole("hidden", 1, MAX_HIDDEN)
    whole("anchors", 0, MAX_ANCHORS)
    real("dropout", 0, 1)
    real("image_dropout", 0, 1)
    real("no_letter_offset", -20, 20)
    real("expert_weight", 0, 10)
    if c.image_branch not in ("pointwise", "original"):
        raise ValueError(f"unknown image branch {str(c.image_branch)[:20]!r}")
    flags = ("use_landmarks", "hand_shape", "shape_depth", "personal")
    if not all(isinstance(getattr(c, f), bool) for f in flags):
        raise ValueError(f"head settings {', '.join(flags)} must be true or false")
    if not expert and c.num_classes != classes:
        raise ValueError(f"{classes} class names for {c.num_classes} outputs")
    if c.expert is not None:
        if expert:
            raise ValueError("an expert inside an expert")
        inner = check_head_config(c.expert, 0, expert=True)
        mapping = c.expert_map
        if not isinstance(mapping, (list, tuple)) or len(mapping) != c.num_classes:
            raise ValueError(f"expert map of {c.num_classes} classes expected")
        if not all(isinstance(i, int) and 0 <= i < inner.num_classes for i in mapping):
            raise ValueError(f"expert map {str(mapping)[:40]} does not fit the expert's {inner.num_classes} classes")
        c = replace(c, expert_map=tuple(mapping))
    return c


def check_info(info: Any) -> dict:
    """Training metadata as the live loop reads it: a dict; personal J and Z paths of a bounded number and size."""
    if not isinstance(info, dict):
        raise ValueError("its info is not a dictionary")
    shapes = info.get("moving_shapes", {})
    if not isinstance(shapes, dict) or not set(shapes) <= {"J", "Z"}:
        raise ValueError("its personal J/Z shapes are damaged")
    for letter, paths in shapes.items():
        if not isinstance(paths, list) or len(paths) > MAX_MOVING_SHAPES:
            raise ValueError(f"at most {MAX_MOVING_SHAPES} personal {letter} shapes (found {len(paths)})")
        if not all(isinstance(p, list) and 2 <= len(p) <= MAX_PATH_POINTS for p in paths):
            raise ValueError(f"a personal {letter} shape is damaged or has more than {MAX_PATH_POINTS} points")
    if not isinstance(info.get("calibration", {}), dict):
        raise ValueError("its calibration record is damaged")
    return info


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
