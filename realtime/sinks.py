"""Where results go: each output is a sink with ``write(result)`` and ``close()``.

The live loop hands every processed frame to every sink; :class:`Sinks` closes them all, in reverse order of
opening, even when the run ends in an error, so no file is left half written without its end.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

import cv2

from core.errors import UsageError, naming
from core.files import atomic_write
from realtime.overlay import Overlay
from realtime.recording import check_video_written

if TYPE_CHECKING:
    from realtime.pipeline import FrameResult
    from realtime.words import Transcript, WordEvent


class Sink(Protocol):
    def write(self, result: FrameResult) -> None: ...

    def close(self) -> None: ...


S = TypeVar("S", bound=Sink)


class Sinks:
    """The run's sinks, written in order and closed together."""

    def __init__(self) -> None:
        self._sinks: list[Sink] = []
        self._stack = contextlib.ExitStack()

    def add(self, sink: S) -> S:
        self._sinks.append(sink)
        self._stack.callback(sink.close)
        return sink

    def write(self, result: FrameResult) -> None:
        for sink in self._sinks:
            sink.write(result)

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Sinks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventLog:
    """One JSON line per committed letter (frame, time, letter, confidence, and ``top``: the likeliest classes of
    the probabilities averaged over the hold so far) and per finished word (frame, time, ``word`` as the
    transcript shows it, ``letters`` as read, ``corrected`` when the dictionary changed them), flushed as it
    happens. A letter that takes back the one before it (a J that began as an I) says so in ``replaces``, a
    double letter's second commit has ``"repeat": true``. The word being spelled when the run ends is finished on
    closing, so the file holds every word (given the ``transcript``)."""

    def __init__(self, path: Path, transcript: Transcript | None = None) -> None:
        self.path, self.transcript = Path(path), transcript
        self._file = open(path, "w", encoding="utf-8")
        self._last: tuple[int, float] = (-1, 0.0)  # frame and time of the last result written

    def write(self, result: FrameResult) -> None:
        self._last = result.frame.index, result.frame.t
        for e in result.events:
            if e.kind == "commit":
                line: dict[str, object] = {
                    "frame": result.frame.index,
                    "t": round(e.t, 3),
                    "letter": e.letter,
                    "confidence": round(e.confidence, 4),
                    "top": dict(e.top),
                }
                if e.replaces:
                    line["replaces"] = e.replaces
                if e.repeat:
                    line["repeat"] = True
                self._line(line)
        for w in result.words:
            self._word(result.frame.index, w)

    def _word(self, frame: int, w: WordEvent) -> None:
        self._line({"frame": frame, "t": round(w.t, 3), "word": w.word, "letters": w.letters, "corrected": w.corrected})

    def _line(self, line: dict[str, object]) -> None:
        with naming(self.path):
            self._file.write(json.dumps(line) + "\n")
            self._file.flush()

    def close(self) -> None:
        frame, t = self._last
        final = self.transcript.finish(t) if self.transcript is not None else None
        if final is not None:
            self._word(frame, final)
        with naming(self.path):
            self._file.close()


class TranscriptFile:
    """The transcript as plain text, its words separated by single spaces, rewritten whenever it changes (an
    edit too), so the file is whole at any moment: after Ctrl-C, an error or a crash it holds the text so far."""

    def __init__(self, path: Path, transcript: Transcript) -> None:
        self.path, self.transcript = Path(path), transcript
        self._written: str | None = None
        self._t = 0.0
        self._save()

    def write(self, result: FrameResult) -> None:
        self._t = result.frame.t
        self._save()

    def _save(self) -> None:
        text = self.transcript.text
        if text != self._written:
            data = (text + "\n").encode() if text else b""
            atomic_write(self.path, lambda tmp: tmp.write_bytes(data))
            self._written = text

    def close(self) -> None:
        self.transcript.finish(self._t)
        self._save()


class AnnotatedVideo:
    """The video as the window shows it (MPEG-4), opened at the first frame, whose size it takes."""

    def __init__(self, path: Path, fps: float, overlay: Overlay) -> None:
        self.path, self.fps, self.overlay = Path(path), fps or 30.0, overlay
        self._writer: cv2.VideoWriter | None = None
        self._frames = 0

    def write(self, result: FrameResult) -> None:
        view = self.overlay.render(result)
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = cv2.VideoWriter(
                str(self.path), cv2.VideoWriter.fourcc(*"mp4v"), self.fps, (view.shape[1], view.shape[0])
            )
            if not self._writer.isOpened():
                raise UsageError(f"cannot write video {self.path}: check the folder and the file extension (.mp4)")
        self._writer.write(view)
        self._frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            check_video_written(self.path, self._frames)
