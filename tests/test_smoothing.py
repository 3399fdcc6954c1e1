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
    unsure = [np.array([0.3, 0.25, 0.2, 0.25])] * 30  # A on top, but under steady_enter
    flicker = [onehot(0, 0.5), onehot(1, 0.5), onehot(2, 0.5)] * 10  # no letter stays on top
    seq = [onehot(3)] * 30 + unsure + [onehot(3, 0.5)] * 30 + flicker
    events, letters = feed(LetterSmoother(CLASSES, SmootherSettings(window_s=0.0)), seq)
    assert events == [] and set(letters) == {None}


def test_an_unsure_letter_held_steady_commits_after_a_longer_hold():
    """An M read at 0.5-0.6 with N second is still an M held on purpose."""
    settings = SmootherSettings()
    seq = [np.array([0.55, 0.3, 0.05, 0.1])] * 30
    events, _ = feed(LetterSmoother(CLASSES, settings), seq)
    assert [(e.kind, e.letter) for e in events] == [("commit", "A")]
    assert settings.steady_hold_s <= events[0].t <= settings.steady_hold_s + 2 / FPS
    assert events[0].top[:2] == (("A", 0.55), ("B", 0.3))  # what the model thought over the hold


def test_the_release_carries_the_whole_holds_probabilities():
    seq = [onehot(1)] * 10 + [onehot(1, 0.6)] * 20 + [None] * 15
    events, _ = feed(LetterSmoother(CLASSES), seq)
    commit, release = events[0], events[1]
    assert commit.top[0][0] == release.top[0][0] == "B"
    assert commit.top[0][1] > release.top[0][1]


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
        events += sm.update(onehot(1), k / FPS, moved=0.6)
    assert events == []
    for k in range(30, 45):  # the hand stops: B commits after the usual hold
        events += sm.update(onehot(1), k / FPS, moved=0.1)
    assert [(e.kind, e.letter) for e in events] == [("commit", "B")]
    assert events[0].t - 30 / FPS <= 0.15
    with pytest.raises(ValueError):
        SmootherSettings(max_speed=0)
    with pytest.raises(ValueError):
        SmootherSettings(steady_enter=0.8)


def feed_moving(smoother, frames, t0=0.0):
    """frames: (probabilities or None, hand sizes moved within the motion span); returns the events."""
    events = []
    for k, (probs, moved) in enumerate(frames):
        events += smoother.update(probs, t0 + k / FPS, moved)
    return events


def commits(events):
    return [(e.letter, e.repeat) for e in events if e.kind == "commit"]


def still(i, n, moved=0.03):
    return [(onehot(i), moved)] * n


def test_a_letter_held_still_commits_once_however_long_and_however_it_jitters():
    rng = np.random.default_rng(1)
    jitter = [(onehot(0), float(s)) for s in rng.choice([0.02, 0.08, 0.15, 0.25], size=300, p=[0.6, 0.3, 0.08, 0.02])]
    assert commits(feed_moving(LetterSmoother(CLASSES), jitter)) == [("A", False)]


@pytest.mark.parametrize("moved, frames", [(0.5, 4), (0.9, 2), (0.35, 8)])
def test_a_bounce_or_slide_of_the_held_letter_commits_it_again(moved, frames):
    """A movement that covers 0.3 hand sizes or more within the motion span, then the same letter still."""
    sm = LetterSmoother(CLASSES)
    events = feed_moving(sm, still(1, 20) + [(onehot(1), moved)] * frames + still(1, 20))
    assert commits(events) == [("B", False), ("B", True)]


def test_a_bounce_whose_letter_fades_during_the_movement_still_counts():
    sm = LetterSmoother(CLASSES)
    moving = [(onehot(3, 0.6), 0.6)] * 4 + still(3, 12)  # blurred into "none" and released on the way
    assert commits(feed_moving(sm, still(0, 20) + moving + still(0, 20))) == [("A", False), ("A", True)]


def test_short_fast_twitches_do_not_make_a_double_letter():
    twitch = [(onehot(2), 0.2)] + still(2, 5)  # tremor: 0.2 hand sizes within the span, ten times
    assert commits(feed_moving(LetterSmoother(CLASSES), still(2, 20) + twitch * 10)) == [("C", False)]


def test_a_dropout_during_a_hold_is_no_double_letter():
    sm = LetterSmoother(CLASSES)
    events = feed_moving(sm, still(1, 20) + [(None, 0.0)] * 20 + still(1, 20))
    assert commits(events) == [("B", False), ("B", False)]  # the same letter again, but no repeat: not doubled


def test_a_movement_into_another_letter_is_a_new_letter_not_a_repeat():
    sm = LetterSmoother(CLASSES)
    events = feed_moving(sm, still(0, 20) + [(onehot(0), 0.6)] * 4 + still(2, 20) + still(0, 20))
    assert commits(events) == [("A", False), ("C", False), ("A", False)]
