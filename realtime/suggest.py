"""Word suggestions: the dictionary words closest to a spelled word, as the recognizer's mistakes make them close.

The distance is Levenshtein's with two costs the recognizer's errors call for: swapping a letter for one of its
confusable group (``core.letters.CONFUSABLE_GROUPS``: an S read as an E) costs half, and so does a letter
doubled or undoubled (a bounce missed or seen twice). Ties go to the more frequent word. The words are
wordfreq's English list, by frequency, kept to those spelled only with the letters the model can commit.
"""

from __future__ import annotations

from collections import defaultdict

from core.letters import CONFUSABLE_GROUPS

HALF = 0.5
# Frequent words a learner's page should not hand out to practise.
NOT_FOR_PRACTICE = frozenset(
    {"SEX", "SEXY", "FUCK", "SHIT", "DAMN", "HELL", "ASS", "DICK", "PORN", "GAY", "KILL", "DEAD"}
)
_GROUP = {letter: i for i, group in enumerate(CONFUSABLE_GROUPS) for letter in group}


def substitution_cost(a: str, b: str) -> float:
    if a == b:
        return 0.0
    return HALF if a in _GROUP and _GROUP[a] == _GROUP.get(b) else 1.0


def distance(spelled: str, word: str, limit: float = float("inf")) -> float:
    """The weighted edit distance from ``spelled`` to ``word``; anything above ``limit`` may come back as inf."""
    prev = [0.0]
    for j in range(1, len(word) + 1):  # the first row: insert word[:j]
        prev.append(prev[-1] + (HALF if j > 1 and word[j - 1] == word[j - 2] else 1.0))
    for i in range(1, len(spelled) + 1):
        a = spelled[i - 1]
        drop = HALF if i > 1 and a == spelled[i - 2] else 1.0  # a doubled letter seen once too often
        row = [prev[0] + drop]
        for j in range(1, len(word) + 1):
            b = word[j - 1]
            add = HALF if j > 1 and b == word[j - 2] else 1.0  # a double letter seen once
            row.append(min(prev[j] + drop, row[j - 1] + add, prev[j - 1] + substitution_cost(a, b)))
        if min(row) > limit:
            return float("inf")
        prev = row
    return prev[-1]


TWO_LETTER_WORDS = set(
    "am an as at be by do go he hi if in is it me my no of oh ok on or so to up us we ah eh ha".split()
)


def english_words(size: int) -> list[str]:
    """wordfreq's ``size`` most frequent English words, less abbreviations, which are said letter by letter and,
    offered as words, crowded out real ones: any word with no vowel (MB, TB, CM, PM), and every word of one or two
    letters but the English ones (M, AB, CA, EB)."""
    from wordfreq import top_n_list

    def word(w: str) -> bool:
        if len(w) <= 2:
            return w in ("a", "i") or w in TWO_LETTER_WORDS
        return any(c in "aeiouy" for c in w)

    return [w for w in top_n_list("en", size) if word(w.lower())]


class Dictionary:
    """Words by frequency (most frequent first), upper case, of only the ``letters`` given."""

    def __init__(self, words: list[str], letters: str) -> None:
        allowed = set(letters)
        self._by_length: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for rank, word in enumerate(words):
            w = word.upper()
            if w.isascii() and w.isalpha() and set(w) <= allowed:
                self._by_length[len(w)].append((rank, w))

    @classmethod
    def english(cls, letters: str, size: int = 30_000) -> Dictionary:
        """The ``size`` most frequent English words (wordfreq's list: many sources, maintained)."""
        return cls(english_words(size), letters)

    def common(self, lengths: range, within: int) -> list[str]:
        """The words of ``lengths`` letters among the ``within`` most frequent, most frequent first (practice)."""
        found = [(rank, w) for n in lengths for rank, w in self._by_length.get(n, ()) if rank < within]
        return [w for _, w in sorted(found) if w not in NOT_FOR_PRACTICE]

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_length.values())

    def suggest(self, spelled: str, n: int = 3) -> list[str]:
        """Up to ``n`` words within an edit distance of a quarter of the word's length (at least 1), closest first,
        then most frequent; the word itself first when it is in the dictionary."""
        spelled = spelled.upper()
        limit = max(1.0, len(spelled) / 4)
        found: list[tuple[float, int, str]] = []
        for length in range(max(1, len(spelled) - int(limit)), len(spelled) + int(limit) + 1):
            for rank, word in self._by_length.get(length, ()):
                d = distance(spelled, word, limit)
                if d <= limit:
                    found.append((d, rank, word))
        return [w for _, _, w in sorted(found)[:n]]
