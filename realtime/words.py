"""Frames into words: the transcript a person reads, edits and hears.

The letters of the word being spelled are read from every frame at once (``realtime.sequence.SequenceReader``):
the reading is provisional and may change with every frame while the word is spelled (a letter becomes clearer,
a flicker turns out to be a transition), and is settled when the word ends. A word ends when, for
``word_gap_s``, the hand shows no letter: it has left the view, or rests in it showing none. A finished word
is decoded with the dictionary (``realtime.decode``); the letters as read stay beside it, and
:meth:`Transcript.undo_correction` puts them back. So the settled text never changes but for an edit, and
what changes while spelling is the current word alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from realtime.decode import Decoded, HeldLetter
from realtime.sequence import Segment, SequenceReader

WORD_GAP_S = 1.0  # README, "Words": between a signer's letters (0.7 s at most) and a pause (1.2 s)


@dataclass(frozen=True)
class WordEvent:
    """A word finished: the hand has shown no letter for the word gap, or the run ended. ``word`` is what the
    transcript shows (the dictionary's word when decoding corrected the letters), ``letters`` what was read."""

    t: float
    word: str
    letters: str = ""
    onsets: tuple[float, ...] = ()  # when each letter read began (its first frame); NaN for one an edit kept

    @property
    def corrected(self) -> bool:
        return bool(self.letters) and self.letters != self.word


class Transcript:
    """The text spelled so far: finished words and the word being spelled, read by ``reader``. ``decode`` (held
    letters to a ``Decoded``: ``realtime.decode.WordDecoder.decode``) chooses each finished word; without it a
    word is its letters. ``suggest`` (a word to its closest dictionary words, best first) is asked once per
    finished word, on a thread of its own: a search of the dictionary takes a tenth of a second or more, which
    the live loop should not wait for."""

    def __init__(
        self,
        reader: SequenceReader,
        word_gap_s: float = WORD_GAP_S,
        suggest: Callable[[str], list[str]] | None = None,
        decode: Callable[[list[HeldLetter]], Decoded] | None = None,
    ) -> None:
        self.reader = reader
        self.word_gap_s = word_gap_s
        self.suggest = suggest
        self.decode = decode
        self.words: list[str] = []  # finished words as shown
        self.read: list[str] = []  # the same words' letters as read
        self._fixed: list[HeldLetter] = []  # letters of the current word an edit fixed, before the reader's
        self._reading: list[Segment] = []  # the reader's letters of the current word, provisional
        self._suggestions: Future[list[str]] | None = None  # for the last finished word
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="suggest") if suggest else None
        self._idle_since: float | None = None
        self._final: WordEvent | None = None

    @property
    def held(self) -> list[HeldLetter]:
        """The word being spelled, a letter each with the model's probabilities over its frames."""
        return [*self._fixed, *(g.held for g in self._reading)]

    @property
    def current(self) -> str:
        """The letters of the word being spelled."""
        return "".join(h.letter for h in self.held)

    @property
    def suggestions(self) -> list[str]:
        """Dictionary words for the last finished word, best first, the word itself first when it is one (so
        accepting the first never breaks a right word); empty until they are found, and while the next word is
        being spelled (they would no longer be about the word beside the hand)."""
        future = self._suggestions
        if self.held or future is None or not future.done():
            return []
        return future.result()

    @property
    def suggestions_for(self) -> str | None:
        """The word the suggestions are for: the last finished word, while there are suggestions."""
        return self.words[-1] if self.words and self.suggestions else None

    def wait_for_suggestions(self) -> list[str]:
        return self._suggestions.result() if self._suggestions is not None else []

    @property
    def text(self) -> str:
        """The words, finished and current, separated by single spaces."""
        current = self.current
        return " ".join([*self.words, current] if current else self.words)

    @property
    def correction(self) -> tuple[str, str] | None:
        """(letters read, word shown) when the last finished word was corrected by the dictionary."""
        if self.words and self.read and self.words[-1] != self.read[-1]:
            return self.read[-1], self.words[-1]
        return None

    def update(self, probs: np.ndarray | None, t: float, moved: float, showing: bool) -> list[WordEvent]:
        """Feed one frame: the model's probabilities (None without a hand), its time, how far the hand moved
        within the motion span (hand sizes), and whether the hand shows a letter (found, with a letter on top)."""
        self.reader.update(probs, t, moved)
        self._reading = self.reader.reading()
        if showing:
            self._idle_since = None
        elif self._idle_since is None:
            self._idle_since = t
        idle = self._idle_since is not None and t - self._idle_since >= self.word_gap_s
        if not (idle or self.reader.full):  # a word held for a minute ends too: the reader keeps no more
            return []
        if self.held:
            return [self.end_word(t)]
        self.reader.reset()  # a resting hand read as no letter: nothing to keep
        return []

    def add_moving(
        self, letter: str, t: float, confidence: float, started: float, starts_from: tuple[str, ...]
    ) -> None:
        """A letter recognised from a movement (``realtime.motion``): J or Z, in place of the letter it began as;
        in the reading from the frame's :meth:`update` on."""
        self.reader.add_moving(letter, t, confidence, started, starts_from)

    def end_word(self, t: float) -> WordEvent:
        """Finish the current word now (the gap has passed, or the run ends)."""
        reading = self.reader.reading(final=True)
        held = [*self._fixed, *(g.held for g in reading)]
        onsets = (*(math.nan for _ in self._fixed), *(g.t0 for g in reading))
        self._forget_reading()
        letters = "".join(h.letter for h in held)
        word = self.decode(held).word if self.decode is not None and held else letters
        self.words.append(word)
        self.read.append(letters)
        if self.suggest is not None and self._pool is not None:
            suggest = self.suggest
            self._suggestions = self._pool.submit(suggest, word)
        return WordEvent(t, word, letters, onsets)

    def _forget_reading(self) -> None:
        self.reader.reset()
        self._fixed, self._reading = [], []

    def finish(self, t: float) -> WordEvent | None:
        """At the end of a run: finish the word being spelled, if any. Every caller (each output closing) gets
        the same word event, so the files agree on the last word."""
        if self.held:
            self._final = self.end_word(t)
        return self._final

    def undo_correction(self) -> str | None:
        """Put the letters as read back in place of the dictionary's word for the last finished word; the letters
        put back, if it had been corrected."""
        correction = self.correction
        if correction is None:
            return None
        self.words[-1] = correction[0]
        self._suggestions = None
        return correction[0]

    def delete_last(self) -> None:
        """Take back the last letter (of the last finished word, when none is being spelled)."""
        held = self.held
        self._forget_reading()
        if not held and self.words:
            word = self.words.pop()
            self.read.pop()
            held = [HeldLetter(c) for c in word]
            self._suggestions = None
        self._fixed = held[:-1]

    def restore(self, text: str) -> bool:
        """Start an empty transcript from ``text`` (words of letters A-Z, as a page kept it across a lost
        connection); False, and nothing changed, when it has text already or ``text`` is not such words."""
        words = text.upper().split()
        if self.words or self.held or not all(w.isascii() and w.isalpha() for w in words):
            return False
        self.words, self.read = words, list(words)
        return True

    def clear(self) -> None:
        self._forget_reading()
        self.words, self.read, self._suggestions = [], [], None

    def accept(self, word: str | None = None) -> str | None:
        """Replace the last finished word with ``word``, one of its suggestions (the first when None: Tab); the
        word put in, if any. The letters as read are kept: :meth:`undo_correction` puts them back."""
        options = self.suggestions
        choice = options[0] if options and word is None else (word or "").upper()
        if choice not in options or not self.words:
            return None
        self.words[-1] = choice
        self._suggestions = None
        return choice

    def close(self) -> None:
        """Stop looking for suggestions; words finished after this (the run's last) get none."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
