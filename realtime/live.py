"""The live loop: frames from a source through the pipeline to the sinks and, when there is one, the window."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import threading
from collections.abc import Iterator

from realtime.capture import FrameSource
from realtime.monitor import FpsMeter, RunStats
from realtime.overlay import Overlay
from realtime.pipeline import FrameResult, Pipeline, Tracked
from realtime.sinks import Sinks
from realtime.window import Window


def run_live(
    source: FrameSource,
    pipeline: Pipeline,
    sinks: Sinks,
    overlay: Overlay,
    window: Window | None = None,
    stop: threading.Event | None = None,
    overlap: bool = True,
) -> RunStats:
    """Process the source until it ends, the person quits the window, or ``stop`` is set.

    Every processed frame goes to every sink (the window among them). With a window, a video that has ended
    holds its last frame until the person quits, and pause holds the current one (shown again, keys still
    read); without a window the run ends with the source. ``overlap`` reads and tracks the next frame on a
    thread of its own (:class:`TrackAhead`) while this one finishes the current frame.
    """
    stop = stop or threading.Event()
    stats, meter = RunStats(), FpsMeter()
    result: FrameResult | None = None
    ended = False
    with TrackAhead(source, pipeline) if overlap else TrackInline(source, pipeline) as tracked:
        while not stop.is_set():
            if result is None or not (ended or (window is not None and window.paused)):
                item = tracked.next()
                if item is None:
                    if window is None or result is None:
                        break
                    ended = True
                    window.notify("end of the video: q to quit")
                    continue
                result = pipeline.finish(item)
                overlay.status.fps = meter.tick()
                stats.add(result)
                sinks.write(result)
            elif window is not None:
                window.write(result)
            if window is not None and window.closed:
                break
    return stats


class TrackInline:
    """The source's frames tracked one at a time, on the caller's thread."""

    def __init__(self, source: FrameSource, pipeline: Pipeline) -> None:
        self._frames, self._pipeline = iter(source), pipeline

    def next(self) -> Tracked | None:
        frame = next(self._frames, None)
        return None if frame is None else self._pipeline.track(frame)

    def __enter__(self) -> TrackInline:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class TrackAhead(TrackInline):
    """Reads and tracks the next frame on a thread of its own while the caller finishes the current one.

    MediaPipe and torch release the GIL while they compute, so tracking and classifying share two cores. One
    tracked frame waits at most: a file still gives every frame in order, and a camera still drops what the
    loop is too slow for (its reader keeps only the newest frame) instead of building a queue. An error of the
    source (a camera gone silent, a file cut short) is raised by :meth:`next` in the caller's thread.
    """

    def __init__(self, source: FrameSource, pipeline: Pipeline) -> None:
        super().__init__(source, pipeline)
        self._queue: queue.Queue[Tracked | BaseException | None] = queue.Queue(maxsize=1)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._work, name="track-ahead", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        try:
            while (item := super().next()) is not None and self._put(item):
                pass
            self._put(None)
        except Exception as e:  # handed to the caller, who raises it
            self._put(e)

    def _put(self, item: Tracked | BaseException | None) -> bool:
        while not self._closed.is_set():
            with contextlib.suppress(queue.Full):
                self._queue.put(item, timeout=0.1)
                return True
        return False

    def next(self) -> Tracked | None:
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise item
        if item is None:
            self._queue.put(None)  # the end stays the end for a caller that asks again
        return item

    def __exit__(self, *exc: object) -> None:
        self._closed.set()
        self._thread.join()


def share_cores() -> None:
    """Leave a core to the hand tracker: torch computes on one thread fewer than there are cores.

    Tracking (MediaPipe, with the video decoder) and classifying run side by side (:class:`TrackAhead`). With
    torch's default of a thread per core, its threads wait for work spinning on the tracker's core, and the
    overlap gains little; with one fewer the two stages share two cores (README, "Speed").
    """
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 1) - 1))


@contextlib.contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by Ctrl-C or SIGTERM, so the loop finishes the frame in hand and every file ends on the same
    frame; a second signal interrupts at once. The previous handlers come back on exit."""
    stop = threading.Event()

    def handler(*_: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
