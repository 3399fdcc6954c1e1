"""A character bigram model of English spelling: how likely each letter is after the one before it.

The sequence reader (``realtime.sequence``) weighs the frames' evidence for each next letter with it, the way a
handwriting recogniser weighs its strokes with the spelling of the language: after a Q a U is likely, after an
H an N is not. It is learnt from word *types* (each of wordfreq's most frequent words counted once, whatever its
frequency), so that it knows how English words are spelled rather than how often THE is; names and rare words
follow the same spelling. Add-one smoothing keeps every pair possible: a name with an odd pair stays readable.
"""

from __future__ import annotations

import numpy as np

WORDS = 50_000  # wordfreq's most frequent English words the model learns from


class CharBigram:
    """Log probabilities over ``letters``: ``log_next[a, b]`` of b after a, ``log_first[b]`` of b starting a
    word, ``log_last[a]`` of a word ending after a. Pairs across a letter outside ``letters`` are not counted."""

    def __init__(self, words: list[str], letters: str) -> None:
        self.letters = letters
        index = {c: i for i, c in enumerate(letters)}
        n = len(letters)
        pairs, first, last = np.ones((n, n)), np.ones(n), np.ones(n)
        for word in words:
            codes = [index.get(c) for c in word.upper()]
            if codes and codes[0] is not None:
                first[codes[0]] += 1
            if codes and codes[-1] is not None:
                last[codes[-1]] += 1
            for a, b in zip(codes, codes[1:]):
                if a is not None and b is not None:
                    pairs[a, b] += 1
        ends = pairs.sum(axis=1) + last  # what follows a letter: another letter, or the word's end
        self.log_next = np.log(pairs / ends[:, None])
        self.log_last = np.log(last / ends)
        self.log_first = np.log(first / first.sum())

    @classmethod
    def english(cls, letters: str, size: int = WORDS) -> CharBigram:
        from wordfreq import top_n_list

        return cls([w for w in top_n_list("en", size) if w.isascii() and w.isalpha()], letters)
