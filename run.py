"""python run.py --camera 0: the live ASL letter recognizer (A-I).

Also replays a video file (--video), headless (--no-window) with the committed letters written as JSONL
(--events) and an annotated copy (--output), and records sessions for offline labeling (--record, or R).
Exit codes: 0 done, 1 failed part way, 2 bad input, 130 interrupted (ARCHITECTURE.md).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from core.errors import EXIT_OK, cli_main
from model import SHIPPED_CHECKPOINT
from model.device import DEVICE_CHOICES
from realtime.pipeline import LIVE_NO_LETTER_OFFSET
from realtime.smoothing import SmootherSettings

log = logging.getLogger("run")


def parse_args(argv: list[str] | None, prog: str | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog=prog or "run.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--camera", type=int, metavar="N", help="webcam index")
    src.add_argument("--video", type=Path, metavar="PATH", help="a video file instead of a camera")
    src.add_argument("--list-cameras", action="store_true", help="list the cameras that open, then exit")
    p.add_argument("--width", type=int, help="camera frame width to ask for")
    p.add_argument("--height", type=int, help="camera frame height to ask for")
    p.add_argument("--fps", type=float, help="camera frame rate to ask for")
    p.add_argument("--fast", action="store_true", help="video: process frames as fast as possible")
    p.add_argument("--model", type=Path, default=SHIPPED_CHECKPOINT, help="checkpoint (default: shipped model)")
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    p.add_argument("--left-handed", action="store_true", help="with two hands in view, prefer the left one")
    p.add_argument("--no-window", action="store_true", help="run without a window (replay, benchmarks)")
    p.add_argument("--events", type=Path, metavar="OUT.jsonl", help="write one JSON line per committed letter")
    p.add_argument("--output", type=Path, metavar="OUT.mp4", help="write the annotated video")
    p.add_argument("--record", type=Path, metavar="OUT.avi", help="record raw frames + sidecar JSONL from the start")
    p.add_argument("--snapshots", type=Path, default=Path("snapshots"), help="folder for snapshots (key n)")
    d = SmootherSettings()
    g = p.add_argument_group("smoothing")
    g.add_argument("--window-s", type=float, default=d.window_s, help="probability averaging window (s)")
    g.add_argument("--enter", type=float, default=d.enter, help="averaged probability to commit a letter")
    g.add_argument("--exit", type=float, default=d.exit, help="averaged probability below which it is released")
    g.add_argument("--min-hold-s", type=float, default=d.min_hold_s, help="time above --enter before committing")
    g.add_argument("--release-s", type=float, default=d.release_s, help="time below --exit before releasing")
    g.add_argument(
        "--no-letter-offset",
        type=float,
        default=LIVE_NO_LETTER_OFFSET,
        help="lowers the per-frame no-letter score: higher gives letters more readily and other signs "
        f"more false letters (default {LIVE_NO_LETTER_OFFSET}; see realtime/pipeline.py)",
    )
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    if args.camera is None and (args.width or args.height or args.fps):
        p.error("--width, --height and --fps are for --camera")
    return args


def run(args: argparse.Namespace) -> int:
    from model.classifier import LetterClassifier
    from realtime.capture import list_cameras, open_source
    from realtime.live import run_live, stop_on_signals
    from realtime.overlay import Overlay
    from realtime.pipeline import Pipeline
    from realtime.sinks import AnnotatedVideo, EventLog, Sinks
    from realtime.window import RecordingSwitch, Window

    if args.list_cameras:
        cams = list_cameras()
        print("\n".join(cams) if cams else "no camera found: check it is connected and allowed")
        return EXIT_OK if cams else 1
    settings = SmootherSettings(args.window_s, args.enter, args.exit, args.min_hold_s, args.release_s)
    classifier = LetterClassifier(args.model, args.device, args.no_letter_offset)
    with (
        stop_on_signals() as stop,
        open_source(args.camera, args.video, not args.fast, args.width, args.height, args.fps) as source,
        Sinks() as sinks,
    ):
        log.info("%s; model %s on %s", source.describe(), args.model.name, classifier.device)
        overlay = Overlay()
        if args.events:
            sinks.add(EventLog(args.events))
        recording = sinks.add(RecordingSwitch(source.fps, (source.width, source.height), overlay))
        if args.record:
            recording.start(args.record)
        if args.output:
            sinks.add(AnnotatedVideo(args.output, source.fps, overlay))
        window = None
        if not args.no_window:
            window = sinks.add(Window(overlay, (source.width, source.height), recording, args.snapshots))
        with Pipeline(classifier, settings, prefer_hand="Right" if args.left_handed else None) as pipeline:
            stats = run_live(source, pipeline, sinks, overlay, window, stop)
    print(stats.summary())
    return EXIT_OK


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    args = parse_args(argv, prog)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    return cli_main(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
