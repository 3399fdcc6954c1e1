"""The per-frame pipeline: track the hand, prepare it for the model, classify it, smooth the guesses.

One object serves the window, headless replay, recording and the tests, so they all exercise the same code.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import numpy as np

from core.crop import Box
from core.hand import Hand
from core.letters import NO_LETTER
from model.classifier import LetterClassifier, Prediction
from model.preprocess import ModelInput
from realtime import LIVE_TRACK_MAX_SIDE
from realtime.capture import Frame
from realtime.language import CharBigram
from realtime.motion import MOVING_LETTERS, MotionRecognizer
from realtime.sequence import SequenceReader, SequenceSettings
from realtime.smoothing import LetterEvent, LetterSmoother, SmootherSettings
from realtime.tracking import BoxSmoother, HandMotion, HandTracker, pick_signing_hand
from realtime.words import Transcript, WordEvent


@dataclass(frozen=True)
class HandResult:
    """The signing hand of one frame and what the model made of it: all present together, or none of it."""

    found: Hand  # as the tracker found it, in frame pixels
    input: ModelInput  # the steadied box, the crop and the pixels the network saw
    prediction: Prediction

    @property
    def landmarks(self) -> np.ndarray:
        return self.found.landmarks

    @property
    def box(self) -> Box:
        return self.input.box


@dataclass
class FrameResult:
    """Everything the pipeline learned from one frame; overlays draw it, sinks write it."""

    frame: Frame
    hand: HandResult | None = None
    letter: str | None = None  # the stable (committed) letter
    letter_confidence: float = 0.0
    events: list[LetterEvent] = field(default_factory=list)
    words: list[WordEvent] = field(default_factory=list)  # words finished at this frame
    text: str = ""  # the transcript: every word so far, the one being spelled last
    spelling: str = ""  # the word being spelled, as read so far (provisional: settled when the word ends)
    suggestions: tuple[str, ...] = ()  # dictionary words for the last finished word, best first
    suggestions_for: str | None = None  # that word
    correction: tuple[str, str] | None = None  # (letters read, word shown) when the dictionary corrected the last
    timings_ms: dict[str, float] = field(default_factory=dict)


MAX_OUTSIDE = 0.25  # a hand with more of its joints beyond the frame's edge is resting (on a lap), not spelling


@dataclass(frozen=True)
class Tracked:
    """A frame and the hands the tracker found in it: the first stage's output, which may run ahead on a
    thread of its own (``realtime.live``)."""

    frame: Frame
    hands: list[Hand]
    track_ms: float


def committable_letters(classifier: LetterClassifier) -> str:
    """Every letter the pipeline can commit with this model: its still letters, and J and Z from their movement."""
    still = [c for c in classifier.classes if c != NO_LETTER]
    return "".join(sorted({*still, *(m.letter for m in MOVING_LETTERS)}))


@functools.lru_cache(maxsize=4)
def _spelling(letters: str) -> CharBigram:
    return CharBigram.english(letters)


def reader_for(classes: tuple[str, ...]) -> SequenceReader:
    """The sequence reader of a model's classes, weighing English spelling (learnt once per set of letters)."""
    return SequenceReader(classes, SequenceSettings(), _spelling("".join(c for c in classes if c != NO_LETTER)))


