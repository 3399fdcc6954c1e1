"""Words decoded with the dictionary: the likeliest word given what the model thought of each held letter.

A spelled word is a row of held letters, each with the probabilities the model averaged over its hold
(``LetterEvent.top``). The decoder scores every dictionary word of the same length as the letters read, one
letter longer or one shorter, by a noisy channel: the word's frequency (wordfreq) times the chance the holds
show it. A hold shows letter c with the probability the model gave c there; a letter it did not rank gets a
small floor, 2.5 times larger inside the read letter's confusable group (``core.letters.CONFUSABLE_GROUPS``:
an N read as M is a common mistake, a B read as M is not). One letter missed (never committed) or one too
many (a passing shape committed) is allowed at a price; a double letter's
second half missed is cheaper (the bounce forgotten), a letter read twice is not (a held hand never doubles a
letter without a bounce). A letter read surely (``sure``) is kept as read: only a letter missed beside it can
be put in, so names spelled with sure letters stay.

The letters as read are scored the same way, with the word's frequency when they are a word and otherwise a
prior for strings outside the dictionary (names, rare words) that falls with their length. The best word
replaces them only when it is ``margin`` (natural log) more likely: a name spelled with sure letters stays as
spelled. Letters that are a dictionary word themselves need ``word_margin``: a word read as a word is rarely
a misreading, while a frequent neighbour (MODE read, MORE proposed; WARS and WAS) is often likelier by its
frequency alone. Scores are vectorised over all words of a length at once, a millisecond or so a word.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.letters import ALL_LETTERS, CONFUSABLE_GROUPS

_INDEX = {c: i for i, c in enumerate(ALL_LETTERS)}
VOWELS = set("AEIOUY")  # a "word" without one is an abbreviation (DR, ST, MR): never proposed
_GROUP_MATES = np.array([[any(a in g and b in g for g in CONFUSABLE_GROUPS) for b in ALL_LETTERS] for a in ALL_LETTERS])


@dataclass(frozen=True)
class DecoderSettings:
    floor: float = 0.002  # the probability of a letter the model did not rank at a hold
    group_floor: float = 0.005  # the same, for a letter in the read letter's confusable group
    missed: float = 0.05  # the chance a letter of the word was never committed
    extra: float = 0.05  # the chance a committed letter is not in the word
    double: float = 0.3  # the chance a double letter's second half was never committed (the bounce missed)
    unknown: float = 1e-5  # the prior of a string outside the dictionary, times e^(-letter_nats * length)
    letter_nats: float = 1.5  # what each letter of such a string costs: names are not random strings
    margin: float = 1.5  # how much likelier (natural log) a word must be than the letters as read
    word_margin: float = 4.0  # the same when the letters as read are a dictionary word themselves
    prior_weight: float = 1.0  # the power of the frequency prior against the holds' evidence
    sure: float = 0.9  # a hold whose letter has this much is kept: never swapped for another, never dropped


@dataclass(frozen=True)
class HeldLetter:
    """A committed letter and the model's averaged probabilities over its hold, best first."""

    letter: str
    top: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Decoded:
    letters: str  # as read, one per held letter
    word: str  # what the transcript shows: a dictionary word, or the letters
    gain: float = 0.0  # how much likelier (natural log) the word is than the letters; 0 when they are the same

    @property
    def corrected(self) -> bool:
        return self.word != self.letters


