"""Calibration in the page: the model learns one person's hands from their own live frames.

The page shows a letter and counts down; the server then keeps a few of that page's frames with a hand as shots
of the letter (a fifth of a second apart, so they are not one frame five times). When the page says it is done,
the head is fine-tuned on the shots on the server (``model.calibration.calibrate``, as ``calibrate.py`` does),
one calibration at a time for the whole server, and the page's own pipeline reads with the personal model from
the next frame on. The model is that page's alone: its shots and its model live in its session, and the file
is offered for download under a random name that only that page is told, removed when the page goes.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.crop import hand_box
from core.errors import AslError
from core.hand import Hand
from model.calibration import CalibrationSettings, Shot, calibrate
from model.checkpoint import checkpoint_bytes
from model.classifier import LetterClassifier

SHOT_GAP_S = 0.2  # between two shots of one letter
CONTEXT = 1.0  # the part of the frame kept around a shot's hand: its box grown by this share on every side


@dataclass
class Capture:
    letter: str
    wanted: int
    taken: int = 0
    last_t: float = -1.0


class PageCalibration:
    """One page's shots and personal model. ``store`` (download name to checkpoint bytes) and ``busy`` (a lock
    held while a head is fine-tuned) are the server's, shared by every page."""

    def __init__(
        self,
        base: LetterClassifier,
        store: dict[str, bytes],
        busy: threading.Lock,
        max_shots: int,
        settings: CalibrationSettings | None = None,
    ) -> None:
        self.base, self.store, self.busy, self.max_shots = base, store, busy, max_shots
        self.settings = settings or CalibrationSettings()
        self.shots: list[Shot] = []
        self.capture: Capture | None = None
        self.note: dict[str, Any] | None = None  # what the next answer tells the page, once
        self.token: str | None = None

    def start(self, message: dict[str, Any]) -> str | None:
        """``{"action": "calibrate", "letter": "B", "shots": 5}``: the next frames with a hand are shots of B.
        An error for the page, or None."""
        letter, wanted = message.get("letter"), message.get("shots", 5)
        if not isinstance(letter, str) or letter not in self.base.classes:
            return f"calibrate: give a letter this model knows ({''.join(self.base.classes[:-1])})"
        if not isinstance(wanted, int) or not 2 <= wanted <= 10:
            return "calibrate: shots is 2 to 10"
        if len(self.shots) + wanted > self.max_shots:
            return f"calibrate: at most {self.max_shots} shots a page; finish, or start again"
        self.capture = Capture(letter, wanted)
        return None

    def offer(self, image: np.ndarray, hand: Hand | None, t: float) -> None:
        """A frame just read: a shot when one is being taken, the hand is there and the last shot is old enough."""
        c = self.capture
        if c is None or hand is None or t - c.last_t < SHOT_GAP_S:
            return
        self.shots.append(shot_of(image, hand, c.letter))
        c.taken, c.last_t = c.taken + 1, t
        if c.taken >= c.wanted:
            self.capture = None
        self.note = {"letter": c.letter, "shots": c.taken, "of": c.wanted}

    def status(self) -> dict[str, Any] | None:
        """For the answer to the frame just read: the capture's progress, or the outcome of finishing."""
        note, self.note = self.note, None
        return note

    def finish(self) -> LetterClassifier | None:
        """Fine-tune on the shots (blocking: call it off the event loop): the personal classifier, or None with
        the reason in :meth:`status`."""
        self.capture = None
        if not self.busy.acquire(blocking=False):
            self.note = {"failed": "another page's model is being calibrated: try again in a minute"}
            return None
        try:
            started = time.perf_counter()
            personal = calibrate(self.base.as_checkpoint(), self.shots, self.settings, signer="page")
        except AslError as e:
            self.note = {"failed": str(e)}
            return None
        finally:
            self.busy.release()
        if self.token is not None:
            self.store.pop(self.token, None)
        self.token = secrets.token_urlsafe(16)
        self.store[self.token] = checkpoint_bytes(personal)
        letters = "".join(sorted({s.label for s in self.shots}))
        self.note = {
            "done": True,
            "letters": letters,
            "shots": len(self.shots),
            "seconds": round(time.perf_counter() - started, 1),
            "download": f"/api/personal/{self.token}",
        }
        device = self.base.device.type  # "cuda", "mps" or "cpu": where the shared model is
        return LetterClassifier(device=device, no_letter_offset=self.base.offset, checkpoint=personal)

    def close(self) -> None:
        if self.token is not None:
            self.store.pop(self.token, None)


def shot_of(image: np.ndarray, hand: Hand, letter: str) -> Shot:
    """A shot keeping only the frame around the hand (its box grown by :data:`CONTEXT`), for augmentation to
    shift and scale within: a whole frame a shot would hold a page's memory for nothing."""
    box = hand_box(hand.landmarks, CONTEXT)
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box.xyxy
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    landmarks = hand.landmarks.copy()
    landmarks[:, 0] -= x0
    landmarks[:, 1] -= y0
    return Shot(image[y0:y1, x0:x1].copy(), landmarks, letter)
