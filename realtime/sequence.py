"""The letters of the word being spelled, read from every frame at once: a segmental Viterbi decoder.

A fluent fingerspeller signs four to six letters a second; a letter is on the hand for a tenth of a second or
two, the hand never stops, and the frames between letters show half-formed shapes. A rule that commits a letter
only once it has been held still (``realtime.smoothing``) drops most of them. Speech and handwriting recognisers
decode such streams as a whole: every frame's class probabilities go in, the likeliest sequence of letters comes
out. This reader does the same over the frames of the current word:

- the frames are cut into **segments**, each a letter or a **transition** (no letter: the move between two
  letters, a resting hand, a hand out of view). A letter segment is scored by the log probability the model gave
  that letter on each of its frames, a transition by ``max(p(no letter), transition_floor)``: a frame on which
  no letter stands out above the floor is explained as a transition;
- each frame counts for the time it covers (``frame_s`` is one unit), so a letter needs ``min_letter_s`` seconds
  of frames whatever the frame rate, and 15 and 30 frames a second weigh the same evidence alike;
- each letter pays ``letter_cost`` nats (an insertion penalty, so flicker is not read as letters), and the
  step from one letter to the next is weighed by English spelling (``realtime.language.CharBigram``, times
  ``lm_weight``);
- a frame on which the hand moves ``min_bounce`` hand sizes or more within the motion span (a bounce, a slide,
  the hand rising into place or dropping) is likelier a transition: its floor is ``moving_floor``, so only a
  letter the model reads clearly there is a letter. The same letter twice in a row needs such a movement
  between them: a double letter is a bounce, as in ASL, while a dip in the probabilities of a held letter never
  doubles it. Where the model reads the letter right through the bounce (a slide keeps the handshape), a
  letter whose frames hold a bounce with the letter settled for ``min_letter_s`` on either side is two;
- J and Z are signed with a movement (``realtime.motion``): :meth:`SequenceReader.add_moving` puts them in the
  reading in place of the letters their movement began as (the I a J starts from) and of those read during it.

The decoder is exact (every segmentation is considered) and online: each new frame adds one column to the
dynamic programme, a vectorised pass over the word's earlier frames (well under a millisecond for a word of a
few seconds), and :meth:`SequenceReader.reading` backtracks the best path so far: the word's provisional
letters, each with the model's probabilities averaged over its frames (what the dictionary weighs,
``realtime.decode``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import UsageError
from core.letters import NO_LETTER
from realtime.decode import HeldLetter
from realtime.language import CharBigram

NEG = -1e18  # an impossible path's score (finite, so sums of impossible paths stay ordered)
TOP_CLASSES = 5  # classes kept of a segment's averaged probabilities
REPEAT_WINDOW_S = 0.3  # a double letter's halves are looked for this close to the bounce between them
MIN_DOUBLE = 0.01  # a letter English doubles at least this often after itself (LL, EE: not WW, HH)


@dataclass(frozen=True)
class SequenceSettings:
    min_letter_s: float = 0.08  # the least time a letter is on the hand
    transition_floor: float = 0.35  # a frame's transition probability is at least this
    letter_cost: float = 1.0  # nats a letter costs: what keeps a flicker from being read as a letter
    lm_weight: float = 0.3  # the power of English spelling against the frames' evidence
    min_bounce: float = 0.3  # hand sizes moved within the motion span that make a frame a bounce
    moving_floor: float = 0.4  # a bounce frame's transition probability is at least this
    max_bounce_s: float = 0.4  # the longest movement between a double letter's halves (a rising hand is longer)
    frame_s: float = 1 / 30  # the time one unit of evidence stands for
    max_frame_s: float = 0.1  # a frame after a longer pause counts for this long at most
    max_frames: int = 1800  # frames of one word kept at most (a minute at 30 frames a second)

    def __post_init__(self) -> None:
        if self.min_letter_s < 0 or self.letter_cost < 0 or self.lm_weight < 0:
            raise UsageError("the reader's least letter time, letter cost and spelling weight must not be negative")
        if not 0 < self.transition_floor <= self.moving_floor < 1 or self.min_bounce <= 0:
            raise UsageError("need 0 < transition floor <= moving floor < 1 and a positive bounce")


@dataclass(frozen=True)
class Segment:
    """A letter of the reading: from the frame at ``t0`` to the one at ``t1``, with its averaged probabilities."""

    letter: str
    t0: float
    t1: float
    top: tuple[tuple[str, float], ...] = ()

    @property
    def held(self) -> HeldLetter:
        return HeldLetter(self.letter, self.top)


@dataclass(frozen=True)
class _Moving:
    letter: str
    started: float
    t: float
    confidence: float
    starts_from: tuple[str, ...]


class _Columns:
    """The dynamic programme's columns, one row per frame boundary (0: before the word's first frame), grown
    as frames come. Per letter: ``cl`` the letter's evidence summed from the word's start; ``vl``, ``vb``, ``vbb``
    the best score of a path ending at the boundary in that letter, in a transition after it, in a transition
    with a bounce after it; ``q`` the best score of a path into a letter starting at the boundary, and how it
    came there (``qkind``, ``qptr``); the back pointers ``vlptr`` (where the letter started), ``bptr`` and
    ``bbptr`` (what a transition continued from). Per class: ``cp`` the probabilities summed over the frames
    with a hand (a letter's average over its frames in one subtraction). Per boundary: ``cn`` the frames with a
    hand so far, ``ct`` the time, ``vs`` a path that is one transition from the start."""

    FLOATS = ("cl", "q", "vl", "vb", "vbb")
    INTS = ("qptr", "qkind", "vlptr", "bptr", "bbptr")
    VECTORS = ("cn", "ct", "vs")
    cp: np.ndarray
    cl: np.ndarray
    q: np.ndarray
    vl: np.ndarray
    vb: np.ndarray
    vbb: np.ndarray
    qptr: np.ndarray
    qkind: np.ndarray
    vlptr: np.ndarray
    bptr: np.ndarray
    bbptr: np.ndarray
    cn: np.ndarray
    ct: np.ndarray
    vs: np.ndarray

    def __init__(self, k: int, classes: int, size: int = 64) -> None:
        self.n, self.size = 0, size
        self.cp = np.zeros((size, classes))
        for name in self.FLOATS:
            setattr(self, name, np.zeros((size, k)))
        for name in self.INTS:
            setattr(self, name, np.zeros((size, k), np.int32))
        for name in self.VECTORS:
            setattr(self, name, np.zeros(size))

    def grow(self) -> None:
        """Room for one more boundary."""
        if self.n < self.size:
            return
        self.size *= 2
        for name in ("cp", *self.FLOATS, *self.INTS, *self.VECTORS):
            old = getattr(self, name)
            new = np.zeros((self.size, *old.shape[1:]), old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)


# How the best path reaches the start of a letter segment (``qkind``): from the word's start, from the
# transition at its start, from another letter directly, from a transition after another letter, or from a
# transition with a bounce after the same letter (a double letter).
_START, _START_GAP, _LETTER, _GAP, _BOUNCE = range(5)


LEAD_IN_S = 0.6  # before a J or Z, the letter it starts from, ended this close to its start, is part of it


class SequenceReader:
    """The current word's letters from its frames. ``classes``: the model's classes (the still letters and "no
    letter"); ``language``: a spelling model over the still letters, or None for none."""

    def __init__(
        self,
        classes: tuple[str, ...] | list[str],
        settings: SequenceSettings = SequenceSettings(),
        language: CharBigram | None = None,
    ) -> None:
        self.classes = tuple(classes)
        self.settings = settings
        self._letter_idx = np.array([i for i, c in enumerate(self.classes) if c != NO_LETTER])
        self.letters = tuple(self.classes[i] for i in self._letter_idx)
        self._none = self.classes.index(NO_LETTER) if NO_LETTER in self.classes else None
        k = len(self.letters)
        if language is not None:
            if language.letters != "".join(self.letters):
                raise ValueError("the spelling model must be over the reader's letters")
            w = settings.lm_weight
            self._lm_next, self._lm_first = w * language.log_next, w * language.log_first
            self._lm_last = w * language.log_last
            self._lm_log_next: np.ndarray | None = language.log_next
        else:
            self._lm_log_next = None
            self._lm_next, self._lm_first, self._lm_last = np.zeros((k, k)), np.zeros(k), np.zeros(k)
        self._lm_other = self._lm_next.copy()
        np.fill_diagonal(self._lm_other, NEG)  # a letter after itself needs a bounce between
        self.reset()

    def reset(self) -> None:
        """Forget the word: the next frame starts a new one."""
        k = len(self.letters)
        self._cols = _Columns(k, len(self.classes))
        self._times: list[float] = []  # per frame: its time
        self._tops: list[int] = []  # per frame: the class on top, -1 without a hand
        self._bounces: list[bool] = []  # per frame: the hand moved a bounce's distance
        self._moving: list[_Moving] = []
        self._set_start_column()

    def _set_start_column(self) -> None:
        c = self._cols
        c.vl[0], c.vb[0], c.vbb[0] = NEG, NEG, NEG
        c.vs[0] = 0.0
        c.q[0] = self._lm_first  # a letter starting the word at its first frame
        c.qkind[0] = _START
        c.n = 1

    @property
    def empty(self) -> bool:
        return not self._times

    @property
    def full(self) -> bool:
        """The word holds as many frames as the reader keeps: end it."""
        return len(self._times) >= self.settings.max_frames

    def update(self, probs: np.ndarray | None, t: float, moved: float = 0.0) -> None:
        """One frame: the model's probabilities over ``classes`` (None when no hand was found), its time in
        seconds and how far the hand moved within the motion span, in hand sizes. Frames without a hand before
        the word's first hand are not kept."""
        if probs is None and self.empty:
            return
        s, c = self.settings, self._cols
        if self._times and t < self._times[-1]:  # time went back: a new source
            self.reset()
        dt = s.frame_s if not self._times else min(max(t - self._times[-1], 0.0), s.max_frame_s)
        weight = dt / s.frame_s
        bounce = probs is not None and moved >= s.min_bounce
        c.grow()
        j = c.n
        if probs is None:  # no evidence either way: a hand lost for a moment neither ends nor starts a letter
            letters, gap = np.zeros(len(self.letters)), 0.0
            c.cp[j], c.cn[j] = c.cp[j - 1], c.cn[j - 1]
            self._tops.append(-1)
        else:
            p = np.asarray(probs, dtype=np.float64)
            letters = np.log(np.maximum(p[self._letter_idx], 1e-4))
            none = float(p[self._none]) if self._none is not None else 0.0
            gap = float(np.log(max(none, s.moving_floor if bounce else s.transition_floor)))
            c.cp[j], c.cn[j] = c.cp[j - 1] + p, c.cn[j - 1] + 1
            self._tops.append(int(p.argmax()))
        self._times.append(t)
        self._bounces.append(bounce)
        c.cl[j] = c.cl[j - 1] + weight * letters
        c.ct[j] = c.ct[j - 1] + dt
        self._letter_column(j)
        self._gap_column(j, weight * gap, bounce)
        self._entry_column(j)
        c.n = j + 1

    def _letter_column(self, j: int) -> None:
        """Best paths whose last segment is a letter ending at boundary j: over every start i allowed."""
        s, c = self.settings, self._cols
        last = int(np.searchsorted(c.ct[:j], c.ct[j] - s.min_letter_s + 1e-9, side="right"))  # starts allowed
        if last == 0:
            c.vl[j] = NEG
            return
        window = c.q[:last] - c.cl[:last]
        best = window.argmax(axis=0)
        c.vl[j] = window[best, np.arange(window.shape[1])] + c.cl[j] - s.letter_cost
        c.vlptr[j] = best

    def _gap_column(self, j: int, gap: float, bounce: bool) -> None:
        """Best paths whose last segment is a transition ending at boundary j (its last frame is j - 1)."""
        c = self._cols
        cont, fresh = c.vb[j - 1], c.vl[j - 1]
        c.bptr[j] = fresh > cont
        c.vb[j] = np.maximum(cont, fresh) + gap
        if bounce:  # this frame bounced: a transition through it may lead to the same letter again
            c.bbptr[j] = np.where(fresh > cont, 2, 1)
            c.vbb[j] = np.maximum(cont, fresh) + gap
        else:
            c.bbptr[j] = 0
            c.vbb[j] = c.vbb[j - 1] + gap
        c.vs[j] = c.vs[j - 1] + gap

    def _entry_column(self, j: int) -> None:
        """The best way into a letter starting at boundary j, for each letter."""
        c = self._cols
        options = np.stack(
            [
                np.full(len(self.letters), NEG),  # the word's start: boundary 0 only
                c.vs[j] + self._lm_first,
                (c.vl[j][:, None] + self._lm_other).max(axis=0),
                (c.vb[j][:, None] + self._lm_other).max(axis=0),
                c.vbb[j] + np.diag(self._lm_next),
            ]
        )
        kind = options.argmax(axis=0)
        c.q[j] = options[kind, np.arange(len(self.letters))]
        c.qkind[j] = kind
        prev_l = (c.vl[j][:, None] + self._lm_other).argmax(axis=0)
        prev_b = (c.vb[j][:, None] + self._lm_other).argmax(axis=0)
        c.qptr[j] = np.where(kind == _LETTER, prev_l, np.where(kind == _GAP, prev_b, np.arange(len(self.letters))))

    def add_moving(
        self, letter: str, t: float, confidence: float, started: float, starts_from: tuple[str, ...]
    ) -> None:
        """A letter signed with a movement (J, Z) that began at ``started`` and was recognised at ``t``."""
        self._moving.append(_Moving(letter, started, t, confidence, tuple(starts_from)))

    def reading(self, final: bool = False) -> list[Segment]:
        """The likeliest letters of the word so far; ``final``: the word has ended (its last letter is weighed as
        a word's end)."""
        c = self._cols
        j = c.n - 1
        if j == 0:
            return self._with_moving([])
        end = self._lm_last if final else np.zeros(len(self.letters))
        ends = np.stack([c.vl[j] + end, c.vb[j] + end, c.vbb[j] + end])
        state, letter = np.unravel_index(int(ends.argmax()), ends.shape)
        if c.vs[j] >= ends.max():
            return self._with_moving([])
        segments: list[tuple[int, int, int]] = []  # (letter, first boundary, last boundary)
        kind, k = ("letter", "gap", "bounce")[state], int(letter)
        while j > 0:
            if kind == "letter":
                i = int(c.vlptr[j, k])
                segments.append((k, i, j))
                entry = int(c.qkind[i, k])
                if entry in (_START, _START_GAP):
                    break
                kind = {_LETTER: "letter", _GAP: "gap", _BOUNCE: "bounce"}[entry]
                k, j = int(c.qptr[i, k]), i
            elif kind == "gap":
                kind = "letter" if c.bptr[j, k] else "gap"
                j -= 1
            else:  # a transition after letter k with a bounce in it
                ptr = int(c.bbptr[j, k])
                kind = {0: "bounce", 1: "gap", 2: "letter"}[ptr]
                j -= 1
        split = [part for k, i, j in reversed(segments) for part in self._split_at_bounce(k, i, j)]
        kept = [g for n, g in enumerate(split) if n == 0 or g[0] != split[n - 1][0] or self._double(split[n - 1], g)]
        return self._with_moving([self._segment(k, i, j) for k, i, j in kept])

    def _double(self, first: tuple[int, int, int], second: tuple[int, int, int]) -> bool:
        """Whether the same letter read twice with a movement between (boundaries ``first`` then ``second``) is a
        double letter: one English doubles, the movement as short as a bounce, the letter settled after it. A
        hand rising into a letter, or dropping from it, passes through it too, with a longer movement."""
        s, c = self.settings, self._cols
        k, _, end = first
        _, start, stop = second
        return (
            self._doubles(k)
            and c.ct[start] - c.ct[end] <= s.max_bounce_s
            and self._settled_s(k, range(start, stop), until=c.ct[start] + REPEAT_WINDOW_S) >= s.min_letter_s
        )

    def _doubles(self, k: int) -> bool:
        """English doubles letter k (LL, EE, SS; not WW, HH, II); any letter without a spelling model."""
        return self._lm_log_next is None or bool(self._lm_log_next[k, k] >= np.log(MIN_DOUBLE))

    def _settled_s(self, k: int, frames: range, start: float = -np.inf, until: float = np.inf) -> float:
        """Time of those frames, starting from ``start`` and before ``until``, on which the hand is still and shows
        letter k."""
        c, index = self._cols, self._letter_idx[k]
        return sum(
            c.ct[f + 1] - c.ct[f]
            for f in frames
            if start <= c.ct[f] < until and not self._bounces[f] and self._tops[f] == index
        )

    def _split_at_bounce(self, k: int, i: int, j: int) -> list[tuple[int, int, int]]:
        """A letter whose frames (boundaries i to j) hold a bounce, short as a slide is (``max_bounce_s``), with
        the letter settled (on top, the hand still) for ``min_letter_s`` within ``REPEAT_WINDOW_S`` before and
        after it, is that letter twice: a slide that kept the handshape. Not for a letter English never doubles
        (WW, HH: a hand pausing as it rises)."""
        s, c = self.settings, self._cols
        if not self._doubles(k):
            return [(k, i, j)]
        for f in range(i, j):
            if not self._bounces[f] or (f > i and self._bounces[f - 1]):
                continue
            end = next((g for g in range(f, j) if not self._bounces[g]), j)
            if c.ct[end] - c.ct[f] > s.max_bounce_s:
                continue
            before = self._settled_s(k, range(i, f), start=c.ct[f] - REPEAT_WINDOW_S)
            after = self._settled_s(k, range(end, j), until=c.ct[end] + REPEAT_WINDOW_S)
            if before >= s.min_letter_s and after >= s.min_letter_s:
                return [(k, i, f), *self._split_at_bounce(k, end, j)]
        return [(k, i, j)]

    def _segment(self, k: int, i: int, j: int) -> Segment:
        c = self._cols
        top: tuple[tuple[str, float], ...] = ()
        if c.cn[j] > c.cn[i]:
            mean = (c.cp[j] - c.cp[i]) / (c.cn[j] - c.cn[i])
            top = tuple((self.classes[o], round(float(mean[o]), 4)) for o in np.argsort(-mean)[:TOP_CLASSES])
        return Segment(self.letters[k], self._times[i], self._times[j - 1], top)

    def _with_moving(self, segments: list[Segment]) -> list[Segment]:
        """Put each moving letter in, in place of the letters read while it was drawn and of the letter its
        movement started from just before; a letter it starts from read right after it (the J's end shape is an
        I) is its own end, not a letter."""
        for m in self._moving:
            before = [g for g in segments if g.t1 < m.started]
            while before and before[-1].t1 == before[-1].t0 and m.started - before[-1].t1 < LEAD_IN_S:
                before = before[:-1]  # one frame, at a page's 8 to 12 a second: the hand turning into the movement
            if before and before[-1].letter in m.starts_from and m.started - before[-1].t1 < LEAD_IN_S:
                before = before[:-1]
            after = [g for g in segments if g.t0 > m.t]
            if after and after[0].letter in m.starts_from:
                after = after[1:]
            segments = [*before, Segment(m.letter, m.started, m.t, ((m.letter, round(m.confidence, 4)),)), *after]
        return segments
