"""Drawing a frame's result on the video: the stable letter, and debug layers a key can toggle."""

from __future__ import annotations

import time
from dataclasses import astuple, dataclass, fields
from typing import TYPE_CHECKING

import cv2
import numpy as np

from core.landmarks import CONNECTIONS

if TYPE_CHECKING:  # only a type here: drawing needs neither torch nor MediaPipe
    from model.classifier import Prediction
    from realtime.pipeline import FrameResult
    from realtime.practice import Practice

FONT = cv2.FONT_HERSHEY_SIMPLEX
GREEN, WHITE, GREY, RED, YELLOW = (80, 220, 80), (255, 255, 255), (150, 150, 150), (40, 40, 230), (0, 220, 255)


@dataclass
class Layers:
    """Which debug layers are drawn; each has a key in run.py."""

    landmarks: bool = True
    box: bool = True
    crop: bool = True
    bars: bool = True
    stats: bool = True
    help: bool = False

    def toggle(self, name: str) -> None:
        setattr(self, name, not getattr(self, name))

    def as_dict(self) -> dict[str, bool]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Status:
    """What the loop knows beyond one frame."""

    fps: float = 0.0
    recording: bool = False
    paused: bool = False
    mirrored: bool = False
    help_line: str = ""
    message: str = ""  # a short notice, e.g. "snapshot saved"
    message_until: float = 0.0  # time.monotonic() when it goes

    def notify(self, message: str, seconds: float = 3.0) -> None:
        self.message, self.message_until = message, time.monotonic() + seconds

    def expire(self) -> None:
        if self.message and time.monotonic() > self.message_until:
            self.message = ""


class Overlay:
    """Draws results with the current layers and status; the window and the annotated video share one drawing
    of each frame."""

    def __init__(
        self, layers: Layers | None = None, status: Status | None = None, practice: Practice | None = None
    ) -> None:
        self.layers = layers or Layers()
        self.status = status or Status()
        self.practice = practice
        self._last: tuple[tuple, np.ndarray] | None = None

    def render(self, result: FrameResult) -> np.ndarray:
        """The frame drawn once for each result, state of the keys, text and practice."""
        self.status.expire()
        state = None if self.practice is None else repr(self.practice.state)
        key = (
            id(result),
            astuple(self.layers),
            astuple(self.status),
            result.text,
            result.suggestions,
            result.correction,
            state,
        )
        if self._last is None or self._last[0] != key:
            out = draw(result.frame.image, result, self.layers, self.status)
            if self.practice is not None:
                draw_practice(out, self.practice)
            self._last = (key, out)
        return self._last[1]

    @property
    def last_view(self) -> np.ndarray | None:
        """The picture drawn last (what a snapshot saves)."""
        return None if self._last is None else self._last[1]


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float, color, thickness: int = 1) -> None:
    cv2.putText(img, text, org, FONT, scale, (0, 0, 0), thickness + 3, cv2.LINE_AA)
    cv2.putText(img, text, org, FONT, scale, color, thickness, cv2.LINE_AA)


