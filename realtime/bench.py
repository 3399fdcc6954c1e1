"""python -m realtime.bench --video CLIP: how fast the live loop runs against the hand tracker alone, and how late
a result comes after its frame was captured.

In one run, on the same clip, alternating round by round so that a machine's drift hits all alike:
- the floor: decoding the clip and tracking the hand, nothing else, at full size and (with tracking on a reduced
  copy) at the loop's tracking size;
- the live loop as ``run.py --no-window --fast`` runs it: stages overlapped, and one after the other;
- their ratio and the time of each stage;
- capture-to-result latency: the clip delivered at its own frame rate through the newest-frame reader a webcam
  uses (letterboxed to ``--camera-size``), from the moment a frame "arrives" to the moment its result is ready;
- how long after a letter's first frame the word's provisional reading shows it (``DisplayDelay``), in the clip's
  time: the reader's own delay, which capture to result adds to.
The last output line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.cli import number, setup_logging, size_arg
from core.errors import EXIT_OK, UsageError, cli_main
from model import DEVICE_CHOICES, SHIPPED_CHECKPOINT, model_path
from model.classifier import LetterClassifier
from realtime import LIVE_TRACK_MAX_SIDE
from realtime.capture import SimulatedCamera, VideoFile
from realtime.live import run_live, share_cores
from realtime.monitor import RunStats
from realtime.overlay import Overlay
from realtime.pipeline import FrameResult, Pipeline
from realtime.sinks import Sinks
from realtime.smoothing import LIVE_NO_LETTER_OFFSET
from realtime.tracking import HandTracker

log = logging.getLogger("realtime.bench")


def floor_fps(clip: Path, max_side: int | None, lite: bool) -> float:
    """Frames a second of decoding the clip and tracking its hand, with the live loop's tracker settings."""
    with VideoFile(clip, realtime=False) as source, HandTracker(video=True, max_side=max_side, lite=lite) as tracker:
        t0, n = time.perf_counter(), 0
        for frame in source:
            tracker.detect(frame.image)
            n += 1
    return n / (time.perf_counter() - t0)


def live_stats(
    clip: Path, classifier: LetterClassifier, overlap: bool, max_side: int | None, lite: bool
) -> tuple[RunStats, list[float]]:
    """The live loop on the clip, flat out and headless, as ``run.py --video CLIP --no-window --fast``; with the
    delay of each letter's display (``DisplayDelay``)."""
    with (
        VideoFile(clip, realtime=False) as source,
        Sinks() as sinks,
        Pipeline(classifier, track_max_side=max_side, track_lite=lite) as p,
    ):
        delay = sinks.add(DisplayDelay())
        return run_live(source, p, sinks, Overlay(), overlap=overlap), delay.seconds


class Latency:
    """A sink that notes, for every result, the seconds since its frame was captured."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def write(self, result: FrameResult) -> None:
        self.seconds.append(time.perf_counter() - result.frame.captured)

    def close(self) -> None:
        pass


def camera_latency(
    clip: Path, classifier: LetterClassifier, size: tuple[int, int], max_side: int | None, lite: bool
) -> tuple[list[float], int]:
    """(capture-to-result seconds of each processed frame, frames the simulated camera delivered)."""
    with Pipeline(classifier, track_max_side=max_side, track_lite=lite) as pipeline, Sinks() as sinks:
        latency = sinks.add(Latency())
        with SimulatedCamera(clip, size) as camera:
            run_live(camera, pipeline, sinks, Overlay())
    return latency.seconds, camera.delivered


class DisplayDelay:
    """A sink that notes, for every letter of every finished word, how long after the letter's first frame (in the
    clip's time) the provisional reading first showed it in its place and kept it: what a signer waits to see a
    letter, the tracking and classifying aside."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._shown: dict[int, tuple[str, float]] = {}  # position in the word -> (letter, since when)

    def write(self, result: FrameResult) -> None:
        for word in result.words:
            for i, (letter, onset) in enumerate(zip(word.letters, word.onsets)):
                shown = self._shown.get(i)
                if shown is not None and shown[0] == letter and not np.isnan(onset):
                    self.seconds.append(max(shown[1] - onset, 0.0))
            self._shown = {}
        for i, letter in enumerate(result.spelling):
            if self._shown.get(i, ("", 0.0))[0] != letter:
                self._shown[i] = (letter, result.frame.t)
        for i in [i for i in self._shown if i >= len(result.spelling)]:
            del self._shown[i]

    def close(self) -> None:
        pass


