"""Turns noisy per-frame probabilities into one stable letter, with events when it changes.

Per-frame guesses flicker: a finger half-way through a move, motion blur, a tracking dropout. The smoother
averages the probabilities of the last ``window_s`` seconds and commits a letter only when that average has
stayed above ``enter`` for ``min_hold_s``; a committed letter is released only when its average has stayed
below ``exit`` (or the hand has been gone) for ``release_s``. Enter above exit is the hysteresis that stops a
letter flickering on and off during a hold. Time-based, so the behaviour does not depend on the frame rate.

J and Z are signed with a movement (``realtime.motion``) and come in through :meth:`LetterSmoother.commit_moving`:
such a letter replaces the still letter its movement began from (the I a J starts as) and stays committed until
the hand shows something else, so the I that a J ends in is not committed again.

A letter held still is committed once, however long it is held. A double letter (the LL of HELLO) is signed by
bouncing or sliding the held handshape: a movement of the hand faster than ``max_speed`` that covers at least
``min_bounce`` hand sizes in one go, after which the same letter settles again, commits that letter again, as a
``repeat``. Tracking jitter during a hold stays well under that (README, "Words").
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from core.errors import UsageError
from core.letters import NO_LETTER

# The live loop's operating point for the no-letter class, overriding the checkpoint's (1.75 for the shipped
# model, which CV chose for single photos). A video has many in-between frames (the hand moving, turning,
# dropping) that should say "no letter", and the smoother already makes a letter wait for 0.15 s of agreement.
# On the signademy replay clips (an earlier model), offset 2.5 let 6 of 14 other letters commit an A-I letter,
# offset 0 two, with all nine A-I clips committing the right letter either way.
LIVE_NO_LETTER_OFFSET = 0.0


@dataclass(frozen=True)
class SmootherSettings:
    window_s: float = 0.15
    enter: float = 0.70
    exit: float = 0.40
    min_hold_s: float = 0.10
    release_s: float = 0.30
    max_speed: float = 2.0  # hand sizes a second: a hand moving faster is between letters, and commits nothing
    min_bounce: float = 0.3  # hand sizes covered in one fast movement that make a held letter a double letter

    def __post_init__(self) -> None:
        if not 0 < self.exit <= self.enter <= 1:
            raise UsageError(f"need 0 < exit ({self.exit}) <= enter ({self.enter}) <= 1")
        if min(self.window_s, self.min_hold_s, self.release_s) < 0:
            raise UsageError("smoothing times must not be negative")
        if self.max_speed <= 0 or self.min_bounce <= 0:
            raise UsageError("the speed limit for committing and the double-letter movement must be positive")


@dataclass(frozen=True)
class LetterEvent:
    kind: str  # "commit", "release" or "no_hand"
    t: float
    letter: str | None = None
    confidence: float = 0.0
    replaces: str | None = None  # a commit that takes back the letter committed before it (an I that became a J)
    repeat: bool = False  # a commit of the letter committed before it, after a bounce or slide: a double letter


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
        self._candidate: tuple[str, float] | None = None  # letter above enter, since when
        self._weak_since: float | None = None  # committed letter below exit (or hand gone), since when
        self._hand_lost_at: float | None = None
        self._no_hand_reported = True
        self._committed_at = -np.inf
        self._blocked: frozenset[str] = frozenset()  # still letters not committed while a moving letter holds
        self._last_commit: str | None = None  # the letter committed last, held or released since
        self._last_t: float | None = None
        self._sweep = 0.0  # hand sizes covered by the current fast movement
        self._bounced = False  # a fast movement of min_bounce or more since the last commit

    def update(self, probs: np.ndarray | None, t: float, speed: float = 0.0) -> list[LetterEvent]:
        """Feed one frame: its class probabilities, or None when no hand was found; ``t`` in seconds; ``speed``
        how fast the hand moves, in hand sizes a second. A letter is held still: while the hand moves faster than
        ``max_speed`` (rising into place, dropping, turning between letters) nothing new is committed, so the
        shapes it passes through on the way cannot add up to a letter."""
        s = self.settings
        events: list[LetterEvent] = []
        dt, self._last_t = (0.0 if self._last_t is None else max(t - self._last_t, 0.0)), t
        if probs is None:
            self._buffer.clear()
            self._candidate = None
            self._sweep, self._bounced = 0.0, False
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
        self._buffer.append((t, np.asarray(probs, dtype=np.float64)))
        while self._buffer and self._buffer[0][0] < t - s.window_s:
            self._buffer.popleft()
        avg = np.mean([p for _, p in self._buffer], axis=0)
        letter_probs = np.where(self._letter_mask, avg, -1.0)
        best = int(letter_probs.argmax())
        best_letter, best_p = self.classes[best], float(avg[best])

        if self.letter is not None and self.letter not in self.classes:  # a moving letter: held while its shape is
            if self.classes[int(avg.argmax())] not in self._blocked:
                events.append(self._release(t))
        elif self.letter is not None:
            self.confidence = float(avg[self.classes.index(self.letter)])
            if self.confidence < s.exit:
                self._weak_since = t if self._weak_since is None else self._weak_since
                if t - self._weak_since >= s.release_s:
                    events.append(self._release(t))
            else:
                self._weak_since = None

        self._sweep = self._sweep + speed * dt if speed > s.max_speed else 0.0
        self._bounced = self._bounced or self._sweep >= s.min_bounce
        repeat = best_letter == self._last_commit and self._bounced
        if (
            best_p >= s.enter
            and (best_letter != self.letter or repeat)
            and best_letter not in self._blocked
            and speed <= s.max_speed
        ):
            if self._candidate is None or self._candidate[0] != best_letter:
                self._candidate = (best_letter, t)
            if t - self._candidate[1] >= s.min_hold_s:
                if self.letter is not None:
                    events.append(self._release(t))
                self.letter, self.confidence, self._candidate = best_letter, best_p, None
                self._committed_at, self._last_commit, self._bounced = t, best_letter, False
                events.append(LetterEvent("commit", t, best_letter, best_p, repeat=repeat))
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
        events.append(LetterEvent("commit", t, letter, confidence, replaces))
        return events

    def _release(self, t: float) -> LetterEvent:
        event = LetterEvent("release", t, self.letter, self.confidence)
        self.letter, self.confidence, self._weak_since = None, 0.0, None
        self._blocked = frozenset()
        return event