class WordDecoder:
    """Dictionary words (upper case, only of ``letters``) with their frequencies."""

    def __init__(self, words: list[str], frequencies: list[float], letters: str, settings: DecoderSettings) -> None:
        self.settings = settings
        allowed = set(letters)
        by_length: dict[int, list[tuple[str, float]]] = {}
        for word, freq in zip(words, frequencies):
            w = word.upper()
            if w.isascii() and w.isalpha() and set(w) <= allowed and set(w) & VOWELS and freq > 0:
                by_length.setdefault(len(w), []).append((w, freq))
        self._words = {n: [w for w, _ in ws] for n, ws in by_length.items()}
        self._codes = {
            n: np.array([[_INDEX[c] for c in w] for w, _ in ws], dtype=np.int64) for n, ws in by_length.items()
        }
        self._prior = {n: settings.prior_weight * np.log([f for _, f in ws]) for n, ws in by_length.items()}
        self._known = {w: math.log(f) for ws in by_length.values() for w, f in ws}

    @classmethod
    def english(cls, letters: str, size: int = 30_000, settings: DecoderSettings = DecoderSettings()) -> WordDecoder:
        """wordfreq's ``size`` most frequent English words, with their frequencies."""
        from wordfreq import top_n_list, word_frequency

        words = top_n_list("en", size)
        return cls(words, [word_frequency(w, "en") for w in words], letters, settings)

    def __len__(self) -> int:
        return len(self._known)

    def prior(self, word: str) -> float:
        """Log prior of a string: its frequency when a dictionary word, else the prior of an unknown string."""
        s = self.settings
        return s.prior_weight * self._known.get(word, math.log(s.unknown) - s.letter_nats * len(word))

    def emissions(self, held: list[HeldLetter]) -> np.ndarray:
        """(holds, 26) log probabilities that each hold shows each letter."""
        s = self.settings
        e = np.empty((len(held), len(ALL_LETTERS)))
        for i, h in enumerate(held):
            read = _INDEX.get(h.letter)
            floor = np.where(_GROUP_MATES[read], s.group_floor, s.floor) if read is not None else np.full(26, s.floor)
            p = floor.copy()
            ranked = {c: q for c, q in h.top if c in _INDEX}
            total = sum(ranked.values())
            if not ranked and read is not None:
                ranked, total = {h.letter: 1.0}, 1.0
            for c, q in ranked.items():
                p[_INDEX[c]] = max(q / total, p[_INDEX[c]])
            if read is not None and p[read] >= s.sure:
                p = np.where(np.arange(len(p)) == read, p, 0.0)
            with np.errstate(divide="ignore"):
                e[i] = np.log(p)
        return e

    def decode(self, held: list[HeldLetter]) -> Decoded:
        letters = "".join(h.letter for h in held)
        if len(held) < 2:  # a letter alone is an initial or a letter named: too little to correct
            return Decoded(letters, letters)
        e = self.emissions(held)
        read_score = self.prior(letters) + self._emitted(e, letters)
        best, best_score = letters, -math.inf
        for word, score in self._candidates(e):
            if score > best_score and math.isfinite(score):
                best, best_score = word, score
        gain = best_score - read_score
        margin = self.settings.word_margin if letters in self._known else self.settings.margin
        if best != letters and gain >= margin:
            return Decoded(letters, best, round(gain, 3))
        return Decoded(letters, letters)

    def _emitted(self, e: np.ndarray, word: str) -> float:
        return float(sum(e[i, _INDEX[c]] for i, c in enumerate(word))) if all(c in _INDEX for c in word) else -math.inf

    def _candidates(self, e: np.ndarray) -> list[tuple[str, float]]:
        """The best word of each length within one edit (n - 1, n, n + 1 letters), with its score."""
        n, s = len(e), self.settings
        found = []
        rows = np.arange(n)
        if n in self._codes:  # each hold shows one letter of the word
            codes = self._codes[n]
            found.append((n, self._prior[n] + e[rows, codes].sum(axis=1)))
        if n + 1 in self._codes:  # one letter of the word never committed: the holds skip position k
            codes = self._codes[n + 1]
            before = np.cumsum(np.hstack([np.zeros((len(codes), 1)), e[rows, codes[:, :n]]]), axis=1)  # k letters
            after = np.cumsum(np.hstack([np.zeros((len(codes), 1)), e[rows, codes[:, 1:]][:, ::-1]]), axis=1)[:, ::-1]
            doubled = np.zeros((len(codes), n + 1), dtype=bool)
            doubled[:, 1:] |= codes[:, 1:] == codes[:, :-1]
            doubled[:, :-1] |= codes[:, :-1] == codes[:, 1:]
            miss = np.where(doubled, math.log(s.double), math.log(s.missed))
            found.append((n + 1, self._prior[n + 1] + (before + after + miss).max(axis=1)))
        if n >= 2 and n - 1 in self._codes:  # one hold too many: hold k is no letter of the word
            codes = self._codes[n - 1]
            kept = e[rows[:-1], codes]  # holds 0..n-2 show letters 0..n-2
            shifted = e[rows[1:], codes]  # holds 1..n-1 show letters 0..n-2
            before = np.cumsum(np.hstack([np.zeros((len(codes), 1)), kept]), axis=1)
            after = np.cumsum(np.hstack([np.zeros((len(codes), 1)), shifted[:, ::-1]]), axis=1)[:, ::-1]
            sure = e.max(axis=1) >= math.log(s.sure)
            extra = np.where(sure, -math.inf, math.log(s.extra))  # which hold may be the one too many
            found.append((n - 1, self._prior[n - 1] + (before + after + extra).max(axis=1)))
        out = []
        for length, scores in found:
            k = int(scores.argmax())
            out.append((self._words[length][k], float(scores[k])))
        return out
