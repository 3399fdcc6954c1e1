"""Frame sources: a webcam and a video file behind one interface.

Both are iterables of :class:`Frame` and context managers. Iteration ends when a file is done (a camera never
is); a source that cannot open raises :class:`SourceError`, one that stops delivering raises
:class:`SourceLost`, the same for both. A camera is read by a background thread that keeps only the newest
frame, so a slow stage drops frames instead of building lag. A file is read frame by frame, none skipped, at
its own rate or as fast as possible.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np

from core.errors import EXIT_FAILED, AslError
from realtime.mp4 import complete_tracks

log = logging.getLogger(__name__)
# OpenCV's and FFmpeg's own warnings ("overread 8" on a recording cut short) would bury the one-line errors the
# project gives instead.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
cv2.setLogLevel(0)  # silent


CONTAINERS = "MP4, MOV, AVI, MKV or WebM"


def video_container(head: bytes) -> str | None:
    """The container a file's first bytes announce: "mp4" (MP4 and QuickTime MOV), "avi" or "mkv" (Matroska and
    WebM), or None. Only these single-file containers are opened: FFmpeg picks its demuxer by what a file holds,
    not by its name, and some of its formats read other files or URLs (HLS and other playlists, concat lists,
    image sequences); a file that begins like one of these three is read by their demuxers, which do not."""
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return "mp4"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "mkv"
    return None


def open_video(path: Path) -> cv2.VideoCapture:
    """OpenCV's FFmpeg reader for a video file (never its image-sequence reader), its native warnings silenced
    (this module's import does that)."""
    return cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)


class SourceError(AslError):
    """A source that cannot be opened; the message says what to try."""


class SourceLost(SourceError):
    """A source that stopped delivering part way: the run did not see all it should have."""

    exit_code = EXIT_FAILED


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # BGR
    index: int  # frames delivered by the source so far (a camera's skipped frames are not counted)
    t: float  # seconds since the source started: capture time for a camera, position in a file
    captured: float = 0.0  # time.perf_counter() when the source delivered it: latency is measured from here


S = TypeVar("S", bound="FrameSource")


