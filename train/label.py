"""python -m train.label RECORDING: label a recorded session by frame ranges, and export labeled crops.

Window keys: . / , (or right / left arrow) next / previous frame; > / < ten frames; space play / pause;
[ marks the start of a range at the current frame; a letter key labels the marked range (or the current
frame) with that letter; - labels it "no letter"; backspace erases; Esc quits. Labels are saved to
RECORDING.labels.csv on every change and loaded again next time.

Headless: --labels RANGES --export DIR writes the labeled crops without a window.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from core.cli import check_output, has_display, number, setup_logging
from core.crop import DEFAULT_MARGIN, crop_hand, hand_box
from core.errors import UsageError, cli_main
from core.letters import ALL_LETTERS, NO_LETTER
from model import SHIPPED_CHECKPOINT, model_path
from realtime.capture import open_video
from realtime.overlay import window_size
from realtime.recording import read_sidecar
from realtime.tracking import HandTracker, pick_signing_hand
from train.labels import LabelError, Range, label_at, labels_path, read_labels, set_range, write_labels

if TYPE_CHECKING:
    from model.preprocess import Preprocess

log = logging.getLogger("train.label")
EXPORT_MARGIN = 0.5  # exported photos keep room around the hand, so training's own detection finds it again
EXPORT_SIZE = 320


@dataclass
class LabeledHand:
    frame: int
    label: str
    image: np.ndarray  # the whole frame, BGR
    landmarks: np.ndarray | None  # (21, 3) frame pixels, or None when no hand was found


class Recording:
    """Random access to a recording's frames, with the sidecar's hands when there is one.

    A recording cut short by a hard kill has no index: OpenCV then reports 0 frames and cannot seek. Such a
    file is counted by reading it once, and a step backwards reads forward again from its start.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise LabelError(f"recording not found: {self.path}")
        self._cap = open_video(self.path)
        if not self._cap.isOpened() or not self._cap.read()[0]:
            raise LabelError(f"{self.path} has no readable frames: is it a video run.py recorded?")
        self._pos = 1  # the next frame read
        self.fps = self._cap.get(cv2.CAP_PROP_FPS) or 30.0
        self.frame_count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.indexed = self.frame_count > 0
        if not self.indexed:
            self.frame_count = 1 + sum(1 for _ in iter(self._cap.grab, False))
            log.info("%s has no index (cut short?): %d frames counted by reading", self.path.name, self.frame_count)
            self._reopen()
        self.sidecar = {r["frame"]: r for r in read_sidecar(self.path)}

    def _reopen(self) -> None:
        self._cap.release()
        self._cap = open_video(self.path)
        self._pos = 0

    def frame(self, index: int) -> np.ndarray:
        if index != self._pos:
            if self.indexed:
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, index)
            else:
                if index < self._pos:
                    self._reopen()
                while self._pos < index and self._cap.grab():
                    self._pos += 1
        ok, image = self._cap.read()
        if not ok:
            raise LabelError(f"{self.path}: cannot read frame {index}")
        self._pos = index + 1
        return image

    def recorded_hand(self, index: int) -> np.ndarray | None:
        hand = (self.sidecar.get(index) or {}).get("hand")
        return None if not hand else np.array(hand["landmarks"], dtype=np.float32)

    def check(self, ranges: list[Range]) -> None:
        for r in ranges:
            if r.last >= self.frame_count:
                raise LabelError(
                    f"labels point past the end: range {r.first}-{r.last}, but {self.path.name} "
                    f"has frames 0-{self.frame_count - 1}"
                )

    def close(self) -> None:
        self._cap.release()


