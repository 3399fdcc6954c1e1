"""Reading weight files safely (``weights_only=True``) and loading them into modules, with one-line errors that
name what is wrong: torch's own messages run to paragraphs and, for a file that is not a checkpoint at all,
advise turning off ``weights_only``, which is the wrong advice here."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core.errors import AslError

MAX_UNPACKED_BYTES = 256_000_000  # the shipped models unpack to about 8 MB; AlexNet's full weights to 244 MB
MAX_ENTRIES = 10_000


class CheckpointError(AslError):
    """A checkpoint or weights file that cannot be used; the message is one line for the user."""


def read_weights_file(path: Path, what: str = "model file") -> Any:
    """The plain tensors and values in a PyTorch file (never code: ``weights_only``)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{what} not found: {path}")
    check_unpacked_size(path, what)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for truncated or foreign files
        raise CheckpointError(f"cannot read {what} {path} (corrupt or not a checkpoint): {_why(exc)}") from None


def check_unpacked_size(path: Path, what: str) -> None:
    """Refuse a zip (torch.save's format) that says it unpacks to more than :data:`MAX_UNPACKED_BYTES`, from its
    directory, before anything is unpacked: a small compressed file can otherwise take gigabytes to read."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip: torch.load says what it is
    unpacked = sum(e.file_size for e in entries)
    if unpacked > MAX_UNPACKED_BYTES or len(entries) > MAX_ENTRIES:
        raise CheckpointError(
            f"{what} {path} unpacks to {unpacked / 1e6:.0f} MB in {len(entries)} parts: more than a model holds "
            f"(at most {MAX_UNPACKED_BYTES // 1_000_000} MB, {MAX_ENTRIES} parts)"
        )


def _why(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, PermissionError):
        return "no permission to read it"
    if isinstance(exc, (EOFError, OSError)) or "zip archive" in text:
        return "the file is damaged or cut short (an interrupted copy or save?)"
    if isinstance(exc, pickle.UnpicklingError):
        return "not a PyTorch file, or one holding more than plain tensors and values"
    return (text.strip().splitlines() or [type(exc).__name__])[0][:160]


def load_weights(module: nn.Module, state: Any, where: str, ignore: tuple[str, ...] = ()) -> None:
    """Copy ``state`` into ``module`` after checking it fits: every key present, none extra, every shape the
    module's, every number finite (a diverged training run writes NaN). Keys starting with ``ignore`` may be
    missing. Whatever does not fit is named in the error."""
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{where} holds no weights")
    expected = module.state_dict()
    missing = [k for k in expected if k not in state and not k.startswith(ignore)]
    extra = [k for k in state if k not in expected]
    if missing or extra:
        listed = ", ".join([f"missing {k}" for k in missing[:2]] + [f"unexpected {k}" for k in extra[:2]])
        raise CheckpointError(f"{where} is incompatible with this network: {listed}")
    for key, value in state.items():
        if value.shape != expected[key].shape:
            raise CheckpointError(
                f"{where} is incompatible with this network: {key} is {tuple(value.shape)} in the file, "
                f"{tuple(expected[key].shape)} here"
            )
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise CheckpointError(f"{where} has weights that are not finite numbers ({key}): a diverged training run?")
    module.load_state_dict(state, strict=not ignore)
