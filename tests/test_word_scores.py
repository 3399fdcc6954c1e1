"""The word test's scores (train/word_test.py): letters and words right, what the dictionary fixed and broke,
names kept as spelled."""

from __future__ import annotations

import random

from train.word_test import NAMES, corrections, names, score


def test_letters_and_words_are_scored_by_edit_distance_and_words_in_order():
    assert score(["CAB", "FACE"], ["CAB", "FACE"]) == {"letters": 7, "letters_right": 7, "words": 2, "words_right": 2}
    got = score(["CAB", "FACE"], ["CA", "FADE", "X"])
    assert got["letters_right"] == 7 - 3 and got["words_right"] == 0


def test_the_dictionary_is_credited_with_fixes_and_charged_with_false_corrections_and_names():
    spelled = ["WHALE", "HORSE", "GOWER"]
    got = corrections(spelled, raw=["WHALE", "HORCE", "GOWER"], decoded=["WHALES", "HORSE", "GOWER"])
    assert got == {"false_corrections": 1, "fixes": 1, "names": 1, "names_read": 1, "names_kept": 1}
    assert corrections(spelled, ["WHALE", "HORSE", "GOWER"], ["WHALE", "HORSE", "POWER"])["names_kept"] == 0


def test_names_are_spelled_with_the_letters_a_session_has():
    got = names(set("ABCDEGHIKLMNOPQRSUVWXY"), random.Random(0), 3)  # no T: BEATRIX cannot be spelled
    assert len(got) == 3 and all(n in NAMES and "T" not in n for n in got)
    assert names(set("ABC"), random.Random(0), 2) == []
