"""What every tool's command line shares: number types that refuse nonsense at parse time, and output paths
checked before the work, so a typo never throws away a finished run."""

from __future__ import annotations

import argparse
import errno
import logging
import math
import os
import re
import socket
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from core.errors import UsageError
from core.files import write_target

# Lines that MediaPipe, absl and TensorFlow Lite write from C++ at start-up, where Python's logging cannot reach.
NATIVE_NOISE = re.compile(
    rb"^(?:[IW]\d{4} \d\d:\d\d:\d\d|INFO: Created TensorFlow Lite|WARNING: All log messages before absl)"
)


def setup_logging(verbose: bool, from_command_line: bool) -> None:
    """A tool's logging: INFO, or DEBUG with ``--verbose``; from the command line (not when a program or a test
    calls the tool) the C++ start-up lines are filtered out too."""
    if from_command_line:
        quiet_native_logs(verbose)
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(message)s")


def quiet_native_logs(verbose: bool) -> None:
    """For a tool run from the command line: keep the C++ libraries' start-up lines out of the terminal (all of
    it shown with ``--verbose``). File descriptor 2 becomes a pipe whose lines are passed on unless they are
    such noise; Python's own ``sys.stderr`` writes to the terminal directly, so no message of ours can be lost
    in the pipe when the program exits. Call it before logging is set up."""
    if verbose:
        return
    sys.stderr.flush()
    terminal = os.dup(2)
    sys.stderr = open(terminal, "w", buffering=1, encoding=sys.stderr.encoding, errors="backslashreplace")
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def forward() -> None:
        with open(read_end, "rb") as pipe:
            for line in pipe:
                if not NATIVE_NOISE.match(line):
                    os.write(terminal, line)

    threading.Thread(target=forward, name="native-stderr", daemon=True).start()


def has_display() -> bool:
    """Whether a window can open. On Linux only with a display that answers: with none, or with a ``DISPLAY``
    whose server is gone, OpenCV's Qt aborts the whole process (exit 134) when the first window opens, so the
    X server's socket (or the Wayland compositor's) is tried first. Elsewhere assumed."""
    if not sys.platform.startswith("linux"):
        return True
    wayland = os.environ.get("WAYLAND_DISPLAY")
    if wayland and _connects(socket.AF_UNIX, os.path.join(os.environ.get("XDG_RUNTIME_DIR", ""), wayland)):
        return True
    display = os.environ.get("DISPLAY", "")
    m = re.fullmatch(r"(?:unix)?(?P<host>[^:/]*):(?P<n>\d+)(?:\.\d+)?", display)
    if not m:
        return bool(display.startswith("/") and _connects(socket.AF_UNIX, display))  # a launchd-style socket path
    if m["host"]:
        return _connects(socket.AF_INET, (m["host"], 6000 + int(m["n"])))
    return _connects(socket.AF_UNIX, f"/tmp/.X11-unix/X{m['n']}") or _connects(
        socket.AF_INET, ("127.0.0.1", 6000 + int(m["n"]))
    )


def _connects(family: int, address: str | tuple[str, int]) -> bool:
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(1.0)
            s.connect(address)
        return True
    except OSError:
        return False


def number(
    low: float | None = None, high: float | None = None, *, low_open: bool = False, integer: bool = False
) -> Callable[[str], float]:
    """An argparse ``type``: a finite number (no nan, no inf) within [low, high] (``low_open``: above low)."""

    def parse(text: str) -> float:
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            raise ValueError(text) from None  # argparse says "invalid parse value: TEXT"
        if (
            not math.isfinite(value)
            or (low is not None and (value <= low if low_open else value < low))
            or (high is not None and value > high)
        ):
            raise ValueError(text)
        return value

    bounds = f"{'(' if low_open else '['}{'' if low is None else low}, {'' if high is None else high}]"
    parse.__name__ = f"{'whole' if integer else 'finite'} number in {bounds}"
    return parse


def size_arg(text: str) -> tuple[int, int]:
    """An argparse ``type``: ``WIDTHxHEIGHT`` in pixels, like 640x480."""
    m = re.fullmatch(r"(\d{2,5})x(\d{2,5})", text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r}: give WIDTHxHEIGHT, like 640x480")
    return int(m[1]), int(m[2])


PICTURE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")  # what matplotlib writes in this project's setup


def picture_path(text: str) -> Path:
    """An argparse ``type``: the name of a picture to write, in a format the plots can be saved as."""
    path = Path(text)
    if path.suffix.lower() not in PICTURE_SUFFIXES:
        raise argparse.ArgumentTypeError(f"{text!r}: give a picture name ending in {', '.join(PICTURE_SUFFIXES)}")
    return path


def check_output(path: Path, what: str, folder: bool = False, replaced: bool = False) -> Path:
    """Make sure ``path`` can be written before any work starts: its folder exists (made if need be) and a file
    can be created in it (tried, as permission bits do not say what root or a read-only disk allows), and it is
    not a folder where a file is wanted (or a file where a folder is). ``replaced``: the file is written whole
    and renamed into place (``core.files.atomic_write``), so a device, FIFO or socket there is refused and a
    symlink is followed; a stream (``--events``) may go to any of them (``/dev/stdout``)."""
    path = Path(path)
    if folder:
        if path.exists() and not path.is_dir():
            raise UsageError(f"{what} {path} is a file, not a folder: choose another name")
        parent = path
    else:
        if path.is_dir():
            raise UsageError(f"{what} {path} is a folder: give a file name")
        if replaced:
            try:
                path = write_target(path)
            except UsageError as e:
                raise UsageError(f"{what}: {e}") from None
        elif path.exists() and not path.is_file():
            return path  # a device or a pipe to stream to: it is opened, not created
        parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        reason = "no permission to write there" if exc.errno in (errno.EACCES, errno.EPERM) else exc.strerror or exc
        raise UsageError(f"cannot write {what} {path}: {reason} ({parent})") from None
    return path


def check_distinct(inputs: Iterable[tuple[str, Path | None]], outputs: Iterable[tuple[str, Path | None]]) -> None:
    """Refuse a run whose outputs overwrite one of its inputs or one another (``(what, path)`` pairs)."""
    seen: dict[Path, str] = {}
    for what, path in inputs:
        if path is not None:
            seen[Path(path).resolve()] = what
    inputs_done = set(seen)
    for what, path in outputs:
        if path is None:
            continue
        key = Path(path).resolve()
        if key in seen:
            verb = "overwrite" if key in inputs_done else "write the same file as"
            raise UsageError(f"{what} {path} would {verb} {seen[key]}: choose another name")
        seen[key] = what
