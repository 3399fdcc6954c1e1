"""The live loop: frames from a source through the pipeline to the sinks and, when there is one, the window."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from realtime.capture import FrameSource
from realtime.monitor import FpsMeter, RunStats
from realtime.overlay import Overlay
from realtime.pipeline import FrameResult, Pipeline
from realtime.sinks import Sinks
from realtime.window import Window


def run_live(
    source: FrameSource,
    pipeline: Pipeline,
    sinks: Sinks,
    overlay: Overlay,
    window: Window | None = None,
    stop: threading.Event | None = None,
) -> RunStats:
    """Process the source until it ends, the person quits the window, or ``stop`` is set.

    Every processed frame goes to every sink (the window among them). With a window, a video that has ended
    holds its last frame until the person quits, and pause holds the current one (shown again, keys still
    read); without a window the run ends with the source.
    """
    stop = stop or threading.Event()
    stats, meter = RunStats(), FpsMeter()
    frames = iter(source)
    result: FrameResult | None = None
    ended = False
    while not stop.is_set():
        if result is None or not (ended or (window is not None and window.paused)):
            frame = next(frames, None)
            if frame is None:
                if window is None or result is None:
                    break
                ended = True
                window.notify("end of the video: q to quit")
                continue
            result = pipeline.process(frame)
            overlay.status.fps = meter.tick()
            stats.add(result)
            sinks.write(result)
        elif window is not None:
            window.write(result)
        if window is not None and window.closed:
            break
    return stats


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
