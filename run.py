"""python run.py --camera 0: the live ASL letter recognizer (A-I).

Also replays a video file (--video), headless (--no-window) with the committed letters written as JSONL
(--events) and an annotated copy (--output), and records sessions for offline labeling (--record, or R).
"""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import cv2

from model import SHIPPED_CHECKPOINT
from model.checkpoint import CheckpointError
from model.classifier import LetterClassifier
from model.device import DEVICE_CHOICES
from realtime.capture import Camera, SourceError, VideoFile, list_cameras
from realtime.overlay import Layers, Status, draw, window_size
from realtime.pipeline import LIVE_NO_LETTER_OFFSET, FrameResult, Pipeline
from realtime.recording import Recorder
from realtime.smoothing import SmootherSettings

log = logging.getLogger("run")
WINDOW = "ASL letters"
# key -> (action, what it does); also the README's key list
KEYS = {
    "q": ("quit", "quit (also Esc, or close the window)"),
    "l": ("landmarks", "hand landmarks"),
    "b": ("box", "crop box and per-frame guess"),
    "c": ("crop", "preview of the crop the model sees"),
    "p": ("bars", "probability bars"),
    "s": ("stats", "FPS and stage timings"),
    "h": ("help", "this key help"),
    "m": ("mirror", "mirror the view"),
    " ": ("pause", "pause / resume"),
    "r": ("record", "start / stop recording"),
    "n": ("snapshot", "save a snapshot of the window"),
}
HELP_LINE = "  ".join(f"{'space' if k == ' ' else k}:{a}" for k, (a, _) in KEYS.items())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    g.add_argument("--no-letter-offset", type=float, default=LIVE_NO_LETTER_OFFSET,
                   help="lowers the per-frame no-letter score: higher gives letters more readily and other signs "
                        f"more false letters (default {LIVE_NO_LETTER_OFFSET}; see realtime/pipeline.py)")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    if args.camera is None and (args.width or args.height or args.fps):
        p.error("--width, --height and --fps are for --camera")
    return args


class Session:
    """The loop state that keys change: layers, pause, mirror, recording."""

    def __init__(self, args: argparse.Namespace, source, pipeline: Pipeline) -> None:
        self.args, self.source, self.pipeline = args, source, pipeline
        self.layers = Layers()
        self.status = Status(help_line=HELP_LINE)
        self.recorder: Recorder | None = None
        self.message_until = 0.0

    def start_recording(self, path: Path | None = None) -> None:
        path = path or Path("recordings") / f"session-{datetime.now():%Y%m%d-%H%M%S}.avi"
        fps = self.source.fps or 30.0
        self.recorder = Recorder(path, fps, (self.source.width, self.source.height))
        self.status.recording = True
        self.notify(f"recording to {path}")

    def stop_recording(self) -> None:
        if self.recorder is not None:
            self.recorder.close()
            self.notify(f"saved {self.recorder.frames} frames to {self.recorder.path}")
            self.recorder = None
        self.status.recording = False

    def notify(self, message: str) -> None:
        log.info(message)
        self.status.message, self.message_until = message, time.monotonic() + 3

    def handle_key(self, key: int, view) -> bool:
        """Act on a key press; False means quit."""
        if key == 27:
            return False
        action = KEYS.get(chr(key).lower(), (None,))[0] if 0 <= key < 256 else None
        if action == "quit":
            return False
        if action in self.layers.as_dict():
            self.layers.toggle(action)
        elif action == "mirror":
            self.status.mirrored = not self.status.mirrored
        elif action == "pause":
            self.status.paused = not self.status.paused
        elif action == "record":
            self.stop_recording() if self.recorder else self.start_recording()
        elif action == "snapshot" and view is not None:
            self.args.snapshots.mkdir(parents=True, exist_ok=True)
            path = self.args.snapshots / f"snapshot-{datetime.now():%Y%m%d-%H%M%S-%f}.png"
            cv2.imwrite(str(path), view)
            self.notify(f"snapshot saved: {path}")
        return True


def open_source(args: argparse.Namespace):
    if args.camera is not None:
        return Camera(args.camera, args.width, args.height, args.fps)
    return VideoFile(args.video, realtime=not args.fast)


