"""The per-frame pipeline: track the hand, crop it, classify it, smooth the guesses.

One object serves the window, headless replay, recording and the tests, so they all exercise the same code.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from model.classifier import LetterClassifier, Prediction
from realtime.capture import Frame
from realtime.crop import Box, BoxSmoother, HandCrop, crop_hand
from realtime.hand import Hand, HandTracker, pick_signing_hand
from realtime.smoothing import LetterEvent, LetterSmoother, SmootherSettings

# The live loop's operating point for the no-letter class, overriding the checkpoint's (1.75 for the shipped
# model, which CV chose for single photos). A video has many in-between frames (the hand moving, turning,
# dropping) that should say "no letter", and the smoother already makes a letter wait for 0.15 s of agreement.
# On the signademy replay clips (an earlier model), offset 2.5 let 6 of 14 other letters commit an A-I letter,
# offset 0 two, with all nine A-I clips committing the right letter either way.
LIVE_NO_LETTER_OFFSET = 0.0


@dataclass
class FrameResult:
    """Everything the pipeline learned from one frame; overlays draw it, the recorder writes it."""

    frame: Frame
    hand: Hand | None = None
    box: Box | None = None
    crop: HandCrop | None = None
    model_view: np.ndarray | None = None  # the crop's pixels as the network sees them (hand focus applied)
    prediction: Prediction | None = None
    letter: str | None = None  # the stable (committed) letter
    letter_confidence: float = 0.0
    events: list[LetterEvent] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)


class Pipeline:
    def __init__(self, classifier: LetterClassifier, settings: SmootherSettings = SmootherSettings(),
                 prefer_hand: str | None = None, box_alpha: float = 0.5) -> None:
        """``prefer_hand``: MediaPipe handedness label to pick when two hands appear and none is tracked."""
        self.classifier = classifier
        self.tracker = HandTracker(video=True)
        self.smoother = LetterSmoother(classifier.classes, settings)
        self.box_smoother = BoxSmoother(alpha=box_alpha)
        self.prefer_hand = prefer_hand
        self._box: Box | None = None

    def process(self, frame: Frame) -> FrameResult:
        result = FrameResult(frame)
        t0 = time.perf_counter()
        hand = pick_signing_hand(self.tracker.detect(frame.image), self._box, self.prefer_hand)
        t1 = time.perf_counter()
        result.timings_ms["track"] = (t1 - t0) * 1000
        self._box = self.box_smoother.update(hand.box(self.classifier.margin) if hand else None)
        probs = None
        if hand is not None:
            result.hand, result.box = hand, self._box
            result.crop = crop_hand(frame.image, hand.landmarks, self._box, self.classifier.input_size)
            result.model_view = self.classifier.preprocess.pixels(result.crop)
            t2 = time.perf_counter()
            result.prediction = self.classifier.predict_pixels([result.model_view], [result.crop.landmarks])[0]
            probs = result.prediction.probs
            t3 = time.perf_counter()
            result.timings_ms["crop"] = (t2 - t1) * 1000
            result.timings_ms["classify"] = (t3 - t2) * 1000
        result.events = self.smoother.update(probs, frame.t)
        result.letter, result.letter_confidence = self.smoother.letter, self.smoother.confidence
        result.timings_ms["total"] = (time.perf_counter() - t0) * 1000
        return result

    def close(self) -> None:
        self.tracker.close()
