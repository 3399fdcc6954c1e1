"""Recording a session for offline labeling: the raw frames (no overlay) and a sidecar JSONL.

What is guaranteed: a recording is never overwritten; after Ctrl-C, an error or closing the window both files
are complete and end on the same frame; after a hard kill (``kill -9``, a power cut) every frame and sidecar
line written before it is kept, bar the one in flight, and the project's tools read such a file as it is
(``train.label`` and ``calibrate.py --video`` count its frames by reading when it has no index).

Frames go into Motion-JPEG in an AVI container: every frame stands alone and the file is readable up to the
last frame written even after a hard kill (measured: ~95% of frames survive ``kill -9``; an MP4 written the
same way is unreadable without its closing index). The sidecar has one JSON line per frame, flushed as it is
written, so an interrupted session loses at most the frame in flight.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import cv2

from core.errors import RunFailure, UsageError, naming

if TYPE_CHECKING:  # only types here: reading a sidecar needs neither torch nor MediaPipe
    from realtime.overlay import Overlay
    from realtime.pipeline import FrameResult

log = logging.getLogger(__name__)
VIDEO_SUFFIX = ".avi"


def sidecar_path(video: Path) -> Path:
    return Path(video).with_suffix(".jsonl")


def frame_record(index: int, result: FrameResult) -> dict:
    """The sidecar line for one frame."""
    rec: dict = {
        "frame": index,
        "source_frame": result.frame.index,
        "t": round(result.frame.t, 4),
        "hand": None,
        "prediction": None,
        "letter": result.letter,
    }
    if result.hand is not None:
        rec["hand"] = {
            "box": list(result.hand.box.xyxy),
            "handedness": result.hand.found.handedness,
            "landmarks": result.hand.landmarks.round(1).tolist(),
        }
        p = result.hand.prediction
        rec["prediction"] = {
            "label": p.label,
            "confidence": round(p.confidence, 4),
            "probs": dict(zip(p.classes, p.probs.round(4).tolist())),
        }
    if result.events:
        rec["events"] = [e.kind + (f":{e.letter}" if e.letter else "") for e in result.events]
    return rec


class Recorder:
    """A sink: each result's raw frame into the video, its record into the sidecar."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int]) -> None:
        path = Path(path)
        if path.suffix.lower() != VIDEO_SUFFIX:
            raise UsageError(f"recordings are Motion-JPEG AVI files: name it {path.with_suffix(VIDEO_SUFFIX).name}")
        check_new_recording(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        try:  # exclusive: of two runs that record to one name, the second stops here and writes nothing
            self._sidecar = open(sidecar_path(path), "x", encoding="utf-8")
        except FileExistsError:
            raise UsageError(f"{sidecar_path(path)} already exists: another run is recording to {path}?") from None
        self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps or 30.0, size)
        if not self._writer.isOpened():
            self._sidecar.close()
            sidecar_path(path).unlink()
            raise UsageError(f"cannot write video {path}: check the folder exists and is writable")
        self.size = size
        self.frames = 0

    def write(self, result: FrameResult) -> None:
        image = result.frame.image
        if (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size)
        self._writer.write(image)
        with naming(sidecar_path(self.path)):
            self._sidecar.write(json.dumps(frame_record(self.frames, result)) + "\n")
            self._sidecar.flush()
        self.frames += 1

    def close(self) -> None:
        self._writer.release()
        with naming(sidecar_path(self.path)):
            self._sidecar.close()
        check_video_written(self.path, self.frames)


def check_new_recording(path: Path) -> None:
    """Recordings are never overwritten: a name already taken (video or sidecar) is refused before any work."""
    for taken in (path, sidecar_path(path)):
        if taken.exists():
            raise UsageError(f"{taken} already exists: recordings are never overwritten; choose another name")


def check_video_written(path: Path, frames: int) -> None:
    """OpenCV's writers report no errors (a full disk leaves an unplayable file): read the file back."""
    if frames == 0:
        return
    cap = cv2.VideoCapture(str(path))
    ok = cap.isOpened() and cap.read()[0]
    cap.release()
    if not ok:
        raise RunFailure(f"{path} could not be written ({frames} frames were sent): is the disk full?")


def read_sidecar(video: Path) -> list[dict]:
    """The sidecar lines of a recording ([] when it has none): every complete line is kept; a torn last line (a
    hard kill mid-write) is dropped, and a damaged line elsewhere is skipped with a warning."""
    path = sidecar_path(video)
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    records = []
    for n, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if n < len(lines):
                log.warning("%s line %d is damaged and was skipped", path, n)
    return records


class RecordingSwitch:
    """A sink that records while switched on (``--record`` from the start, or key r at any time)."""

    def __init__(self, fps: float, size: tuple[int, int], overlay: Overlay) -> None:
        self.fps, self.size, self.overlay = fps or 30.0, size, overlay
        self.recorder: Recorder | None = None

    def start(self, path: Path | None = None) -> None:
        path = path or Path("recordings") / f"session-{datetime.now():%Y%m%d-%H%M%S}.avi"
        self.recorder = Recorder(path, self.fps, self.size)
        self.overlay.status.recording = True
        self._notify(f"recording to {path}")

    def stop(self) -> None:
        if self.recorder is not None:
            self.recorder.close()
            self._notify(f"saved {self.recorder.frames} frames to {self.recorder.path}")
            self.recorder = None
        self.overlay.status.recording = False

    def toggle(self) -> None:
        self.stop() if self.recorder else self.start()

    def write(self, result: FrameResult) -> None:
        if self.recorder is not None:
            self.recorder.write(result)

    def close(self) -> None:
        self.stop()

    def _notify(self, message: str) -> None:
        log.info(message)
        self.overlay.status.notify(message)