def run(args: argparse.Namespace) -> int:
    classifier = LetterClassifier(args.model, args.device, args.no_letter_offset)
    settings = SmootherSettings(args.window_s, args.enter, args.exit, args.min_hold_s, args.release_s)
    source = open_source(args)
    log.info("%s; model %s on %s", source.describe(), args.model.name, classifier.device)
    pipeline = Pipeline(classifier, settings, prefer_hand="Right" if args.left_handed else None)
    session = Session(args, source, pipeline)
    events_file = open(args.events, "w", encoding="utf-8") if args.events else None
    annotated = None
    frames = hands = 0
    commits: list[str] = []
    stage_ms: dict[str, float] = {}  # summed per stage; "crop" and "classify" only on frames with a hand
    started = time.perf_counter()
    last_tick = started
    result: FrameResult | None = None
    try:
        if args.record:
            session.start_recording(args.record)
        if not args.no_window:
            cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
            cv2.resizeWindow(WINDOW, *window_size(source.width, source.height))
        ended = False  # a video in a window holds its last frame until the user quits
        while not STOP.is_set():
            if result is None or not (session.status.paused or ended):
                frame = source.read()
                if frame is None:
                    if args.no_window or result is None:
                        break
                    ended = True
                    session.notify("end of the video: q to quit")
                    continue
                result = pipeline.process(frame)
                frames += 1
                hands += result.hand is not None
                for stage, ms in result.timings_ms.items():
                    stage_ms[stage] = stage_ms.get(stage, 0.0) + ms
                now = time.perf_counter()
                fps_now = 1.0 / max(now - last_tick, 1e-6)
                session.status.fps = fps_now if frames == 1 else 0.9 * session.status.fps + 0.1 * fps_now
                last_tick = now
                for e in result.events:
                    log.log(logging.INFO if e.kind == "commit" else logging.DEBUG, "%s %s at %.2f s (%.0f%%)",
                            e.kind, e.letter or "", e.t, 100 * e.confidence)
                    if e.kind == "commit":
                        commits.append(f"{e.letter}@{e.t:.2f}s")
                        if events_file:
                            events_file.write(json.dumps({"frame": frame.index, "t": round(e.t, 3),
                                                          "letter": e.letter,
                                                          "confidence": round(e.confidence, 4)}) + "\n")
                            events_file.flush()
                if session.recorder:
                    session.recorder.write(result)
            if time.monotonic() > session.message_until:
                session.status.message = ""
            view = None
            if not args.no_window or args.output:
                view = draw(result.frame.image, result, session.layers, session.status)
            if args.output and not (session.status.paused or ended):
                annotated = annotated or _annotated_writer(args.output, source.fps, view)
                annotated.write(view)
            if not args.no_window:
                cv2.imshow(WINDOW, view)
                key = cv2.waitKey(1)
                if (key != -1 and not session.handle_key(key & 0xFF, view)) or \
                        cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1:
                    break
    except KeyboardInterrupt:
        log.info("interrupted")
    finally:
        session.stop_recording()
        pipeline.close()
        source.close()
        if events_file:
            events_file.close()
        if annotated:
            annotated.release()
        if not args.no_window:
            cv2.destroyAllWindows()
    elapsed = time.perf_counter() - started
    per_frame = {k: v / max(hands if k in ("crop", "classify") else frames, 1) for k, v in stage_ms.items()}
    print(f"{frames} frames in {elapsed:.1f} s ({frames / max(elapsed, 1e-6):.1f} FPS), hand in {hands}; "
          f"mean ms: {', '.join(f'{k} {v:.1f}' for k, v in per_frame.items())}; "
          f"committed: {' '.join(commits) or 'nothing'}")
    return 0


def _annotated_writer(path: Path, fps: float, view) -> cv2.VideoWriter:
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps or 30.0, (view.shape[1], view.shape[0]))
    if not writer.isOpened():
        raise ValueError(f"cannot write video {path}: check the folder and the file extension (.mp4)")
    return writer


STOP = threading.Event()


def _stop(*_: object) -> None:
    """Ctrl-C or SIGTERM: finish the frame in hand, so video and sidecar end on the same frame; a second
    one interrupts at once."""
    if STOP.is_set():
        raise KeyboardInterrupt
    STOP.set()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    if args.list_cameras:
        cams = list_cameras()
        print("\n".join(cams) if cams else "no camera found: check it is connected and allowed")
        return 0 if cams else 1
    STOP.clear()
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return run(args)
    except (SourceError, CheckpointError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
