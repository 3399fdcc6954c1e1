"""Writing files so that an interrupted write never leaves a half file where a whole one is expected."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from core.errors import naming


def atomic_write(path: Path, write: Callable[[Path], object], mode: int = 0o644) -> None:
    """Call ``write(temp)`` on a temporary file beside ``path``, then rename it to ``path`` in one step: readers
    see the old file or the new one, never a part (a killed run, a full disk). OS errors name ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with naming(path):
            write(Path(tmp))
            os.chmod(tmp, mode)
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
