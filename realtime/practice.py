"""Practice mode: the learner is shown a word, signs it, and sees each letter marked right or missed.

A letter signed wrong marks its place missed and says what to change (``core.letters.difference``); the learner
signs it again until it is right, and the score counts the letters right the first time. A J that takes back
the I it began as takes back that I's mark too. As in the transcript, the same letter committed again needs a
bounce to count twice (the LL of HELLO); a letter held still counts once.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.errors import UsageError
from core.letters import difference

if TYPE_CHECKING:
    from realtime.pipeline import FrameResult

log = logging.getLogger(__name__)
PENDING, RIGHT, MISSED = "pending", "right", "missed"


def practice_words(text: str, known: str) -> list[str]:
    """``WORD[,WORD...]`` as upper-case words; a one-line error for an empty word or a letter the model lacks."""
    words = [w.strip().upper() for w in text.split(",")]
    for w in words:
        if not w.isascii() or not w.isalpha():
            raise UsageError(f"--practice: {w!r} is not a word of letters A-Z (give WORD[,WORD...])")
        unknown = sorted(set(w) - set(known))
        if unknown:
            raise UsageError(
                f"--practice: {w} has letters this model does not know ({''.join(unknown)}); it knows {known}"
                " (the alphabet model knows more: --model model/weights/asl_alphabet.pt)"
            )
    return words


@dataclass
class State:
    word: int = 0  # index of the word being practised
    position: int = 0  # index of the letter expected next in it
    marks: list[list[str]] = field(default_factory=list)  # per word, per letter
    last: str | None = None  # the letter counted last in this word
    hint: str = ""  # what the expected handshape looks like, after a miss

    def copy(self) -> State:
        return State(self.word, self.position, [list(m) for m in self.marks], self.last, self.hint)


class Practice:
    """A sink: follows the committed letters through the words; the overlay draws :meth:`state`."""

    def __init__(self, words: list[str]) -> None:
        self.words = words
        self.state = State(marks=[[PENDING] * len(w) for w in words])
        self._before_last: State | None = None  # to take back a letter a J or Z replaces
        self.taken_for: Counter[tuple[str, str]] = Counter()  # (letter expected, letter read) of each miss

    @property
    def done(self) -> bool:
        return self.state.word >= len(self.words)

    @property
    def expected(self) -> str | None:
        return None if self.done else self.words[self.state.word][self.state.position]

    def write(self, result: FrameResult) -> None:
        for e in result.events:
            if e.kind != "commit" or e.letter is None or self.done:
                continue
            if e.replaces and self._before_last is not None:
                self.state = self._before_last
            elif e.letter == self.state.last and not e.repeat:
                continue  # the same letter found again after a dropout, not signed twice
            self._before_last = self.state.copy()
            self._count(e.letter)

    def _count(self, letter: str) -> None:
        s, expected = self.state, self.expected
        assert expected is not None
        marks = s.marks[s.word]
        s.last = letter
        if letter != expected:
            self.taken_for[expected, letter] += 1
            marks[s.position] = MISSED
            s.hint = difference(expected, letter)
            return
        if marks[s.position] == PENDING:
            marks[s.position] = RIGHT
        s.hint = ""
        s.position += 1
        if s.position == len(self.words[s.word]):
            log.info("practice: %s done, %s", self.words[s.word], self._score(s.marks[s.word]))
            s.word, s.position, s.last = s.word + 1, 0, None

    @staticmethod
    def _score(marks: list[str]) -> str:
        right = marks.count(RIGHT)
        return f"{right} of {len(marks)} letters right first time"

    def summary(self) -> str:
        """One line: the score over the words finished and the letters of any left unfinished."""
        marks = [m for ms in self.state.marks for m in ms]
        right, total = marks.count(RIGHT), len(marks)
        left = "" if self.done else f" ({len(self.words) - self.state.word} word(s) not finished)"
        line = f"practice: {right} of {total} letters right first time ({right / max(total, 1):.0%}){left}"
        letters = self.letters_to_calibrate()
        if letters:
            misses = ", ".join(f"{want} read as {got}" for (want, got), _ in self.taken_for.most_common(3))
            line += f"\ncalibrate these first ({misses}): python calibrate.py --camera 0 --letters {letters}"
        return line

    def letters_to_calibrate(self) -> str:
        """The three letters missed most, each with the letter it was most often taken for: shots of that one
        too keep the calibrated letter from taking this person's own hands of it (docs/RESULTS.md)."""
        missed = Counter[str]()
        for (want, _), n in self.taken_for.items():
            missed[want] += n
        chosen: list[str] = []
        for want, _ in missed.most_common(3):
            taken = max((k for k in self.taken_for if k[0] == want), key=lambda k: self.taken_for[k])[1]
            chosen += [c for c in (want, taken) if c not in chosen and c not in "JZ"]
        return "".join(chosen)

    def close(self) -> None:
        pass
