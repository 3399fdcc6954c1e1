"""Writing files so that an interrupted write never leaves a half file where a whole one is expected."""

from __future__ import annotations

import os
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from core.errors import UsageError, naming

STALE_TEMP_S = 3600.0  # a temp file untouched this long belongs to a write that was killed


def write_target(path: Path) -> Path:
    """Where a write to ``path`` lands: a symlink is written through (its target is replaced, the link stays);
    anything that exists and is not a regular file (a folder, a device such as /dev/null, a FIFO, a socket) is
    refused with a :class:`UsageError`, never replaced."""
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return path
    except OSError:
        return path  # unreadable metadata: the write itself reports what is wrong
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a device, a FIFO or a socket)"
        raise UsageError(f"{path} is {kind}: give the name of a file to write")
    return path


def atomic_write(path: Path, write: Callable[[Path], object], mode: int = 0o644) -> None:
    """Call ``write(temp)`` on a temporary file beside ``path``, then rename it to ``path`` in one step: readers
    see the old file or the new one, never a part (a killed run, a full disk). OS errors name ``path``. A
    symlink is written through and what is not a regular file is refused (:func:`write_target`)."""
    path = write_target(path)
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


def remove_stale_temps(folder: Path, max_age_s: float = STALE_TEMP_S) -> int:
    """Delete the temporary files that :func:`atomic_write` left in ``folder`` when its process was killed (a
    write in progress is younger than ``max_age_s``); returns how many went."""
    removed = 0
    cutoff = time.time() - max_age_s
    for tmp in Path(folder).glob(".*.tmp"):
        try:
            if tmp.is_file() and tmp.stat().st_mtime < cutoff:
                tmp.unlink()
                removed += 1
        except OSError:
            continue  # removed by another process meanwhile, or not ours to remove
    return removed