class FrameSource:
    """What every source offers: iteration over its frames, ``describe()``, size and rate, and closing."""

    is_camera: bool
    fps: float
    width: int
    height: int

    def describe(self) -> str:
        raise NotImplementedError

    def read(self) -> Frame | None:
        """The next frame, or None when the source is done."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __iter__(self) -> Iterator[Frame]:
        while (frame := self.read()) is not None:
            yield frame

    def __enter__(self: S) -> S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class VideoTooLarge(SourceError):
    """A video whose frames are larger than the reader was asked to take."""


class VideoFile(FrameSource):
    """Every frame of a file. ``realtime`` paces reading to the file's frame rate, as a camera would.
    ``max_pixels``: a video whose header announces larger frames is refused before a frame is decoded."""

    is_camera = False

    def __init__(self, path: Path, realtime: bool = True, max_pixels: int | None = None) -> None:
        path = Path(path)
        if not path.is_file():
            raise SourceError(f"video file not found: {path}")
        try:
            with path.open("rb") as f:
                container = video_container(f.read(12))
        except OSError as e:
            raise SourceError(f"cannot read video {path}: {e.strerror}") from None
        if container is None:
            raise SourceError(f"cannot read video {path}: it is not an {CONTAINERS} file (convert it with ffmpeg)")
        self._salvaged: Path | None = None
        self._cap = open_video(path)
        w, h = (int(self._cap.get(p)) for p in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT))
        if max_pixels is not None and w * h > max_pixels:
            self._cap.release()
            raise VideoTooLarge(f"video of {w}x{h}: frames of at most {max_pixels:,} pixels are read")
        ok, first = self._cap.read() if self._cap.isOpened() else (False, None)
        if not ok or first is None:
            self._cap.release()
            self._salvaged = _salvage(path)
            if self._salvaged is not None:
                self._cap = open_video(self._salvaged)
                ok, first = self._cap.read() if self._cap.isOpened() else (False, None)
        if not ok or first is None:
            self._cap.release()
            self._remove_salvaged()
            raise SourceError(
                f"cannot read video {path}: not a video, damaged, or a codec OpenCV lacks "
                "(try converting it to .mp4 with ffmpeg)"
            )
        self.path = path
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 1 <= fps <= 240 else 30.0
        self.height, self.width = first.shape[:2]
        self.frame_count = max(0, int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT)))  # 0: the header does not say
        self.realtime = realtime
        self._pending: np.ndarray | None = first
        self._index = 0
        self._start = time.perf_counter()

    def describe(self) -> str:
        return f"{self.path.name}: {self.width}x{self.height} at {self.fps:.1f} fps, {self.frame_count} frames"

    def read(self) -> Frame | None:
        """The next frame, or None at the end of the file; :class:`SourceLost` when the file ends well before the
        frame count its header announces (cut short by an interrupted copy or download)."""
        if self._pending is not None:
            image, self._pending = self._pending, None
        else:
            ok, image = self._cap.read()
            if not ok:
                missing = self.frame_count - self._index
                if missing > max(2, 0.01 * self.frame_count):  # headers may estimate the count: a little slack
                    raise SourceLost(
                        f"{self.path} ended after {self._index} of the {self.frame_count} frames it announces: "
                        "the file is cut short (an interrupted copy or download?)"
                    )
                return None
        t = self._index / self.fps
        if self.realtime:
            delay = self._start + t - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        frame = Frame(image, self._index, t, time.perf_counter())
        self._index += 1
        return frame

    def close(self) -> None:
        self._cap.release()
        self._remove_salvaged()

    def _remove_salvaged(self) -> None:
        if self._salvaged is not None:
            self._salvaged.unlink(missing_ok=True)
            self._salvaged = None


def _salvage(path: Path) -> Path | None:
    """A temporary copy of an MP4 whose index is cut short, without the cut part (``realtime.mp4``), or None."""
    if path.suffix.lower() not in (".mp4", ".m4v", ".mov"):
        return None
    try:
        fixed = complete_tracks(path.read_bytes())
    except OSError:
        return None
    if fixed is None:
        return None
    fd, name = tempfile.mkstemp(suffix=path.suffix, prefix="salvaged-")
    with os.fdopen(fd, "wb") as f:
        f.write(fixed)
    log.warning("%s: its index is cut short (an interrupted copy?); reading its whole video track", path.name)
    return Path(name)


class LatestFrame:
    """A reader thread that keeps only the newest frame of ``grab`` (an image, or None when there are no more)
    with the time it arrived, so a slow consumer drops frames instead of building lag. A webcam is read through
    it, and so is the simulated camera the benchmark measures latency with."""

    def __init__(self, grab: Callable[[], np.ndarray | None], name: str) -> None:
        self._grab = grab
        self._taken = 0  # frames handed out: the next frame's index
        self._lock = threading.Condition()
        self._latest: tuple[np.ndarray, float] | None = None
        self._running = True
        self._error: AslError | None = None
        self.start = time.perf_counter()
        self._thread = threading.Thread(target=self._reader, name=name, daemon=True)
        self._thread.start()

    def _reader(self) -> None:
        try:
            while self._running:
                image = self._grab()
                if image is None:
                    break
                with self._lock:
                    self._latest = image, time.perf_counter()
                    self._lock.notify_all()
        except AslError as e:
            self._error = e
        finally:
            with self._lock:
                self._running = False
                self._lock.notify_all()

    def take(self, timeout_s: float | None = None) -> Frame | None:
        """The newest frame not yet taken (``t`` and ``captured`` from its arrival); waits for one. None when
        the reader has stopped, or nothing came within ``timeout_s``; the reader's error, if it had one."""
        with self._lock:
            self._lock.wait_for(lambda: self._latest is not None or not self._running, timeout=timeout_s)
            latest, self._latest = self._latest, None
        if latest is None:
            if self._error is not None:
                raise self._error
            return None
        image, arrived = latest
        self._taken += 1
        return Frame(image, self._taken - 1, arrived - self.start, arrived)

    def stop(self) -> None:
        self._running = False
        self._thread.join(timeout=1.0)


