"""Turns noisy per-frame probabilities into one stable letter, with events when it changes.

Per-frame guesses flicker: a finger half-way through a move, motion blur, a tracking dropout. The smoother
averages the probabilities of the last ``window_s`` seconds. A letter is committed two ways, both only while the
hand is held still:

- **sure**: its average has stayed above ``enter`` for ``min_hold_s``, the quick path for a clear handshape;
- **steady**: it has been the top class of the average (above "no letter" and every other letter, and at least
  ``steady_enter``) for ``steady_hold_s``. A signer's M that the model reads at 0.5-0.8 with N second is still
  an M held on purpose; waiting a little longer for it is better than dropping it (README, "Words").

A committed letter is released only when its average has stayed below ``exit`` (or the hand has been gone) for
``release_s``. Enter above exit is the hysteresis that stops a letter flickering on and off during a hold.
Time-based, so the behaviour does not depend on the frame rate.

**Still** is judged by ``moved``, how far the hand travelled within the last ``motion_span_s`` (its farthest
palm position from the current one, in hand sizes: ``realtime.tracking.HandMotion``): a hand that covered more
than ``max_speed * motion_span_s`` is between letters. Measured over a span rather than frame to frame, the
pixel or two of tremor a webcam sees on a held hand (a large speed on a small hand between two frames) does not
add up, while a real movement does.

J and Z are signed with a movement (``realtime.motion``) and come in through :meth:`LetterSmoother.commit_moving`:
such a letter replaces the still letter its movement began from (the I a J starts as) and stays committed until
the hand shows something else, so the I that a J ends in is not committed again.

A letter held still is committed once, however long it is held. A double letter (the LL of HELLO) is signed by
bouncing or sliding the held handshape: a movement of at least ``min_bounce`` hand sizes within the span, after
which the same letter settles again, commits that letter again, as a ``repeat``.

Every commit carries what the model thought (``LetterEvent.top``: the likeliest classes of the probabilities
averaged over the hold so far), and every release the same averaged over the whole hold (the frames where the
letter was on top, not those of the move to the next one): the word decoder (``realtime.decode``) weighs a
word's letters by them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from core.errors import UsageError
from core.letters import NO_LETTER

# The live loop's operating point for the no-letter class, overriding the checkpoint's (1.75 for the shipped
# models, which CV chose for single photos). A video has many in-between frames (the hand moving, turning,
# dropping) that should say "no letter". Offsets 0 to 1.75 gave the same word test and replays (README, "Words").
LIVE_NO_LETTER_OFFSET = 0.0
TOP_CLASSES = 5  # classes kept of a hold's averaged probabilities


@dataclass(frozen=True)
class SmootherSettings:
    window_s: float = 0.15
    enter: float = 0.70
    exit: float = 0.40
    min_hold_s: float = 0.10
    release_s: float = 0.30
    max_speed: float = 2.0  # hand sizes a second: a hand moving faster is between letters, and commits nothing
    min_bounce: float = 0.3  # hand sizes covered within the motion span that make a held letter a double letter
    steady_enter: float = 0.5  # the least averaged probability of a steady top letter
    steady_hold_s: float = 0.2  # how long a letter stays the top class before it commits although unsure
    motion_span_s: float = 0.15  # the span over which the hand's movement is measured

    def __post_init__(self) -> None:
        if not 0 < self.exit <= self.enter <= 1:
            raise UsageError(f"need 0 < exit ({self.exit}) <= enter ({self.enter}) <= 1")
        if not 0 < self.steady_enter <= self.enter:
            raise UsageError(f"need 0 < steady enter ({self.steady_enter}) <= enter ({self.enter})")
        if min(self.window_s, self.min_hold_s, self.release_s, self.steady_hold_s) < 0:
            raise UsageError("smoothing times must not be negative")
        if self.max_speed <= 0 or self.min_bounce <= 0 or self.motion_span_s <= 0:
            raise UsageError("the speed limit for committing and the double-letter movement must be positive")

    @property
    def max_move(self) -> float:
        """Hand sizes moved within the motion span above which the hand is between letters."""
        return self.max_speed * self.motion_span_s


@dataclass(frozen=True)
class LetterEvent:
    kind: str  # "commit", "release" or "no_hand"
    t: float
    letter: str | None = None
    confidence: float = 0.0
    replaces: str | None = None  # a commit that takes back the letter committed before it (an I that became a J)
    repeat: bool = False  # a commit of the letter committed before it, after a bounce or slide: a double letter
    top: tuple[tuple[str, float], ...] = ()  # the hold's averaged probabilities: the likeliest classes, best first


class LetterSmoother:
    def __init__(self, classes: tuple[str, ...] | list[str], settings: SmootherSettings = SmootherSettings()) -> None:
        self.classes = tuple(classes)
        self.settings = settings
        self._letter_mask = np.array([c != NO_LETTER for c in self.classes])
        self.reset()

    def reset(self) -> None:
        """Forget everything seen: no letter, nothing averaged."""
        self._buffer: deque[tuple[float, np.ndarray]] = deque()
        self.letter: str | None = None  # the committed letter
        self.confidence = 0.0  # its current averaged probability
        self._candidate: str | None = None  # the top letter of a still hand, not yet committed
        self._steady_since = 0.0  # since when it has been the top letter
        self._sure_since: float | None = None  # since when its average has been above enter
        self._pending = _Mean()  # the candidate's probabilities since it became the top letter
        self._held = _Mean()  # the committed letter's, over its whole hold (from its candidacy)
        self._weak_since: float | None = None  # committed letter below exit (or hand gone), since when
        self._hand_lost_at: float | None = None
        self._no_hand_reported = True
        self._committed_at = -np.inf
        self._blocked: frozenset[str] = frozenset()  # still letters not committed while a moving letter holds
        self._last_commit: str | None = None  # the letter committed last, held or released since
        self._bounced = False  # a movement of min_bounce or more since the last commit

    def update(self, probs: np.ndarray | None, t: float, moved: float = 0.0) -> list[LetterEvent]:
        """Feed one frame: its class probabilities, or None when no hand was found; ``t`` in seconds; ``moved``
        how far the hand travelled within the last ``motion_span_s``, in hand sizes. A letter is held still:
        while the hand moves (rising into place, dropping, turning between letters) nothing new is committed, so
        the shapes it passes through on the way cannot add up to a letter."""
        s = self.settings
        events: list[LetterEvent] = []
        if probs is None:
            self._buffer.clear()
            self._candidate, self._bounced = None, False
            if self._hand_lost_at is None:
                self._hand_lost_at = t
            if t - self._hand_lost_at >= s.release_s:
                if self.letter is not None:
                    events.append(self._release(t))
                if not self._no_hand_reported:
                    events.append(LetterEvent("no_hand", t))
                    self._no_hand_reported = True
            return events
        self._hand_lost_at = None
        self._no_hand_reported = False
        probs = np.asarray(probs, dtype=np.float64)
        self._buffer.append((t, probs))
        while self._buffer and self._buffer[0][0] < t - s.window_s:
            self._buffer.popleft()
        avg = np.mean([p for _, p in self._buffer], axis=0)
        best = int(np.where(self._letter_mask, avg, -1.0).argmax())
        best_letter, best_p = self.classes[best], float(avg[best])

        if self.letter is not None and self.letter not in self.classes:  # a moving letter: held while its shape is
            if self.classes[int(avg.argmax())] not in self._blocked:
                events.append(self._release(t))
        elif self.letter is not None:
            if best_letter == self.letter:  # the hold, not the move to the next letter
                self._held.add(probs)
            self.confidence = float(avg[self.classes.index(self.letter)])
            if self.confidence < s.exit:
                self._weak_since = t if self._weak_since is None else self._weak_since
                if t - self._weak_since >= s.release_s:
                    events.append(self._release(t))
            else:
                self._weak_since = None

        self._bounced = self._bounced or moved >= s.min_bounce
        repeat = best_letter == self._last_commit and self._bounced and moved < s.min_bounce  # settled again
        steady = best_p >= s.steady_enter and best == int(avg.argmax())  # the top class, above "no letter" too
        if (
            (steady or best_p >= s.enter)
            and (best_letter != self.letter or repeat)
            and best_letter not in self._blocked
            and moved <= s.max_move
        ):
            if self._candidate != best_letter:
                self._candidate, self._steady_since, self._sure_since = best_letter, t, None
                self._pending = _Mean()
            self._pending.add(probs)
            if best_p < s.enter:
                self._sure_since = None
            elif self._sure_since is None:
                self._sure_since = t
            sure = self._sure_since is not None and t - self._sure_since >= s.min_hold_s
            if sure or (steady and t - self._steady_since >= s.steady_hold_s):
                if self.letter is not None:
                    events.append(self._release(t))
                self._held, self._pending = self._pending, _Mean()
                self.letter, self.confidence, self._candidate = best_letter, best_p, None
                self._committed_at, self._last_commit, self._bounced = t, best_letter, False
                top = self._held.top(self.classes)
                events.append(LetterEvent("commit", t, best_letter, best_p, repeat=repeat, top=top))
        else:
            self._candidate = None
        return events

    def commit_moving(
        self, letter: str, t: float, confidence: float, started: float, starts_from: tuple[str, ...]
    ) -> list[LetterEvent]:
        """Commit a letter recognised from a movement that began at ``started``. The letter committed now is
        taken back (the commit says what it ``replaces``) when it is one whose shape the movement starts from, or
        was committed during the movement; any other is released first. The ``starts_from`` letters are not
        committed while the moving letter holds, which is until the hand shows another class or leaves."""
        events = []
        replaces = None
        if self.letter is not None:
            if self.letter in starts_from or self._committed_at >= started:
                replaces = self.letter
            else:
                events.append(self._release(t))
        self.letter, self.confidence, self._committed_at = letter, confidence, t
        self._last_commit, self._bounced = letter, False
        self._candidate = self._weak_since = None
        self._blocked = frozenset(starts_from)
        self._held = _Mean()
        events.append(LetterEvent("commit", t, letter, confidence, replaces, top=((letter, round(confidence, 4)),)))
        return events

    def _release(self, t: float) -> LetterEvent:
        held = self._held.top(self.classes) or ((str(self.letter), round(self.confidence, 4)),)  # a moving letter
        event = LetterEvent("release", t, self.letter, self.confidence, top=held)
        self.letter, self.confidence, self._weak_since = None, 0.0, None
        self._blocked = frozenset()
        self._held = _Mean()
        return event


class _Mean:
    """Probability vectors averaged as they come."""

    def __init__(self) -> None:
        self._sum: np.ndarray | None = None
        self._n = 0

    def add(self, probs: np.ndarray) -> None:
        self._sum = probs.copy() if self._sum is None else self._sum + probs
        self._n += 1

    def top(self, classes: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
        """The likeliest classes of the mean, best first; empty when nothing was added."""
        if self._sum is None:
            return ()
        mean = self._sum / self._n
        return tuple((classes[i], round(float(mean[i]), 4)) for i in np.argsort(-mean)[:TOP_CLASSES])
