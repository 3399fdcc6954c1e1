"""The live loop's stages and sources: tracking one frame ahead keeps every frame of a file in order, raises the
source's errors where the loop runs and stops when told; the newest-frame reader drops what a slow consumer
cannot take, for a webcam and for the simulated camera the benchmark measures latency with."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from realtime.capture import Frame, FrameSource, LatestFrame, SimulatedCamera, SourceLost, letterbox
from realtime.live import TrackAhead, TrackInline, run_live
from realtime.overlay import Overlay
from realtime.pipeline import FrameResult, Tracked
from realtime.sinks import Sinks


class Frames(FrameSource):
    """``n`` tiny frames; raises SourceLost instead of frame ``fail_at``."""

    is_camera, fps, width, height = False, 30.0, 4, 4

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n, self.fail_at, self.i = n, fail_at, 0

    def read(self) -> Frame | None:
        if self.i == self.fail_at:
            raise SourceLost("the file is cut short")
        if self.i >= self.n:
            return None
        self.i += 1
        return Frame(np.zeros((4, 4, 3), np.uint8), self.i - 1, (self.i - 1) / self.fps, time.perf_counter())

    def close(self) -> None:
        pass


class Stages:
    """A pipeline whose stages record the thread and order they ran in; tracking takes ``track_s``."""

    def __init__(self, track_s: float = 0.0, finish_s: float = 0.0) -> None:
        self.track_s, self.finish_s = track_s, finish_s
        self.tracked: list[tuple[int, str]] = []
        self.finished: list[int] = []

    def track(self, frame: Frame) -> Tracked:
        time.sleep(self.track_s)
        self.tracked.append((frame.index, threading.current_thread().name))
        return Tracked(frame, [], 1.0)

    def finish(self, tracked: Tracked) -> FrameResult:
        time.sleep(self.finish_s)
        self.finished.append(tracked.frame.index)
        return FrameResult(tracked.frame, timings_ms={"track": tracked.track_ms})


class Collect:
    def __init__(self) -> None:
        self.indices: list[int] = []

    def write(self, result: FrameResult) -> None:
        self.indices.append(result.frame.index)

    def close(self) -> None:
        pass


def loop(source: FrameSource, stages: Stages, overlap: bool, stop: threading.Event | None = None) -> list[int]:
    with Sinks() as sinks:
        seen = sinks.add(Collect())
        run_live(source, stages, sinks, Overlay(), stop=stop, overlap=overlap)  # type: ignore[arg-type]
    return seen.indices


@pytest.mark.parametrize("overlap", [True, False])
def test_every_frame_of_a_file_is_processed_in_order(overlap):
    stages = Stages(track_s=0.002)
    assert loop(Frames(40), stages, overlap) == list(range(40))
    assert stages.finished == list(range(40))
    threads = {name for _, name in stages.tracked}
    assert threads == ({"track-ahead"} if overlap else {threading.current_thread().name})


def test_tracking_runs_while_the_previous_frame_finishes():
    spans: dict[tuple[str, int], tuple[float, float]] = {}

    class Timed(Stages):
        def track(self, frame: Frame) -> Tracked:
            t = time.perf_counter()
            out = super().track(frame)
            spans["track", frame.index] = t, time.perf_counter()
            return out

        def finish(self, tracked: Tracked) -> FrameResult:
            t = time.perf_counter()
            out = super().finish(tracked)
            spans["finish", tracked.frame.index] = t, time.perf_counter()
            return out

    loop(Frames(10), Timed(track_s=0.02, finish_s=0.02), overlap=True)
    overlapping = [
        n
        for n in range(9)
        if spans["track", n + 1][0] < spans["finish", n][1] and spans["finish", n][0] < spans["track", n + 1][1]
    ]
    assert len(overlapping) >= 5, f"frame n+1 was tracked while frame n finished only for frames {overlapping}"


@pytest.mark.parametrize("overlap", [True, False])
def test_a_source_error_is_raised_in_the_loop(overlap):
    with pytest.raises(SourceLost, match="cut short"):
        loop(Frames(10, fail_at=5), Stages(), overlap)


def test_stop_ends_the_run_and_the_tracking_thread():
    stop = threading.Event()

    class StopAtFive(Collect):
        def write(self, result: FrameResult) -> None:
            super().write(result)
            if result.frame.index == 5:
                stop.set()

    with Sinks() as sinks:
        seen = sinks.add(StopAtFive())
        run_live(Frames(1000), Stages(), sinks, Overlay(), stop=stop)  # type: ignore[arg-type]
    assert seen.indices == list(range(6))
    assert not any(t.name == "track-ahead" for t in threading.enumerate())


def test_the_end_of_the_source_stays_the_end():
    with TrackAhead(Frames(2), Stages()) as ahead:  # type: ignore[arg-type]
        got = [ahead.next(), ahead.next(), ahead.next(), ahead.next()]
    assert [t.frame.index if t else None for t in got] == [0, 1, None, None]
    with TrackInline(Frames(1), Stages()) as inline:  # type: ignore[arg-type]
        assert inline.next() is not None and inline.next() is None


def test_the_newest_frame_reader_drops_what_a_slow_consumer_cannot_take():
    images = iter(np.full((2, 2, 3), i, np.uint8) for i in range(50))

    def grab():
        time.sleep(0.002)
        return next(images, None)

    reader = LatestFrame(grab, name="test-reader")
    time.sleep(0.05)
    first = reader.take(1.0)
    assert first is not None and first.image[0, 0, 0] > 5, "a slow consumer gets the newest frame, not the first"
    taken = [first.image[0, 0, 0]]
    while (latest := reader.take(1.0)) is not None:
        taken.append(latest.image[0, 0, 0])
    assert taken == sorted(taken) and taken[-1] == 49
    reader.stop()


def test_a_simulated_camera_plays_a_file_at_its_rate_and_ends_with_it(tmp_path):
    path = tmp_path / "clip.avi"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 50.0, (64, 48))
    for i in range(25):
        out.write(np.full((48, 64, 3), i * 10, np.uint8))
    out.release()
    t0 = time.perf_counter()
    with SimulatedCamera(path, size=(32, 32)) as camera:
        frames = list(camera)
    elapsed = time.perf_counter() - t0
    assert 0.4 <= elapsed < 2.0, f"25 frames at 50 fps took {elapsed:.2f} s"
    assert frames and all(f.image.shape == (32, 32, 3) for f in frames)
    assert all(0 <= time.perf_counter() - f.captured < 5 for f in frames)
    assert [f.index for f in frames] == list(range(len(frames)))


def test_letterbox_keeps_the_whole_frame_centred():
    tall = np.full((1920, 1080, 3), 255, np.uint8)
    boxed = letterbox(tall, (640, 480))
    assert boxed.shape == (480, 640, 3)
    cols = np.flatnonzero(boxed[240, :, 0])
    assert cols[0] == (640 - 270) // 2 and len(cols) == 270
    assert boxed[:, 0].max() == 0 and boxed[:, -1].max() == 0
