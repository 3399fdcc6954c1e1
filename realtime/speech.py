"""Saying finished words aloud with espeak-ng, the local speech engine (``setup.sh`` installs it where it can)."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import UsageError

if TYPE_CHECKING:
    from realtime.pipeline import FrameResult

log = logging.getLogger(__name__)
ENGINE = "espeak-ng"


def engine() -> str:
    """The speech engine's path; a one-line error that says how to get it when it is missing."""
    path = shutil.which(ENGINE)
    if path is None:
        raise UsageError(f"--speak needs {ENGINE}: install it (sudo apt-get install {ENGINE}, brew install {ENGINE})")
    return path


def speak_to_wav(text: str, wav: Path) -> None:
    """Say ``text`` into a WAV file instead of the speakers."""
    subprocess.run([engine(), "-w", str(wav), text], check=True, capture_output=True, timeout=30)


class Speaker:
    """A sink that says each finished word, without waiting for the speech: a word still being said when the
    next one finishes is cut short, so speech never falls behind the signing."""

    def __init__(self) -> None:
        self._engine = engine()
        self._speaking: subprocess.Popen[bytes] | None = None

    def write(self, result: FrameResult) -> None:
        for w in result.words:
            self.say(w.word)

    def say(self, text: str) -> None:
        self._stop()
        try:
            self._speaking = subprocess.Popen(
                [self._engine, text.lower()], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        except OSError as e:  # speech is a help, not the work: the run goes on without it
            log.warning("cannot speak %r: %s", text, e)

    def _stop(self) -> None:
        if self._speaking is not None and self._speaking.poll() is None:
            self._speaking.terminate()
        self._speaking = None

    def close(self) -> None:
        if self._speaking is not None:
            try:
                self._speaking.wait(timeout=5)  # let the last word finish
            except subprocess.TimeoutExpired:
                self._stop()
