"""python run.py --camera 0: the live ASL fingerspelling recognizer (24 still letters; J and Z by movement).

Also replays a video file (--video), headless (--no-window) with the committed letters written as JSONL
(--events) and an annotated copy (--output), and records sessions for offline labeling (--record, or R).
Exit codes: 0 done, 1 failed part way, 2 bad input, 130 interrupted (ARCHITECTURE.md).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from core.cli import check_distinct, check_output, has_display, number, setup_logging
from core.errors import EXIT_INTERRUPTED, EXIT_OK, UsageError, cli_main
from model import DEVICE_CHOICES, SHIPPED_CHECKPOINT, model_path
from realtime import LIVE_TRACK_MAX_SIDE
from realtime.smoothing import LIVE_NO_LETTER_OFFSET, SmootherSettings
from realtime.words import WORD_GAP_S
from web.serve import add_serve_flags, serve

# Imports here stay light (no torch, OpenCV or MediaPipe): a Ctrl-C while those load in run() is one line too.

log = logging.getLogger("run")


def parse_args(argv: list[str] | None, prog: str | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog=prog or "run.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--camera", type=int, metavar="N", help="webcam index")
    src.add_argument("--video", type=Path, metavar="PATH", help="a video file instead of a camera")
    src.add_argument("--list-cameras", action="store_true", help="list the cameras that open, then exit")
    src.add_argument("--serve", action="store_true", help="serve the live web page and the HTTP API (see --host)")
    p.add_argument("--width", type=number(1, 16384, integer=True), help="camera frame width to ask for")
    p.add_argument("--height", type=number(1, 16384, integer=True), help="camera frame height to ask for")
    p.add_argument("--fps", type=number(0, 1000, low_open=True), help="camera frame rate to ask for")
    p.add_argument("--fast", action="store_true", help="video: process frames as fast as possible")
    p.add_argument(
        "--model",
        type=model_path,
        default=SHIPPED_CHECKPOINT,
        help="checkpoint, or a shipped model's name: alphabet (the default: 24 still letters, J and Z) or a-i",
    )
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    p.add_argument(
        "--track-max-side",
        type=number(0, 16384, integer=True),
        default=LIVE_TRACK_MAX_SIDE,
        metavar="PX",
        help="track the hand on a copy of larger frames scaled to this long side; 0: the full frame "
        f"(default {LIVE_TRACK_MAX_SIDE}; the crop is always cut from the full frame)",
    )
    p.add_argument(
        "--track-lite",
        action="store_true",
        help="track the hand with MediaPipe's lighter landmark model: about half the tracking time, for slow machines",
    )
    p.add_argument("--left-handed", action="store_true", help="with two hands in view, prefer the left one")
    p.add_argument("--no-window", action="store_true", help="run without a window (replay, benchmarks)")
    p.add_argument("--events", type=Path, metavar="OUT.jsonl", help="write one JSON line per committed letter")
    p.add_argument("--output", type=Path, metavar="OUT.mp4", help="write the annotated video")
    p.add_argument("--record", type=Path, metavar="OUT.avi", help="record raw frames + sidecar JSONL from the start")
    p.add_argument("--snapshots", type=Path, default=Path("snapshots"), help="folder for snapshots (key n)")
    w = p.add_argument_group("words")
    w.add_argument("--transcript", type=Path, metavar="OUT.txt", help="write the spelled text as it grows")
    w.add_argument(
        "--word-gap-s",
        type=number(0.1, 60),
        default=WORD_GAP_S,
        help="seconds without a letter shown (hand gone or resting) that end a word",
    )
    w.add_argument("--speak", action="store_true", help="say each finished word (espeak-ng)")
    w.add_argument("--no-suggestions", action="store_true", help="no dictionary words for a finished word")
    w.add_argument(
        "--no-autocorrect",
        action="store_true",
        help="keep each word's letters as read, not the likeliest dictionary word (realtime/decode.py)",
    )
    w.add_argument(
        "--practice", metavar="WORD[,WORD...]", help="practice mode: sign the words shown, see each letter marked"
    )
    d = SmootherSettings()
    g = p.add_argument_group("smoothing")
    seconds, share = number(0, 60), number(0, 1, low_open=True)
    g.add_argument("--window-s", type=seconds, default=d.window_s, help="probability averaging window (s)")
    g.add_argument("--enter", type=share, default=d.enter, help="averaged probability to commit a letter")
    g.add_argument("--exit", type=share, default=d.exit, help="averaged probability below which it is released")
    g.add_argument(
        "--steady-enter",
        type=share,
        default=d.steady_enter,
        help="averaged probability of a top letter that commits although unsure, once steady for --steady-hold-s",
    )
    g.add_argument(
        "--steady-hold-s", type=seconds, default=d.steady_hold_s, help="how long an unsure top letter must stay on top"
    )
    g.add_argument("--min-hold-s", type=seconds, default=d.min_hold_s, help="time above --enter before committing")
    g.add_argument("--release-s", type=seconds, default=d.release_s, help="time below --exit before releasing")
    g.add_argument(
        "--max-speed",
        type=number(0, 100, low_open=True),
        default=d.max_speed,
        help="hand sizes a second above which the hand is between letters and nothing is committed",
    )
    g.add_argument(
        "--no-letter-offset",
        type=number(-20, 20),
        default=LIVE_NO_LETTER_OFFSET,
        help="lowers the per-frame no-letter score: higher gives letters more readily and other signs "
        f"more false letters (default {LIVE_NO_LETTER_OFFSET}; see realtime/smoothing.py)",
    )
    add_serve_flags(p)
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    if args.camera is None and (args.width or args.height or args.fps):
        p.error("--width, --height and --fps are for --camera")
    if args.serve:
        unused = [flag for flag, dest in SERVE_REFUSES.items() if getattr(args, dest) != p.get_default(dest)]
        if unused:
            p.error(f"--serve does not use {', '.join(unused)}: each page has its own text and settings")
    return args


# What a server cannot do for its pages (each page keeps its own text; the server has no window or speaker).
SERVE_REFUSES = {
    "--events": "events",
    "--output": "output",
    "--record": "record",
    "--transcript": "transcript",
    "--speak": "speak",
    "--practice": "practice",
    "--fast": "fast",
    "--no-window": "no_window",
    "--snapshots": "snapshots",
}


def check_before_work(args: argparse.Namespace) -> None:
    """Everything that can be refused is refused before the model loads and before any file is created."""
    from realtime.recording import check_new_recording, sidecar_path

    if not args.no_window and not has_display():
        raise UsageError("no display to open a window on: use --no-window (with --events or --output to see results)")
    if args.speak:
        from realtime.speech import engine

        engine()
    outputs = [
        ("--events", args.events),
        ("--output", args.output),
        ("--record", args.record),
        ("--transcript", args.transcript),
    ]
    if args.record:
        outputs.append(("--record's sidecar", sidecar_path(args.record)))
    check_distinct([("--video", args.video), ("--model", args.model)], outputs)
    if args.record:
        check_new_recording(args.record)
    for what, path in outputs:
        if path is not None:
            check_output(path, what, replaced=what == "--transcript")


def run(args: argparse.Namespace) -> int:
    from model.classifier import LetterClassifier
    from realtime.capture import list_cameras, open_source
    from realtime.decode import WordDecoder
    from realtime.live import run_live, share_cores, stop_on_signals
    from realtime.overlay import Overlay
    from realtime.pipeline import Pipeline, committable_letters, reader_for
    from realtime.practice import Practice, practice_words
    from realtime.recording import RecordingSwitch
    from realtime.sinks import AnnotatedVideo, EventLog, Sinks, TranscriptFile
    from realtime.speech import Speaker
    from realtime.suggest import Dictionary
    from realtime.window import Window
    from realtime.words import Transcript

    if args.list_cameras:
        cams = list_cameras()
        print("\n".join(cams) if cams else "no camera found: check it is connected and allowed")
        return EXIT_OK if cams else 1
    settings = SmootherSettings(
        args.window_s,
        args.enter,
        args.exit,
        args.min_hold_s,
        args.release_s,
        args.max_speed,
        steady_enter=args.steady_enter,
        steady_hold_s=args.steady_hold_s,
    )
    prefer = "Right" if args.left_handed else None
    if args.serve:
        from web.app import SessionOptions

        options = SessionOptions(
            settings,
            prefer,
            args.track_max_side or None,
            args.word_gap_s,
            suggestions=not args.no_suggestions,
            autocorrect=not args.no_autocorrect,
            track_lite=args.track_lite,
        )
        return serve(args.model, args.device, args.host, args.port, args.max_sessions, args.no_letter_offset, options)
    check_before_work(args)
    share_cores()
    classifier = LetterClassifier(args.model, args.device, args.no_letter_offset)
    letters = committable_letters(classifier)
    practice = None if args.practice is None else Practice(practice_words(args.practice, letters))
    transcript = Transcript(
        reader_for(classifier.classes),
        args.word_gap_s,
        None if args.no_suggestions else Dictionary.english(letters).suggest,
        None if args.no_autocorrect else WordDecoder.english(letters).decode,
    )
    with (
        Pipeline(
            classifier,
            settings,
            prefer,
            track_max_side=args.track_max_side or None,
            transcript=transcript,
            track_lite=args.track_lite,
        ) as p,
        stop_on_signals() as stop,
        open_source(args.camera, args.video, not args.fast, args.width, args.height, args.fps) as source,
        Sinks() as sinks,
    ):
        log.info("%s; model %s on %s", source.describe(), args.model.name, classifier.device)
        overlay = Overlay(practice=practice)
        if practice is not None:
            sinks.add(practice)
        if args.events:
            sinks.add(EventLog(args.events, transcript))
        if args.transcript:
            sinks.add(TranscriptFile(args.transcript, transcript))
        if args.speak:
            sinks.add(Speaker())
        recording = sinks.add(RecordingSwitch(source.fps, (source.width, source.height), overlay))
        if args.record:
            recording.start(args.record)
        if args.output:
            sinks.add(AnnotatedVideo(args.output, source.fps, overlay))
        window = None
        if not args.no_window:
            window = sinks.add(Window(overlay, (source.width, source.height), recording, args.snapshots, transcript))
        stats = run_live(source, p, sinks, overlay, window, stop)
        transcript.finish(stats.last_t)
    print(stats.summary())
    if transcript.text:
        print(f"text: {transcript.text}")
    if practice is not None:
        print(practice.summary())
    if stop.is_set():
        print("interrupted: the files written are complete up to the last frame processed", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    args = parse_args(argv, prog)
    setup_logging(args.verbose, from_command_line=argv is None)
    return cli_main(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
