"""Letters into words: the transcript a person reads, edits and hears.

Each committed letter joins the current word. A word ends when, for ``word_gap_s``, no letter is held: the hand
has left the view, or rests in it showing no letter. A double letter is the same letter committed again after
a bounce or slide of the held handshape (``LetterEvent.repeat``, see ``realtime.smoothing``); the same letter
committed again without one (the hand lost for a moment and found again) is not doubled. A J that takes back
the I it began as replaces that I in the word.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from realtime.smoothing import LetterEvent

WORD_GAP_S = 1.0  # README, "Words": between a signer's letters (0.7 s at most) and a pause (1.2 s)


@dataclass(frozen=True)
class WordEvent:
    """A word finished: the hand has shown no letter for the word gap, or the run ended."""

    t: float
    word: str


class Transcript:
    """The text spelled so far: finished words and the word being spelled. ``suggest`` (a word to its closest
    dictionary words, best first) is asked once per finished word, on a thread of its own: a search of the
    dictionary takes a tenth of a second or more, which the live loop should not wait for."""

    def __init__(self, word_gap_s: float = WORD_GAP_S, suggest: Callable[[str], list[str]] | None = None) -> None:
        self.word_gap_s = word_gap_s
        self.suggest = suggest
        self.words: list[str] = []
        self.current = ""
        self._suggestions: Future[list[str]] | None = None  # for the last finished word
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="suggest") if suggest else None
        self._idle_since: float | None = None

    @property
    def suggestions(self) -> list[str]:
        """Dictionary words for the last finished word, best first; empty until they are found."""
        future = self._suggestions
        return future.result() if future is not None and future.done() else []

    def wait_for_suggestions(self) -> list[str]:
        return self._suggestions.result() if self._suggestions is not None else []

    @property
    def text(self) -> str:
        """The words, finished and current, separated by single spaces."""
        return " ".join([*self.words, self.current] if self.current else self.words)

    def update(self, events: list[LetterEvent], t: float, holding: bool) -> list[WordEvent]:
        """Feed one frame's letter events; ``holding``: the hand shows a committed letter now."""
        for e in events:
            if e.kind != "commit" or e.letter is None:
                continue
            if e.replaces and self.current.endswith(e.replaces):
                self.current = self.current[: -len(e.replaces)] + e.letter
            elif e.repeat or not self.current.endswith(e.letter):
                self.current += e.letter
        if holding or any(e.kind == "commit" for e in events):
            self._idle_since = None
            return []
        self._idle_since = t if self._idle_since is None else self._idle_since
        if self.current and t - self._idle_since >= self.word_gap_s:
            return [self.end_word(t)]
        return []

    def end_word(self, t: float) -> WordEvent:
        """Finish the current word now (the gap has passed, or the run ends)."""
        word, self.current = self.current, ""
        self.words.append(word)
        if self.suggest is not None and self._pool is not None:
            suggest = self.suggest
            self._suggestions = self._pool.submit(lambda: [s for s in suggest(word) if s != word])
        return WordEvent(t, word)

    def delete_last(self) -> None:
        """Take back the last letter (of the last finished word, when none is being spelled)."""
        if not self.current and self.words:
            self.current = self.words.pop()
            self._suggestions = None
        self.current = self.current[:-1]

    def clear(self) -> None:
        self.words, self.current, self._suggestions = [], "", None

    def accept(self) -> str | None:
        """Replace the last finished word with the first suggestion for it; the word put in, if any."""
        if not self.suggestions or not self.words:
            return None
        self.words[-1] = self.suggestions[0]
        self._suggestions = None
        return self.words[-1]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