class Pipeline:
    """Two stages: :meth:`track` (MediaPipe, the slowest step) and :meth:`finish` (pick the hand, crop,
    classify, smooth). :meth:`process` runs both; the live loop may run ``track`` on frame n+1 while ``finish``
    works on frame n, as long as each stage sees the frames in order."""

    def __init__(
        self,
        classifier: LetterClassifier,
        settings: SmootherSettings = SmootherSettings(),
        prefer_hand: str | None = None,
        box_alpha: float = 0.5,
        track_max_side: int | None = LIVE_TRACK_MAX_SIDE,
        transcript: Transcript | None = None,
        track_lite: bool = False,
    ) -> None:
        """``prefer_hand``: MediaPipe handedness label to pick when two hands appear and none is tracked.
        ``track_max_side``: track a copy of larger frames scaled down to this; ``track_lite``: with MediaPipe's
        lighter landmark model (``HandTracker``)."""
        self.classifier = classifier
        self.tracker = HandTracker(video=True, max_side=track_max_side, lite=track_lite)
        self.smoother = LetterSmoother(classifier.classes, settings)
        self.box_smoother = BoxSmoother(alpha=box_alpha)
        self.motion = MotionRecognizer(personal=classifier.info.get("moving_shapes"))
        self.transcript = transcript or Transcript(reader_for(classifier.classes))
        self.hand_motion = HandMotion(settings.motion_span_s)
        self.prefer_hand = prefer_hand
        self.typing = True  # False: the hands shown are not spelling (calibration shots); words in progress end
        self._box: Box | None = None

    def use(self, classifier: LetterClassifier) -> None:
        """Read the next frames with ``classifier`` (a personal model of the same classes), smoothing on."""
        if classifier.classes != self.classifier.classes:
            raise ValueError("a model with other classes needs a new pipeline")
        self.classifier = classifier

    def process(self, frame: Frame) -> FrameResult:
        return self.finish(self.track(frame))

    def track(self, frame: Frame) -> Tracked:
        t0 = time.perf_counter()
        hands = self.tracker.detect(frame.image)
        return Tracked(frame, hands, (time.perf_counter() - t0) * 1000)

    def finish(self, tracked: Tracked) -> FrameResult:
        frame = tracked.frame
        result = FrameResult(frame)
        result.timings_ms["track"] = tracked.track_ms
        t1 = time.perf_counter()
        h, w = frame.image.shape[:2]
        signing = [hd for hd in tracked.hands if hd.share_outside(w, h) <= MAX_OUTSIDE]
        found = pick_signing_hand(signing, self._box, self.prefer_hand)
        self._box = self.box_smoother.update(found.box(self.classifier.margin) if found else None)
        if found is not None and self._box is not None:
            model_input = self.classifier.prepare(frame.image, found.landmarks, self._box)
            t2 = time.perf_counter()
            result.hand = HandResult(found, model_input, self.classifier.predict([model_input])[0])
            t3 = time.perf_counter()
            result.timings_ms["crop"] = (t2 - t1) * 1000
            result.timings_ms["classify"] = (t3 - t2) * 1000
        moved = self.hand_motion.update(found.landmarks if found is not None else None, frame.t)
        probs = result.hand.prediction.probs if result.hand else None
        result.events = self.smoother.update(probs, frame.t, moved)
        drawn = self.motion.update(found.landmarks if found is not None else None, frame.t)
        if drawn is not None:
            m = drawn.letter
            args = (m.letter, frame.t, drawn.confidence, drawn.started, m.starts_from)
            result.events += self.smoother.commit_moving(*args)
            if self.typing:
                self.transcript.add_moving(*args)
        result.letter, result.letter_confidence = self.smoother.letter, self.smoother.confidence
        # the word gap runs from the moment the hand is gone or shows no letter
        showing = probs is not None and self.classifier.classes[int(np.argmax(probs))] != NO_LETTER
        t4 = time.perf_counter()
        if self.typing:
            result.words = self.transcript.update(probs, frame.t, moved, showing)
        else:  # as if no hand were seen: a word spelled before ends, nothing shown now is read
            result.words = self.transcript.update(None, frame.t, False, False)
        result.timings_ms["read"] = (time.perf_counter() - t4) * 1000
        result.text, result.suggestions = self.transcript.text, tuple(self.transcript.suggestions)
        result.spelling = self.transcript.current
        result.suggestions_for = self.transcript.suggestions_for
        result.correction = self.transcript.correction
        result.timings_ms["total"] = tracked.track_ms + (time.perf_counter() - t1) * 1000
        return result

    def close(self) -> None:
        self.tracker.close()
        self.transcript.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
