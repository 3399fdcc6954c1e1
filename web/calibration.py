"""Calibration in the page: the model learns one person's hands from their own live frames.

The page shows a letter and counts down; the server then keeps a few of that page's frames with a hand as shots
of the letter (a fifth of a second apart, so they are not one frame five times), and says at once when it sees
no hand. From the page's first word about calibrating until it is done or stopped, the frames type nothing.
When the page says it is done, the letters are moved to this person's hands on the server
(``model.calibration.calibrate``, as ``calibrate.py`` does), one calibration at a time for the whole server, and
the page's own pipeline reads with the personal model from the next frame on. The model is that page's alone:
its shots and its model live in its session, and the file is offered for download under a random name that
only that page is told, removed when the page goes. The page is also given the calibrated letters' means (a
few hundred bytes a letter) to keep in the browser and send back after a reload, which rebuilds the same
model without a shot; and it can go back to the shared model at any time.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

from core.crop import hand_box
from core.errors import AslError
from core.hand import Hand
from model.calibration import (
    NO_HAND_S,
    CalibrationSettings,
    Shot,
    calibrate,
    layer_from_info,
    layer_to_info,
    model_tag,
    personalised,
)
from model.checkpoint import Checkpoint, checkpoint_bytes
from model.classifier import LetterClassifier
from model.network import LetterNet

SHOT_GAP_S = 0.2  # between two shots of one letter
SHOT_SIDE = 448  # a shot's longer side at most: the hand's box and its context at twice the model's input size
CONTEXT = 1.0  # the part of the frame kept around a shot's hand: its box grown by this share on every side


@dataclass
class Capture:
    letter: str
    wanted: int
    taken: int = 0
    last_t: float | None = None  # the last shot's time, or the first frame's while none is taken
    warned: bool = False


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
        self.current = base  # the model the page reads with: the shared one or its personal one
        self.capture: Capture | None = None
        self.note: dict[str, Any] | None = None  # what the next answer tells the page, once
        self.token: str | None = None
        self.active = False  # from the page's first calibration message to done or stop: frames type nothing

    def begin(self) -> None:
        """The page starts calibrating (its countdown runs): the hands it shows are not spelling."""
        self.active = True

    def stop(self) -> None:
        """The page stopped before done: its shots are dropped, the model it had stays."""
        self.active, self.capture, self.shots = False, None, []

    def start(self, message: dict[str, Any]) -> str | None:
        """``{"action": "calibrate", "letter": "B", "shots": 5}``: the next frames with a hand are shots of B.
        An error for the page, or None."""
        letter, wanted = message.get("letter"), message.get("shots", 5)
        if not isinstance(letter, str) or letter not in self.base.classes:
            return f"calibrate: give a letter this model knows ({''.join(self.base.classes[:-1])})"
        if not isinstance(wanted, int) or not 1 <= wanted <= 10:
            return "calibrate: shots is 1 to 10"
        if len(self.shots) + wanted > self.max_shots:
            return f"calibrate: at most {self.max_shots} shots a page; finish, or start again"
        self.capture = Capture(letter, wanted)
        self.active = True
        return None

    def offer(self, image: np.ndarray, hand: Hand | None, t: float) -> None:
        """A frame just read: a shot when one is being taken, the hand is there and the last shot is old enough."""
        c = self.capture
        if c is None:
            return
        if c.last_t is None:
            c.last_t = t - SHOT_GAP_S
        if hand is None:
            if not c.warned and t - c.last_t >= NO_HAND_S:
                c.warned = True
                self.note = {"letter": c.letter, "shots": c.taken, "of": c.wanted, "no_hand": True}
            return
        if t - c.last_t < SHOT_GAP_S:
            return
        self.shots.append(shot_of(image, hand, c.letter))
        c.taken, c.last_t, c.warned = c.taken + 1, t, False
        if c.taken >= c.wanted:
            self.capture = None
        self.note = {"letter": c.letter, "shots": c.taken, "of": c.wanted}

    def status(self) -> dict[str, Any] | None:
        """For the answer to the frame just read: the capture's progress, or the outcome of finishing."""
        note, self.note = self.note, None
        return note

    def finish(self) -> LetterClassifier | None:
        """Calibrate on the shots (blocking: call it off the event loop): the personal classifier, or None with
        the reason in :meth:`status`. The page's earlier calibrated letters are kept; letters shot again are
        replaced."""
        self.capture, self.active = None, False
        if not self.busy.acquire(blocking=False):  # the shots stay: "done" again later uses them
            self.note = {"failed": "another page's model is being calibrated: try again in a minute"}
            return None
        shots = self.shots
        try:
            started = time.perf_counter()
            personal = calibrate(self.current.as_checkpoint(), shots, self.settings, signer="page")
        except AslError as e:
            self.note = {"failed": str(e)}
            return None
        finally:
            self.busy.release()
        self.shots = []
        report = personal.info["calibration"]["report"]
        self.note = {
            "done": True,
            "letters": "".join(sorted({s.label for s in shots})),
            "shots": len(shots),
            "seconds": round(time.perf_counter() - started, 1),
            "report": report,
        }
        return self._use(personal)

    def restore(self, message: dict[str, Any]) -> str | None:
        """``{"action": "calibration_restore", "model": TAG, "letters": {...}}``: the calibration a page kept
        (the ``calibration`` it was told) rebuilt on this server's model, or an error for the page."""
        head = self.base.net.head
        try:
            if message.get("model") != model_tag(head):
                return "calibration_restore: that calibration was made on another model; calibrate again"
            layer, counts = layer_from_info(message.get("letters"), head.embedding_dim, list(self.base.classes))
            base = self.base.as_checkpoint()
            personal = replace(
                base,
                net=LetterNet(base.net.backbone, personalised(head, layer)),
                info={**base.info, "calibration": {"signer": "page", "letters_shot": counts}},
            )
        except AslError as e:
            return f"calibration_restore: {e}"
        self.note = {"restored": True, "letters": "".join(sorted(counts))}
        self._use(personal)
        return None

    def reset(self) -> None:
        """Back to the shared model; the download is withdrawn."""
        self.capture, self.active, self.shots = None, False, []
        self.current = self.base
        self.close()
        self.note = {"reset": True, "calibration": None}

    def _use(self, personal: Checkpoint) -> LetterClassifier:
        if self.token is not None:
            self.store.pop(self.token, None)
        self.token = secrets.token_urlsafe(16)
        self.store[self.token] = checkpoint_bytes(personal)
        device = self.base.device.type  # "cuda", "mps" or "cpu": where the shared model is
        self.current = LetterClassifier(device=device, no_letter_offset=self.base.offset, checkpoint=personal)
        assert self.note is not None
        layer, counts = personal.net.head.personal, personal.info["calibration"]["letters_shot"]
        assert layer is not None
        self.note["calibration"] = {
            "model": model_tag(self.base.net.head),
            "letters": layer_to_info(layer, list(personal.classes), counts),
            "download": f"/api/personal/{self.token}",
        }
        return self.current

    def close(self) -> None:
        if self.token is not None:
            self.store.pop(self.token, None)
            self.token = None


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
    crop = image[y0:y1, x0:x1]
    scale = min(1.0, SHOT_SIDE / max(crop.shape[:2]))
    if scale < 1:  # a near hand in a large frame: kept at twice the model's input, not at the camera's size
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        landmarks *= scale
    return Shot(crop.copy(), landmarks, letter)
