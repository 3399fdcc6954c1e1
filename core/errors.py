"""One error family and one set of exit codes for every tool (``run.py``, ``calibrate.py``, ``asl ...``).

A tool raises an :class:`AslError` with a message of one line for the user, saying what to try; :func:`cli_main`
prints it as ``error: ...`` and exits with the error's code. Nobody prints tracebacks at users.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1  # the work started and could not finish: a camera went silent, a disk filled, a file ended early
EXIT_BAD_INPUT = 2  # nothing was done: bad flags, a missing or damaged file, a wrong dataset layout (argparse's too)
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM: what was written is closed cleanly but may be partial (128 + SIGINT)

log = logging.getLogger(__name__)


class AslError(Exception):
    """A problem the user can act on; ``str()`` is one line."""

    exit_code = EXIT_BAD_INPUT


class UsageError(AslError, ValueError):
    """A setting that cannot work (alone or with the others), found after argument parsing: a ValueError too."""


class RunFailure(AslError):
    """The work began but could not be completed."""

    exit_code = EXIT_FAILED


def describe_os_error(exc: OSError) -> str:
    """An OSError as one line that names the file: Python's own text often leaves it out (a full disk)."""
    what = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno == errno.ENOSPC:
        what = "the disk is full"
    name = exc.filename if exc.filename is not None else getattr(exc, "path", None)
    return f"{what}: {name}" if name else what


@contextlib.contextmanager
def naming(path: Path | str) -> Iterator[None]:
    """OS errors raised inside name ``path`` when they do not already (a write that fills the disk names no file)."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None:
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        raise


def cli_main(work: Callable[[], int]) -> int:
    """Run a tool's work and turn the errors its user can meet into one line and the documented exit code."""
    try:
        return work()
    except AslError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"error: {describe_os_error(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