class Camera(FrameSource):
    """A webcam, read through :class:`LatestFrame`. It never ends by itself."""

    is_camera = True

    def __init__(
        self,
        index: int,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        stall_timeout_s: float = 3.0,
    ) -> None:
        self._cap = cv2.VideoCapture(index)
        if not self._cap.isOpened():
            raise SourceError(
                f"camera {index} will not open: check it is connected and not used by another "
                "program, or try another index (python run.py --list-cameras)"
            )
        for prop, value in (
            (cv2.CAP_PROP_FRAME_WIDTH, width),
            (cv2.CAP_PROP_FRAME_HEIGHT, height),
            (cv2.CAP_PROP_FPS, fps),
        ):
            if value:
                self._cap.set(prop, value)
        ok, first = self._cap.read()
        if not ok:
            self._cap.release()
            raise SourceError(
                f"camera {index} opened but gives no frames: close other programs using it, "
                "check camera permissions, or try another index"
            )
        self.index = index
        self.height, self.width = first.shape[:2]
        self.fps = self._cap.get(cv2.CAP_PROP_FPS) or 0.0
        self.stall_timeout_s = stall_timeout_s
        self._reader = LatestFrame(self._grab, name=f"camera-{index}")

    def _grab(self) -> np.ndarray | None:
        ok, image = self._cap.read()
        return image if ok else None

    def describe(self) -> str:
        return f"camera {self.index}: {self.width}x{self.height} at {self.fps:.1f} fps (as delivered)"

    def read(self) -> Frame:
        """The newest frame not yet returned; waits for one, and raises if the camera goes silent."""
        frame = self._reader.take(self.stall_timeout_s)
        if frame is None:
            raise SourceLost(
                f"camera {self.index} stopped delivering frames (unplugged, or taken by another "
                "program): reconnect it and start again"
            )
        return frame

    def close(self) -> None:
        self._reader.stop()
        self._cap.release()


class SimulatedCamera(FrameSource):
    """A webcam played from a video file: its frames, decoded and letterboxed to ``size`` (width, height) before
    the start, as a camera delivers them, at the file's frame rate into :class:`LatestFrame`, so frames the
    consumer is too slow for are dropped and each frame's ``captured`` time is when it "arrived". Decoding
    first keeps the file's decoder off the cores while it plays, as a real camera's capture costs next to
    nothing. At most ``max_frames`` are played; it ends after the last."""

    is_camera = True

    def __init__(self, path: Path, size: tuple[int, int] | None = None, max_frames: int = 900) -> None:
        with VideoFile(path, realtime=False) as file:
            self.fps, self.name = file.fps, file.path.name
            self._images = [
                frame.image if size is None else letterbox(frame.image, size)
                for frame, _ in zip(file, range(max_frames))
            ]
        self.height, self.width = self._images[0].shape[:2]
        self.delivered = 0  # frames the camera has shown, taken or not
        self._start = time.perf_counter()
        self._reader = LatestFrame(self._grab, name="simulated-camera")

    def _grab(self) -> np.ndarray | None:
        if self.delivered >= len(self._images):
            return None
        delay = self._start + self.delivered / self.fps - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        self.delivered += 1
        return self._images[self.delivered - 1]

    def describe(self) -> str:
        return f"{self.name} as a {self.width}x{self.height} camera at {self.fps:.1f} fps"

    def read(self) -> Frame | None:
        return self._reader.take()

    def close(self) -> None:
        self._reader.stop()


def letterbox(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` scaled to fit ``size`` (width, height) whole, centred on black."""
    w, h = size
    scale = min(w / image.shape[1], h / image.shape[0])
    fw, fh = max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale))
    out = np.zeros((h, w, 3), dtype=image.dtype)
    x, y = (w - fw) // 2, (h - fh) // 2
    out[y : y + fh, x : x + fw] = cv2.resize(image, (fw, fh), interpolation=cv2.INTER_AREA)
    return out


def open_source(
    camera: int | None = None,
    video: Path | None = None,
    realtime: bool = True,
    width: int | None = None,
    height: int | None = None,
    fps: float | None = None,
) -> FrameSource:
    """A camera by index, or else a video file (``realtime``: paced at its own frame rate)."""
    if camera is not None:
        return Camera(camera, width, height, fps)
    if video is None:
        raise SourceError("no source: give a camera index or a video file")
    return VideoFile(video, realtime=realtime)


def list_cameras(max_index: int = 8) -> list[str]:
    """One line per camera index that opens and delivers a frame."""
    found = []
    for i in range(max_index):
        cap = cv2.VideoCapture(i)
        ok = cap.isOpened() and cap.read()[0]
        if ok:
            found.append(
                f"{i}: {int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))}x{int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))}"
                f" at {cap.get(cv2.CAP_PROP_FPS):.0f} fps"
            )
        cap.release()
    return found