@dataclass
class Rounds:
    fps: dict[str, list[float]] = field(default_factory=dict)
    stage_ms: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, fps: float) -> None:
        self.fps.setdefault(name, []).append(fps)
        log.info("%s: %.1f FPS", name, fps)

    def median(self, name: str) -> float:
        return statistics.median(self.fps[name])


def bench(args: argparse.Namespace) -> int:
    if not args.video.is_file():
        raise UsageError(f"video file not found: {args.video}")
    share_cores()
    classifier = LetterClassifier(args.model, args.device, LIVE_NO_LETTER_OFFSET)
    with VideoFile(args.video, realtime=False) as probe:
        log.info("%s; model %s on %s", probe.describe(), args.model.name, classifier.device)
    max_side = args.track_max_side or None
    rounds = Rounds()
    for r in range(args.rounds):
        log.info("round %d of %d", r + 1, args.rounds)
        rounds.add("floor", floor_fps(args.video, None, args.track_lite))
        if max_side:
            rounds.add(f"floor, tracking at {max_side}", floor_fps(args.video, max_side, args.track_lite))
        for overlap in (True, False):
            name = "live loop" if overlap else "live loop, stages one after the other"
            stats, delays = live_stats(args.video, classifier, overlap, max_side, args.track_lite)
            rounds.add(name, stats.fps())
            if overlap:
                for k, v in stats.stage_means().items():
                    rounds.stage_ms.setdefault(k, []).append(v)
    seconds, delivered = camera_latency(args.video, classifier, args.camera_size, max_side, args.track_lite)
    ms = np.array(seconds) * 1000
    shown = np.array(delays) * 1000
    report = {
        "clip": args.video.name,
        "track_max_side": max_side,
        "track_lite": args.track_lite,
        "fps": {k: round(rounds.median(k), 2) for k in rounds.fps},
        "ratio": round(rounds.median("live loop") / rounds.median("floor"), 3),
        "stage_ms": {k: round(statistics.median(v), 2) for k, v in rounds.stage_ms.items()},
        "camera": {
            "size": f"{args.camera_size[0]}x{args.camera_size[1]}",
            "delivered": delivered,
            "processed": len(seconds),
            "latency_ms": {
                "p50": round(float(np.percentile(ms, 50)), 1),
                "p95": round(float(np.percentile(ms, 95)), 1),
                "max": round(float(ms.max()), 1),
            },
        },
        "letter_display_ms": {
            "letters": len(delays),
            **{f"p{q}": round(float(np.percentile(shown, q)), 1) if delays else None for q in (50, 95)},
        },
    }
    if max_side:
        report["ratio_same_tracking"] = round(
            rounds.median("live loop") / rounds.median(f"floor, tracking at {max_side}"), 3
        )
    for name in rounds.fps:
        print(f"{name:<40} {rounds.median(name):6.1f} FPS  (median of {args.rounds})")
    print(f"{'live loop / floor':<40} {report['ratio']:6.3f}")
    print("stages, mean ms a frame:", ", ".join(f"{k} {v:.1f}" for k, v in report["stage_ms"].items()))
    lat = report["camera"]["latency_ms"]
    print(
        f"simulated {report['camera']['size']} camera at the clip's rate: {len(seconds)} of {delivered} frames "
        f"processed; capture to result p50 {lat['p50']:.1f} ms, p95 {lat['p95']:.1f} ms, max {lat['max']:.1f} ms"
    )
    if delays:
        print(
            f"letters shown {np.percentile(shown, 50):.0f} ms (p50), {np.percentile(shown, 95):.0f} ms (p95) after "
            f"their first frame, in the clip's time ({len(delays)} letters; capture to result adds to it)"
        )
    print(json.dumps(report))
    return EXIT_OK


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(
        prog=prog or "python -m realtime.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--video", type=Path, required=True, help="the clip to measure on")
    p.add_argument("--model", type=model_path, default=SHIPPED_CHECKPOINT)
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    p.add_argument("--rounds", type=number(1, 100, integer=True), default=3, help="alternating rounds [3]")
    p.add_argument(
        "--track-max-side",
        type=number(0, 16384, integer=True),
        default=LIVE_TRACK_MAX_SIDE,
        help=f"track a copy of larger frames scaled to this long side, 0: full size [{LIVE_TRACK_MAX_SIDE}]",
    )
    p.add_argument("--track-lite", action="store_true", help="MediaPipe's lighter landmark model (run.py's flag)")
    p.add_argument("--camera-size", type=size_arg, default=(640, 480), help="simulated camera WIDTHxHEIGHT [640x480]")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    setup_logging(args.verbose, from_command_line=argv is None)
    return cli_main(lambda: bench(args))


if __name__ == "__main__":
    sys.exit(main())
