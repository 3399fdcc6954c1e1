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
from realtime.overlay import Overlay
from realtime.recording import check_video_written

if TYPE_CHECKING:
    from realtime.pipeline import FrameResult


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
    """One JSON line per committed letter (frame, time, letter, confidence), flushed as it happens; a letter that
    takes back the one before it (a J that began as an I) says so in ``replaces``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._file = open(path, "w", encoding="utf-8")

    def write(self, result: FrameResult) -> None:
        for e in result.events:
            if e.kind == "commit":
                line = {
                    "frame": result.frame.index,
                    "t": round(e.t, 3),
                    "letter": e.letter,
                    "confidence": round(e.confidence, 4),
                }
                if e.replaces:
                    line["replaces"] = e.replaces
                with naming(self.path):
                    self._file.write(json.dumps(line) + "\n")
                    self._file.flush()

    def close(self) -> None:
        with naming(self.path):
            self._file.close()


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
