"""python -m realtime.bench --video CLIP: how fast the live loop runs against the hand tracker alone, and how late
a result comes after its frame was captured.

In one run, on the same clip, alternating round by round so that a machine's drift hits all alike:
- the floor: decoding the clip and tracking the hand, nothing else, at full size and (with tracking on a reduced
  copy) at the loop's tracking size;
- the live loop as ``run.py --no-window --fast`` runs it: stages overlapped, and one after the other;
- their ratio and the time of each stage;
- capture-to-result latency: the clip delivered at its own frame rate through the newest-frame reader a webcam
  uses (letterboxed to ``--camera-size``), from the moment a frame "arrives" to the moment its result is ready.
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


def floor_fps(clip: Path, max_side: int | None) -> float:
    """Frames a second of decoding the clip and tracking its hand, with the live loop's tracker settings."""
    with VideoFile(clip, realtime=False) as source, HandTracker(video=True, max_side=max_side) as tracker:
        t0, n = time.perf_counter(), 0
        for frame in source:
            tracker.detect(frame.image)
            n += 1
    return n / (time.perf_counter() - t0)


def live_stats(clip: Path, classifier: LetterClassifier, overlap: bool, max_side: int | None) -> RunStats:
    """The live loop on the clip, flat out and headless, as ``run.py --video CLIP --no-window --fast``."""
    with (
        VideoFile(clip, realtime=False) as source,
        Sinks() as sinks,
        Pipeline(classifier, track_max_side=max_side) as p,
    ):
        return run_live(source, p, sinks, Overlay(), overlap=overlap)


class Latency:
    """A sink that notes, for every result, the seconds since its frame was captured."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def write(self, result: FrameResult) -> None:
        self.seconds.append(time.perf_counter() - result.frame.captured)

    def close(self) -> None:
        pass


def camera_latency(
    clip: Path, classifier: LetterClassifier, size: tuple[int, int], max_side: int | None
) -> tuple[list[float], int]:
    """(capture-to-result seconds of each processed frame, frames the simulated camera delivered)."""
    with Pipeline(classifier, track_max_side=max_side) as pipeline, Sinks() as sinks:
        latency = sinks.add(Latency())
        with SimulatedCamera(clip, size) as camera:
            run_live(camera, pipeline, sinks, Overlay())
    return latency.seconds, camera.delivered


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
        rounds.add("floor", floor_fps(args.video, None))
        if max_side:
            rounds.add(f"floor, tracking at {max_side}", floor_fps(args.video, max_side))
        for overlap in (True, False):
            name = "live loop" if overlap else "live loop, stages one after the other"
            stats = live_stats(args.video, classifier, overlap, max_side)
            rounds.add(name, stats.fps())
            if overlap:
                for k, v in stats.stage_means().items():
                    rounds.stage_ms.setdefault(k, []).append(v)
    seconds, delivered = camera_latency(args.video, classifier, args.camera_size, max_side)
    ms = np.array(seconds) * 1000
    report = {
        "clip": args.video.name,
        "track_max_side": max_side,
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
    p.add_argument("--camera-size", type=size_arg, default=(640, 480), help="simulated camera WIDTHxHEIGHT [640x480]")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    setup_logging(args.verbose, from_command_line=argv is None)
    return cli_main(lambda: bench(args))


if __name__ == "__main__":
    sys.exit(main())
