import numpy as np
import pytest

from realtime.smoothing import LetterSmoother, SmootherSettings

CLASSES = ("A", "B", "C", "none")
FPS = 30


def onehot(i, p=0.9):
    v = np.full(len(CLASSES), (1 - p) / (len(CLASSES) - 1))
    v[i] = p
    return v


def feed(smoother, seq, t0=0.0):
    """seq: probability vectors or None; returns (events, letter per frame)."""
    events, letters = [], []
    for k, probs in enumerate(seq):
        events += smoother.update(probs, t0 + k / FPS)
        letters.append(smoother.letter)
    return events, letters


def test_clean_hold_commits_once_quickly_and_releases_on_no_hand():
    sm = LetterSmoother(CLASSES)
    events, letters = feed(sm, [onehot(1)] * 30 + [None] * 30)
    kinds = [(e.kind, e.letter) for e in events]
    assert kinds == [("commit", "B"), ("release", "B"), ("no_hand", None)]
    assert events[0].t <= 0.2  # committed within 200 ms of a steady B
    assert letters[29] == "B" and letters[-1] is None


def test_noisy_hold_does_not_flicker():
    rng = np.random.default_rng(0)
    seq = []
    for _ in range(90):  # a B hold where every 4th frame is a confident wrong guess
        seq.append(onehot(2, 0.8) if rng.random() < 0.25 else onehot(1, rng.uniform(0.6, 0.95)))
    events, letters = feed(LetterSmoother(CLASSES), seq)
    assert [(e.kind, e.letter) for e in events] == [("commit", "B")]
    first = letters.index("B")
    assert all(l == "B" for l in letters[first:])


def test_short_dropout_keeps_letter_but_long_one_releases():
    sm = LetterSmoother(CLASSES)
    events, letters = feed(sm, [onehot(0)] * 20 + [None] * 3 + [onehot(0)] * 20)
    assert [e.kind for e in events] == ["commit"]
    assert letters[21] == "A"


def test_transition_between_letters_releases_then_commits_the_new_one():
    events, _ = feed(LetterSmoother(CLASSES), [onehot(0)] * 30 + [onehot(2)] * 30)
    assert [(e.kind, e.letter) for e in events] == [("commit", "A"), ("release", "A"), ("commit", "C")]


def test_no_letter_class_and_uncertain_frames_never_commit():
    seq = [onehot(3)] * 30 + [np.array([0.4, 0.3, 0.2, 0.1])] * 30
    events, letters = feed(LetterSmoother(CLASSES), seq)
    assert events == [] and set(letters) == {None}


def test_one_confident_glitch_is_not_committed():
    events, _ = feed(LetterSmoother(CLASSES), [onehot(3)] * 10 + [onehot(0, 0.99)] * 2 + [onehot(3)] * 10)
    assert events == []


def test_settings_are_validated():
    with pytest.raises(ValueError):
        SmootherSettings(enter=0.3, exit=0.5)


def test_a_moving_hand_commits_nothing_until_it_is_held_still():
    sm = LetterSmoother(CLASSES)
    events = []
    for k in range(30):  # a confident B on a hand sweeping through the frame
        events += sm.update(onehot(1), k / FPS, speed=3.0)
    assert events == []
    for k in range(30, 45):  # the hand stops: B commits after the usual hold
        events += sm.update(onehot(1), k / FPS, speed=0.5)
    assert [(e.kind, e.letter) for e in events] == [("commit", "B")]
    assert events[0].t - 30 / FPS <= 0.15
    with pytest.raises(ValueError):
        SmootherSettings(max_speed=0)
