"""python calibrate.py --camera 0: personalise the recognizer to your hands in about a minute.

First a camera check (frame rate and size really delivered, brightness and exposure, hand size in frame, with
advice), then guided capture: each letter is shown with a countdown and a few frames are taken while you hold
it. The model then learns those letters from the shots while keeping its answers on its own training photos for
everything else (seconds on a CPU; model.calibration), and a personal checkpoint is written.
The same from material you already have: --video REC --labels RANGES (a run.py recording and its labels),
or --images DIR (photos in the dataset layout DIR/<letter>/<you>_<letter>_<n>.jpg).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from core.cli import check_output, has_display, setup_logging
from core.errors import EXIT_INTERRUPTED, RunFailure, UsageError, cli_main, describe_os_error
from model import SHIPPED_CHECKPOINT, model_path
from realtime.capture import Camera
from realtime.motion import MOVING_LETTERS, drawn_path
from realtime.tracking import HandTracker, pick_signing_hand
from train.data import discover
from train.label import Recording, labeled_hands
from train.labels import read_labels

if TYPE_CHECKING:
    from model.calibration import Shot
    from model.checkpoint import Checkpoint
# torch loads inside the functions that need it: a Ctrl-C while it loads is one line, like any other.

log = logging.getLogger("calibrate")
WINDOW = "calibrate"
MOVING = {m.letter: m for m in MOVING_LETTERS}
MIN_MOVING_FRAMES = 5
NO_HAND_ADVICE = "no hand seen: hold your hand inside the picture, lit from the front"


def shots_from_images(folder: Path) -> list[Shot]:
    from model.calibration import Shot
    from train.features import detect_hands, read_image

    samples = discover(folder)
    shots = [
        Shot(read_image(s.path), hand, s.letter) for s, hand in zip(samples, detect_hands(samples)) if hand is not None
    ]
    log.info("%d photos, hand found in %d, not found in %d", len(samples), len(shots), len(samples) - len(shots))
    return shots


def shots_from_recording(video: Path, labels: str, per_letter: int) -> tuple[list[Shot], dict[str, list[np.ndarray]]]:
    """``per_letter`` frames spread evenly over each still letter's labeled frames that have a hand, and the path
    drawn in each range labeled J or Z (one example a range)."""
    from model.calibration import Shot

    ranges = read_labels(labels)
    rec = Recording(video)
    try:
        by_label: dict[str, list[Shot]] = {}
        tracks: dict[int, list[np.ndarray]] = {}  # a moving letter's range -> its landmarks, frame by frame
        for item in labeled_hands(rec, ranges):
            if item.landmarks is None:
                continue
            if item.label in MOVING:
                first = next(r.first for r in ranges if r.first <= item.frame <= r.last)
                tracks.setdefault(first, []).append(item.landmarks)
            else:
                by_label.setdefault(item.label, []).append(Shot(item.image, item.landmarks, item.label))
    finally:
        rec.close()
    shots = []
    for items in by_label.values():
        picks = np.linspace(0, len(items) - 1, min(per_letter, len(items))).round().astype(int)
        shots += [items[i] for i in sorted(set(picks))]
    moving: dict[str, list[np.ndarray]] = {}
    for r in ranges:
        track = tracks.get(r.first, [])
        if r.label in MOVING and len(track) >= MIN_MOVING_FRAMES:
            moving.setdefault(r.label, []).append(drawn_path(MOVING[r.label], track))
        elif r.label in MOVING:
            log.warning(
                "%s at frames %d-%d: a hand in only %d frames, too few to learn a movement from",
                r.label,
                r.first,
                r.last,
                len(track),
            )
    return shots, moving


def camera_check(camera: Camera, tracker: HandTracker, seconds: float = 3.0) -> list[str]:
    """Measure what the camera really delivers and return advice lines (empty when all is well)."""
    start, frames, brightness, clipped, hand_sizes = time.perf_counter(), 0, [], [], []
    while time.perf_counter() - start < seconds:
        frame = camera.read()
        frames += 1
        grey = cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY)
        brightness.append(grey.mean())
        clipped.append(((grey < 8) | (grey > 247)).mean())
        hand = pick_signing_hand(tracker.detect(frame.image))
        if hand is not None:
            hand_sizes.append(np.ptp(hand.landmarks[:, 1]) / frame.image.shape[0])
        _show(frame.image, ["camera check: hold one hand up, open"])
    fps = frames / (time.perf_counter() - start)
    print(
        f"camera: {camera.width}x{camera.height}, {fps:.1f} fps delivered, brightness {np.mean(brightness):.0f}/255, "
        f"clipped {np.mean(clipped):.1%}, hand in {len(hand_sizes)}/{frames} frames"
    )
    advice = []
    if fps < 15:
        advice.append("low frame rate: add light (cameras slow down in the dark) or ask for a smaller --width")
    if np.mean(brightness) < 70:
        advice.append("the picture is dark: turn on a light in front of you")
    if np.mean(brightness) > 190 or np.mean(clipped) > 0.15:
        advice.append("over-exposed or back-lit: avoid a window behind you")
    if not hand_sizes:
        advice.append("no hand seen: hold your hand up in front of the camera")
    elif np.median(hand_sizes) < 0.15:
        advice.append("your hand is small in the picture: move closer")
    elif np.median(hand_sizes) > 0.7:
        advice.append("your hand fills the picture: move back a little")
    return advice


def guided_capture(
    camera: Camera,
    tracker: HandTracker,
    letters: list[str],
    per_letter: int,
    countdown_s: float = 3.0,
    gap_s: float = 0.25,
) -> list[Shot]:
    from model.calibration import NO_HAND_S, Shot

    shots: list[Shot] = []
    for letter in letters:
        start = time.perf_counter()
        while (left := countdown_s - (time.perf_counter() - start)) > 0:
            _show(camera.read().image, [f"show the letter {letter}", f"{left:.0f}"])
        taken, last, warned = 0, 0.0, False
        seen = started = time.perf_counter()
        while taken < per_letter and time.perf_counter() - started < 10:
            frame = camera.read()
            hand = pick_signing_hand(tracker.detect(frame.image))
            now = time.perf_counter()
            if hand is not None:
                seen = now
                if now - last >= gap_s:
                    shots.append(Shot(frame.image, hand.landmarks, letter))
                    taken, last = taken + 1, now
            lines = [f"hold {letter}", f"{taken}/{per_letter}"]
            if now - seen >= NO_HAND_S:
                lines.insert(1, NO_HAND_ADVICE)
                if not warned:
                    log.warning("%s: %s", letter, NO_HAND_ADVICE)
                    warned = True
            _show(frame.image, lines)
        log.info("%s: %d shots", letter, taken)
    return shots


def _show(image: np.ndarray, lines: list[str]) -> None:
    view = image.copy()
    s = max(min(view.shape[:2]) / 720, 0.5)
    for i, line in enumerate(lines):
        scale = (1.2 if i == 0 else 2.5) * s
        y = int((50 + 90 * i) * s)
        cv2.putText(view, line, (20, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 6, cv2.LINE_AA)
        cv2.putText(view, line, (20, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (80, 220, 80), 2, cv2.LINE_AA)
    cv2.imshow(WINDOW, view)
    if cv2.waitKey(1) & 0xFF in (27, ord("q")):
        raise KeyboardInterrupt


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(
        prog=prog or "calibrate.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--camera", type=int, metavar="N", help="webcam index: camera check, then guided capture")
    src.add_argument("--video", type=Path, metavar="REC", help="a run.py recording (needs --labels)")
    src.add_argument("--images", type=Path, metavar="DIR", help="photos, one folder per letter")
    p.add_argument("--labels", help="with --video: label file or ranges like 40-109:A,110-131:B")
    p.add_argument("--shots", type=int, default=5, help="shots per letter (camera, video; default 5)")
    p.add_argument("--letters", help="letters to capture (default: all the model knows)")
    p.add_argument("--model", type=model_path, default=SHIPPED_CHECKPOINT, help="base checkpoint")
    p.add_argument("--signer", default="me", help="your name, kept in the checkpoint")
    p.add_argument("--out", type=Path, default=Path("personal.pt"), help="personal checkpoint to write")
    args = p.parse_args(argv)
    if args.video and not args.labels:
        p.error("--video needs --labels")
    if args.shots < 1:
        p.error("--shots must be at least 1")
    setup_logging(verbose=False, from_command_line=argv is None)
    return cli_main(lambda: run(args))


def save_or_rescue(out: Path, personal: Checkpoint, save: Callable[[Path, Checkpoint], None]) -> None:
    """Write the personal model to ``out``; when that fails after the work is done (a disk filled, the folder
    went away), write it to the temp folder instead and fail saying where, so the calibration is not lost."""
    try:
        save(out, personal)
        return
    except (OSError, RuntimeError) as exc:  # torch.save reports a full disk as a RuntimeError
        reason = describe_os_error(exc) if isinstance(exc, OSError) else str(exc).splitlines()[0]
    rescue = Path(tempfile.gettempdir()) / f"personal-{time.strftime('%Y%m%d-%H%M%S')}.pt"
    try:
        save(rescue, personal)
    except (OSError, RuntimeError):
        raise RunFailure(
            f"cannot write {out} ({reason}) nor {rescue}: free some disk space and calibrate again"
        ) from None
    raise RunFailure(f"cannot write {out} ({reason}); the calibration is kept in {rescue}: move it where you like")


def run(args: argparse.Namespace) -> int:
    from model.calibration import CalibrationSettings, calibrate
    from model.checkpoint import load_checkpoint, save_checkpoint

    check_output(args.out, "--out", replaced=True)
    base = load_checkpoint(args.model)
    try:
        moving: dict[str, list[np.ndarray]] = {}
        if args.images:
            shots = shots_from_images(args.images)
        elif args.video:
            shots, moving = shots_from_recording(args.video, args.labels, args.shots)
        else:
            letters = list(args.letters.upper()) if args.letters else base.letters
            camera = Camera(args.camera)  # first: with no camera, that is what to fix
            if not has_display():
                camera.close()
                raise UsageError("no display for the guided capture window: calibrate from --video or --images")
            with camera, HandTracker(video=True) as tracker:
                try:
                    for line in camera_check(camera, tracker):
                        print(f"advice: {line}")
                    shots = guided_capture(camera, tracker, letters, args.shots)
                finally:
                    cv2.destroyAllWindows()
        started = time.perf_counter()
        personal = calibrate(base, shots, CalibrationSettings(), args.signer, moving)
        save_or_rescue(args.out, personal, save_checkpoint)
    except KeyboardInterrupt:
        print("calibration cancelled; nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
    examples = "".join(f", {len(v)} {k}" for k, v in moving.items())
    print(f"calibrated on {len(shots)} shots{examples} in {time.perf_counter() - started:.1f} s; wrote {args.out}")
    report = personal.info["calibration"]["report"]
    if report:
        print(
            f"on {report['shots']} of your shots, each judged by a model made without it: the model before read "
            f"{report['right_before']} right, yours reads {report['right_after']}"
        )
    print(f"use it: python run.py --camera 0 --model {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
