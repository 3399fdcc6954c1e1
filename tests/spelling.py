"""Synthetic spelling for the word tests: a few classes, frames of probabilities, a transcript reading them."""

from __future__ import annotations

import numpy as np

from realtime.sequence import SequenceReader
from realtime.words import Transcript

FPS = 30
CLASSES = ("A", "B", "C", "E", "H", "I", "L", "N", "O", "R", "G", "none")


def probs(letter: str, p: float = 0.9) -> np.ndarray:
    v = np.full(len(CLASSES), (1 - p) / (len(CLASSES) - 1))
    v[CLASSES.index(letter)] = p
    return v


def transcript(**kwargs) -> Transcript:
    return Transcript(SequenceReader(CLASSES), **kwargs)


def show(t: Transcript, start: float, letters: str, seconds: float = 0.3, p: float = 0.9) -> float:
    """Sign ``letters`` from ``start``, each held ``seconds`` (a still hand); the time after the last."""
    k = 0
    for letter in letters:
        for _ in range(round(seconds * FPS)):
            t.update(probs(letter, p), start + k / FPS, 0.0, showing=letter != "none")
            k += 1
    return start + k / FPS


def away(t: Transcript, start: float, seconds: float) -> tuple[float, list[str]]:
    """The hand out of view for ``seconds``; the time after, and the words finished meanwhile."""
    words, n = [], round(seconds * FPS)
    for k in range(n):
        words += [w.word for w in t.update(None, start + k / FPS, 0.0, showing=False)]
    return start + n / FPS, words