def draw(image: np.ndarray, result: FrameResult, layers: Layers, status: Status) -> np.ndarray:
    """A copy of ``image`` with the overlay. With ``status.mirrored`` the picture is flipped first (a selfie
    view) and the geometry is flipped with it, so the text always reads the right way."""
    out = cv2.flip(image, 1) if status.mirrored else image.copy()
    h, w = out.shape[:2]
    s = _scale(out)  # text scale for the frame size

    def px(x: float) -> float:
        return w - 1 - x if status.mirrored else x

    hand = result.hand
    if hand is not None and layers.landmarks:
        pts = [(int(px(x)), int(y)) for x, y, _ in hand.landmarks]
        for a, b in CONNECTIONS:
            cv2.line(out, pts[a], pts[b], GREEN, max(1, int(2 * s)), cv2.LINE_AA)
        for p in pts:
            cv2.circle(out, p, max(2, int(4 * s)), WHITE, -1, cv2.LINE_AA)
    if hand is not None and layers.box:
        x0, y0, x1, y1 = hand.box.xyxy
        x0, x1 = sorted((int(px(x0)), int(px(x1))))
        cv2.rectangle(out, (x0, y0), (x1, y1), YELLOW, max(1, int(2 * s)))
        guess = hand.prediction
        _text(out, f"{guess.label} {guess.confidence:.0%}", (x0, max(y0 - int(8 * s), 12)), 0.8 * s, YELLOW, 2)
    if hand is not None and layers.crop:
        side = int(min(h, w) * 0.25)
        crop = cv2.resize(hand.input.pixels, (side, side))
        out[h - side - 10 : h - 10, w - side - 10 : w - 10] = crop
        cv2.rectangle(out, (w - side - 11, h - side - 11), (w - 9, h - 9), WHITE, 1)
    if hand is not None and layers.bars:
        _draw_bars(out, hand.prediction, s)
    if layers.stats:
        lines = [f"{status.fps:5.1f} FPS"] + [f"{k} {v:5.1f} ms" for k, v in result.timings_ms.items()]
        for i, line in enumerate(lines):
            _text(out, line, (10, int((28 + 24 * i) * s)), 0.6 * s, WHITE)
    # the stable letter, large, top right
    letter = result.letter or ("-" if result.hand is not None else "")
    if letter:
        _text(out, letter, (w - int(150 * s), int(140 * s)), 4.5 * s, GREEN if result.letter else GREY, int(8 * s))
    if result.hand is None:
        _text(out, "no hand", (w - int(170 * s), int(175 * s)), 0.8 * s, GREY, 2)
    if status.recording:
        cv2.circle(out, (w // 2 - int(40 * s), int(28 * s)), int(10 * s), RED, -1, cv2.LINE_AA)
        _text(out, "REC", (w // 2 - int(20 * s), int(36 * s)), 0.8 * s, RED, 2)
    if status.paused:
        _text(out, "PAUSED", (w // 2 - int(60 * s), h // 2), 1.2 * s, YELLOW, 2)
    if status.message:
        _text(out, status.message, (10, int(h * 0.6)), 0.6 * s, YELLOW)
    _draw_transcript(out, result, s)
    if layers.help and status.help_line:
        lines = _wrap(status.help_line, w - 20, 0.55 * s)
        for i, line in enumerate(lines):
            _text(out, line, (10, h - int(16 * s) - int(24 * s) * (len(lines) - 1 - i)), 0.55 * s, WHITE)
    return out


def _scale(out: np.ndarray) -> float:
    return max(min(out.shape[:2]) / 720, 0.5)


def _draw_transcript(out: np.ndarray, result: FrameResult, s: float) -> None:
    """The words spelled so far on a dark band across the bottom third (its end, when too long to fit), the word
    being spelled in yellow (its reading may still change) after the settled words in white; under it, the
    letters as read when the dictionary corrected the last word, and the suggestions for that word."""
    text, suggestions, correction = result.text, result.suggestions, result.correction
    if not text and not suggestions:
        return
    h, w = out.shape[:2]
    width = int(w * 0.7) - 20
    scale = 1.0 * s
    shown = text + "_"
    while len(shown) > 1 and cv2.getTextSize(shown, FONT, scale, 2)[0][0] > width:
        shown = shown[1:]
    y = int(h * 0.72)
    band = out[y - int(34 * s) : y + int(12 * s), 0 : width + 20]
    band[:] = (band * 0.4).astype(out.dtype)
    settled = max(len(shown) - len(result.spelling) - 1, 0)  # the word being spelled, and the cursor after it
    _text(out, shown[:settled], (10, y), scale, WHITE, 2)
    x = 10 + (cv2.getTextSize(shown[:settled], FONT, scale, 2)[0][0] if settled else 0)
    _text(out, shown[settled:], (x, y), scale, YELLOW, 2)
    notes = []
    if correction is not None:
        notes.append(f"read {correction[0]} (u: undo)")
    if suggestions:
        notes.append(f"{result.suggestions_for}? tab: " + "   ".join(suggestions))
    if notes:
        _text(out, "   ".join(notes), (10, y + int(36 * s)), 0.7 * s, YELLOW, 2)


def draw_practice(out: np.ndarray, practice: Practice) -> None:
    """The word to sign, big, each letter coloured by how it went (the one expected next underlined), the hint
    after a miss, and the score when every word is done."""
    from realtime.practice import MISSED, RIGHT

    s, state = _scale(out), practice.state
    x0, y = 10, int(out.shape[0] * 0.62)
    if practice.done:
        _text(out, practice.summary(), (x0, y), 0.7 * s, GREEN, 2)
        return
    word = practice.words[state.word]
    scale = 1.6 * s
    x = x0
    for i, (letter, mark) in enumerate(zip(word, state.marks[state.word])):
        colour = {RIGHT: GREEN, MISSED: RED}.get(mark, WHITE)
        _text(out, letter, (x, y), scale, colour, 3)
        (tw, _), _ = cv2.getTextSize(letter, FONT, scale, 3)
        if i == state.position:
            cv2.line(out, (x, y + int(8 * s)), (x + tw, y + int(8 * s)), YELLOW, max(2, int(3 * s)))
        x += tw + int(10 * s)
    _text(out, f"word {state.word + 1} of {len(practice.words)}", (x + int(20 * s), y), 0.6 * s, GREY, 1)
    if state.hint:
        for i, line in enumerate(_wrap(state.hint, out.shape[1] - 20, 0.6 * s, " ")):
            _text(out, line, (x0, y + int((34 + 24 * i) * s)), 0.6 * s, YELLOW, 1)


def _wrap(text: str, width: int, scale: float, sep: str = "  ") -> list[str]:
    """Split at ``sep`` into lines no wider than ``width`` pixels."""
    lines: list[str] = []
    for item in text.split(sep):
        candidate = f"{lines[-1]}{sep}{item}" if lines else item
        if lines and cv2.getTextSize(candidate, FONT, scale, 1)[0][0] <= width:
            lines[-1] = candidate
        else:
            lines.append(item)
    return lines


MAX_BARS = 10  # more classes than this (the alphabet model's 25) show only the likeliest, so the bars fit a frame


def bar_rows(p: Prediction, most: int = MAX_BARS) -> list[int]:
    """The classes to draw a bar for: all in their order when they fit, else the ``most`` likeliest, best first."""
    if len(p.classes) <= most:
        return list(range(len(p.classes)))
    return [int(i) for i in np.argsort(-p.probs, kind="stable")[:most]]


def _draw_bars(out: np.ndarray, p: Prediction, s: float) -> None:
    x, y0 = 10, int(200 * s)
    row, width = int(22 * s), int(160 * s)
    for k, i in enumerate(bar_rows(p)):
        name, prob = p.classes[i], float(p.probs[i])
        y = y0 + k * row
        cv2.rectangle(out, (x + int(50 * s), y - row + 6), (x + int(50 * s) + width, y), (60, 60, 60), -1)
        cv2.rectangle(
            out,
            (x + int(50 * s), y - row + 6),
            (x + int(50 * s) + int(width * prob), y),
            GREEN if i == p.index else GREY,
            -1,
        )
        _text(out, name, (x, y - 3), 0.55 * s, WHITE)


def window_size(width: int, height: int, max_side: int = 960) -> tuple[int, int]:
    """A window size that shows a frame whole on a laptop screen."""
    scale = min(1.0, max_side / max(width, height))
    return int(width * scale), int(height * scale)