def labeled_hands(rec: Recording, ranges: list[Range], every: int = 1) -> Iterator[LabeledHand]:
    """Every ``every``-th labeled frame with its hand: the sidecar's landmarks, or else the live tracker run
    over the recording in order (tracking mode needs consecutive frames, so it sees every frame)."""
    rec.check(ranges)
    wanted = {f: r.label for r in ranges for f in range(r.first, r.last + 1, every)}
    if not wanted:
        return
    tracker = None if rec.sidecar else HandTracker(video=True)
    try:
        box = None
        for index in range(min(wanted), max(wanted) + 1):
            if tracker is None and index not in wanted:
                continue
            image = rec.frame(index)
            if tracker is not None:
                hand = pick_signing_hand(tracker.detect(image), box)
                box = hand.box(DEFAULT_MARGIN) if hand else None
                landmarks = hand.landmarks if hand else None
            else:
                landmarks = rec.recorded_hand(index)
            if index in wanted:
                yield LabeledHand(index, wanted[index], image, landmarks)
    finally:
        if tracker is not None:
            tracker.close()


def export(rec: Recording, ranges: list[Range], out_dir: Path, signer: str, every: int = 1) -> dict[str, int]:
    """Write labeled crops as ``out_dir/<letter>/<signer>_<letter>_<frame>.jpg`` (the dataset layout that
    ``python -m train`` reads); "none" ranges are not exported. Returns counts per letter, and of frames
    where no hand was found."""
    counts: dict[str, int] = {"no hand": 0}
    letters = [r for r in ranges if r.label != NO_LETTER]
    for item in labeled_hands(rec, letters, every):
        if item.landmarks is None:
            counts["no hand"] += 1
            continue
        crop = crop_hand(item.image, item.landmarks, hand_box(item.landmarks, EXPORT_MARGIN), EXPORT_SIZE)
        folder = out_dir / item.label
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{signer}_{item.label}_{item.frame}.jpg"), crop.image)
        counts[item.label] = counts.get(item.label, 0) + 1
    return counts


class LabelWindow:
    """The interactive labeler."""

    WINDOW = "label"

    def __init__(self, rec: Recording, ranges: list[Range], save_to: Path, preprocess: Preprocess) -> None:
        self.rec, self.ranges, self.save_to, self.preprocess = rec, ranges, save_to, preprocess
        self.index, self.playing = 0, False
        self.mark: int | None = None  # where a range being labeled starts
        self.tracker = HandTracker(video=False)

    def run(self) -> None:
        cv2.namedWindow(self.WINDOW, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
        h, w = self.rec.frame(0).shape[:2]
        cv2.resizeWindow(self.WINDOW, *window_size(w, h))
        try:
            while True:
                cv2.imshow(self.WINDOW, self.render())
                key = cv2.waitKeyEx(int(1000 / self.rec.fps) if self.playing else 0)
                if self.playing and key == -1:
                    self.step(1)
                    continue
                if not self.handle(key) or cv2.getWindowProperty(self.WINDOW, cv2.WND_PROP_VISIBLE) < 1:
                    break
        finally:
            self.tracker.close()
            cv2.destroyWindow(self.WINDOW)

    def step(self, n: int) -> None:
        self.index = int(np.clip(self.index + n, 0, self.rec.frame_count - 1))
        if self.index == self.rec.frame_count - 1:
            self.playing = False

    def handle(self, key: int) -> bool:
        ch = chr(key & 0xFF) if 0 <= key & 0xFF < 128 and key < 0x10000 else ""
        if key == 27:
            return False
        moves = {".": 1, ",": -1, ">": 10, "<": -10, 65363: 1, 65361: -1, 0x270000: 1, 0x250000: -1}
        if key in moves or ch in moves:
            self.step(moves.get(key, moves.get(ch, 0)))
        elif ch == " ":
            self.playing = not self.playing
        elif ch == "[":
            self.mark = self.index
        elif ch.upper() in ALL_LETTERS and ch.isalpha() or ch == "-" or key == 8:
            label = None if key == 8 else NO_LETTER if ch == "-" else ch.upper()
            first = self.mark if self.mark is not None else self.index
            self.ranges = set_range(self.ranges, first, self.index, label)
            self.mark = None
            write_labels(self.save_to, self.ranges)
        return True

    def render(self) -> np.ndarray:
        image = self.rec.frame(self.index)
        h, w = image.shape[:2]
        view = image.copy()
        landmarks = self.rec.recorded_hand(self.index)
        if landmarks is None:
            hand = pick_signing_hand(self.tracker.detect(image))
            landmarks = hand.landmarks if hand else None
        if landmarks is not None:
            model_input = self.preprocess.prepare(image, landmarks)
            side = min(h, w) // 3
            view[10 : 10 + side, w - side - 10 : w - 10] = cv2.resize(model_input.pixels, (side, side))
            x0, y0, x1, y1 = model_input.box.xyxy
            cv2.rectangle(view, (x0, y0), (x1, y1), (0, 220, 255), 2)
        s = max(min(w, h) / 720, 0.5)
        rec = self.rec.sidecar.get(self.index, {})
        pred = rec.get("prediction")
        lines = [
            f"frame {self.index}/{self.rec.frame_count - 1}  label: {label_at(self.ranges, self.index) or '-'}"
            + (f"  (range from {self.mark})" if self.mark is not None else ""),
            f"recorded: {pred['label']} {pred['confidence']:.0%}" if pred else "recorded: -",
            f"stable letter: {rec.get('letter') or '-'}",
            ".,: step  <>: 10  space: play  [: mark  letter: label  -: none  bksp: erase  q: quit",
        ]
        for i, line in enumerate(lines):
            y = int((30 + 28 * i) * s)
            cv2.putText(view, line, (10, y), cv2.FONT_HERSHEY_SIMPLEX, 0.7 * s, (0, 0, 0), 4, cv2.LINE_AA)
            cv2.putText(view, line, (10, y), cv2.FONT_HERSHEY_SIMPLEX, 0.7 * s, (255, 255, 255), 1, cv2.LINE_AA)
        self._timeline(view)
        return view

    def _timeline(self, view: np.ndarray) -> None:
        h, w = view.shape[:2]
        bar = np.full((16, w, 3), 60, np.uint8)
        for r in self.ranges:
            x0, x1 = (int(f * w / self.rec.frame_count) for f in (r.first, r.last + 1))
            colour = (120, 120, 120) if r.label == NO_LETTER else (80, 200, 80)
            bar[:, x0 : max(x1, x0 + 1)] = colour
        bar[:, int(self.index * w / self.rec.frame_count)] = (0, 0, 255)
        view[h - 16 : h] = bar


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(
        prog=prog or "python -m train.label", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("recording", type=Path, help="a video recorded by run.py (--record, or key r)")
    p.add_argument(
        "--labels", help="label file or inline ranges like 40-109:A,110-131:none (default: RECORDING.labels.csv)"
    )
    p.add_argument("--export", type=Path, metavar="DIR", help="write labeled crops to DIR/<letter>/ and exit")
    p.add_argument("--signer", help="signer name in exported file names (default: the recording's name)")
    p.add_argument(
        "--every", type=number(1, integer=True), default=1, help="export every N-th labeled frame (default 1)"
    )
    p.add_argument("--model", type=model_path, default=SHIPPED_CHECKPOINT, help="whose crop settings to preview")
    args = p.parse_args(argv)
    setup_logging(verbose=False, from_command_line=argv is None)
    return cli_main(lambda: run(args))


def run(args: argparse.Namespace) -> int:
    if args.export:
        check_output(args.export, "--export", folder=True)
    elif not has_display():
        raise UsageError("no display to open the labeling window on (is DISPLAY set and its X server running?)")
    rec = Recording(args.recording)
    default = labels_path(args.recording)
    source = args.labels or (default if default.is_file() else None)
    ranges = read_labels(source) if source else []
    rec.check(ranges)
    if args.export:
        if not ranges:
            raise LabelError(f"no labels for {args.recording}: label it first, or pass --labels")
        signer = (args.signer or args.recording.stem).replace("_", "-")
        counts = export(rec, ranges, args.export, signer, int(args.every))
        missing = counts.pop("no hand")
        print(
            f"exported {sum(counts.values())} crops to {args.export} "
            f"({', '.join(f'{k} {v}' for k, v in sorted(counts.items())) or 'none'}); no hand in {missing}"
        )
    else:
        from model.checkpoint import load_checkpoint

        LabelWindow(rec, ranges, default, load_checkpoint(args.model).preprocess).run()
        print(f"{len(ranges)} label ranges in {default}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
