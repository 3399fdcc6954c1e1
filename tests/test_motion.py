"""J and Z from the hand's track (realtime/motion.py), on synthetic landmark tracks: speeds, sizes, left and right
hands, noise; and how the smoother takes a moving letter in. The signademy J clip is in test_replay.py."""

from __future__ import annotations

import numpy as np
import pytest

from core.letters import NO_LETTER
from realtime.motion import LITTLE, MotionRecognizer, straightness
from realtime.smoothing import LetterSmoother
from tests.synthetic import fingertip_track, hand_landmarks

I_SHAPE = {LITTLE}  # little finger up, the others folded
POINTING = {1}  # the index finger alone
OPEN = {0, 1, 2, 3, 4}
LITTLE_TIP, INDEX_TIP = 20, 8


def ease(n: int) -> np.ndarray:
    """``n`` times from 0 to 1, slow at both ends as a hand moves."""
    return (1 - np.cos(np.linspace(0, np.pi, n))) / 2


def j_path(n: int, height: float, tilt_deg: float = 10.0, toward: float = -1.0) -> np.ndarray:
    """A hand-drawn J in pixels: down, then a hook curving ``toward`` (-1: to the viewer's left) and back up,
    tilted, with points spaced as a hand accelerates and slows (not the recogniser's own template)."""
    s = ease(n) * (0.55 + np.pi * 0.28)  # arc length along a stroke of 0.55 and a half circle of radius 0.28
    down = np.minimum(s, 0.55)
    angle = np.clip(s - 0.55, 0, None) / 0.28
    x = toward * (0.28 - 0.28 * np.cos(angle))
    y = down + 0.28 * np.sin(angle)
    a = np.radians(tilt_deg)
    pts = np.stack([x * np.cos(a) - y * np.sin(a), x * np.sin(a) + y * np.cos(a)], axis=1)
    return pts * height + (500.0, 200.0)


def z_path(n: int, width: float, mirrored: bool = False) -> np.ndarray:
    """A Z in pixels: across, diagonally back and down, across; drawn at an even pace with eased corners."""
    corners = np.array([[0.0, 0.0], [1.0, 0.05], [0.05, 0.95], [1.0, 1.0]])
    if mirrored:
        corners[:, 0] = 1 - corners[:, 0]
    per = n // 3
    legs = [a + (b - a) * ease(per)[:, None] for a, b in zip(corners, corners[1:])]
    return np.vstack(legs) * width + (400.0, 200.0)


def still(point: np.ndarray, frames: int) -> np.ndarray:
    return np.repeat(point[None], frames, axis=0)


def run(frames: list[np.ndarray | None], fps: float = 30.0) -> list[tuple[int, str]]:
    rec = MotionRecognizer()
    hits = []
    for i, lm in enumerate(frames):
        match = rec.update(lm, i / fps)
        if match is not None:
            hits.append((i, match.letter.letter))
    return hits


def signed(handshape: set[int], tip: int, path: np.ndarray, **kw) -> list[np.ndarray | None]:
    """The hand held still before and after the path, as a signer holds the handshape around a movement."""
    full = np.vstack([still(path[0], 8), path, still(path[-1], 8)])
    return list(fingertip_track(handshape, tip, full, **kw))


def test_straightness_tells_straight_from_folded_fingers():
    s = straightness(hand_landmarks(I_SHAPE))
    assert s[LITTLE] > 0.95 and s[1:4].max() < 0.6


@pytest.mark.parametrize("seconds", [0.4, 0.8, 1.2])
@pytest.mark.parametrize("size", [40.0, 120.0, 300.0])
def test_a_drawn_j_is_one_j_at_any_speed_and_size(seconds, size):
    path = j_path(int(30 * seconds), height=3 * size)
    assert [letter for _, letter in run(signed(I_SHAPE, LITTLE_TIP, path, size=size))] == ["J"]


@pytest.mark.parametrize("left", [False, True])
def test_the_hook_curves_toward_the_thumb_for_either_hand(left):
    # a right hand facing the camera has its thumb on the viewer's left, a left hand on the right
    toward_thumb = j_path(24, 300, toward=1.0 if left else -1.0)
    away_from_thumb = j_path(24, 300, toward=-1.0 if left else 1.0)
    assert [l for _, l in run(signed(I_SHAPE, LITTLE_TIP, toward_thumb, left=left))] == ["J"]
    assert run(signed(I_SHAPE, LITTLE_TIP, away_from_thumb, left=left)) == []


@pytest.mark.parametrize("seed", range(5))
def test_j_survives_landmark_noise_and_15_fps(seed):
    path = j_path(12, 300)
    frames = signed(I_SHAPE, LITTLE_TIP, path, noise=0.03, seed=seed)
    assert [l for _, l in run(frames[::1], fps=15.0)] == ["J"]


def test_a_j_path_needs_the_i_handshape():
    path = j_path(24, 300)
    assert run(signed(POINTING, LITTLE_TIP, path)) == []
    assert run(signed(OPEN, LITTLE_TIP, path)) == []


def test_an_i_held_still_rising_or_dropping_is_no_j():
    start = np.array([500.0, 600.0])
    rise = start - np.outer(ease(20), (0.0, 400.0))
    drop = rise[-1] + np.outer(ease(20), (30.0, 600.0))
    frames = list(fingertip_track(I_SHAPE, LITTLE_TIP, np.vstack([rise, still(rise[-1], 30), drop])))
    assert run(frames) == []


@pytest.mark.parametrize("mirrored", [False, True])
@pytest.mark.parametrize("seconds", [0.6, 1.2])
@pytest.mark.parametrize("left", [False, True])
def test_a_pointing_hand_drawing_z_is_one_z(mirrored, seconds, left):
    path = z_path(int(30 * seconds), width=250, mirrored=mirrored)
    assert [l for _, l in run(signed(POINTING, INDEX_TIP, path, left=left, noise=0.01))] == ["Z"]


def test_a_z_path_needs_the_pointing_handshape_and_a_still_pointing_hand_is_no_z():
    path = z_path(30, 250)
    assert run(signed(I_SHAPE, INDEX_TIP, path)) == []
    assert run(list(fingertip_track(POINTING, INDEX_TIP, still(path[0], 60), noise=0.01))) == []


def test_a_dropped_frame_is_bridged_but_a_lost_hand_breaks_the_track():
    frames: list[np.ndarray | None] = list(signed(I_SHAPE, LITTLE_TIP, j_path(24, 300)))
    frames[18] = None  # tracking lost for one frame of a fast movement
    assert [l for _, l in run(frames)] == ["J"]
    frames[14:22] = [None] * 8  # gone for a quarter second: what is left of the path is no J
    assert run(frames) == []


def test_at_a_pages_8_frames_a_second_a_dropped_frame_is_bridged_too():
    """Issue 35: the J clip was never read in the page. At 8 frames a second one frame without a hand is a gap of
    0.25 s, over the 0.15 s a movement survived: a gap now counts in frame intervals too."""
    frames: list[np.ndarray | None] = list(signed(I_SHAPE, LITTLE_TIP, j_path(6, 300)))  # 0.75 s at 8 fps
    frames[10] = None
    assert [l for _, l in run(frames, fps=8.0)] == ["J"]
    frames[9:12] = [None] * 3  # gone for half a second: no J
    assert run(frames, fps=8.0) == []


CLASSES = ("D", "I", "Y", NO_LETTER)


def probs(top: str, p: float = 0.9) -> np.ndarray:
    out = np.full(len(CLASSES), (1 - p) / (len(CLASSES) - 1))
    out[CLASSES.index(top)] = p
    return out


def feed(smoother: LetterSmoother, tops: list[str | None], t0: float, fps: float = 30.0) -> list:
    events = []
    for k, top in enumerate(tops):
        events += smoother.update(None if top is None else probs(top), t0 + k / fps)
    return events


def test_a_moving_letter_takes_back_the_letter_it_began_as_and_blocks_it_while_held():
    sm = LetterSmoother(CLASSES)
    events = feed(sm, ["I"] * 15, 0.0)
    assert [(e.kind, e.letter) for e in events] == [("commit", "I")]
    j = sm.commit_moving("J", 0.6, 0.95, started=0.3, starts_from=("I",))
    assert [(e.kind, e.letter, e.replaces) for e in j] == [("commit", "J", "I")]
    assert sm.letter == "J"
    assert feed(sm, ["I"] * 30, 0.6) == [] and sm.letter == "J"  # the I a J ends in is not committed again
    events = feed(sm, [NO_LETTER] * 3 + ["I"] * 15, 1.6)  # the hand shows something else: J is done
    assert [(e.kind, e.letter) for e in events] == [("release", "J"), ("commit", "I")]


def test_a_moving_letter_releases_an_unrelated_letter_committed_before_the_movement():
    sm = LetterSmoother(CLASSES)
    feed(sm, ["Y"] * 15, 0.0)
    events = sm.commit_moving("J", 1.5, 0.9, started=1.0, starts_from=("I",))
    assert [(e.kind, e.letter, e.replaces) for e in events] == [("release", "Y", None), ("commit", "J", None)]


def test_a_moving_letter_is_released_when_the_hand_leaves():
    sm = LetterSmoother(CLASSES)
    sm.commit_moving("Z", 0.0, 0.9, started=-0.5, starts_from=("D",))
    events = feed(sm, [None] * 15, 0.1)
    assert [(e.kind, e.letter) for e in events][:1] == [("release", "Z")]


def flat_hook(n: int) -> np.ndarray:
    """A J as some signers make it: hardly any stroke down, a wide shallow scoop toward the thumb."""
    a = np.linspace(0, np.pi, n)
    return np.stack([-150 + 150 * np.cos(a), 60 * np.sin(a)], axis=1) + (500.0, 300.0)


def test_a_signers_own_j_is_learned_from_their_examples():
    from realtime.motion import J, drawn_path

    mine = signed(I_SHAPE, LITTLE_TIP, flat_hook(20))
    assert run(mine) == [], "the built-in shape should not know this J, or the test proves nothing"
    example = drawn_path(J, list(fingertip_track(I_SHAPE, LITTLE_TIP, flat_hook(16), noise=0.01, seed=3)))
    rec = MotionRecognizer(personal={"J": [example]})
    hits = [m.letter.letter for i, lm in enumerate(mine) if (m := rec.update(lm, i / 30)) is not None]
    assert hits == ["J"]
    # learned from a right hand, it serves the left hand mirrored, as the built-in shape does
    left = signed(I_SHAPE, LITTLE_TIP, flat_hook(20) * (-1, 1) + (1000, 0), left=True)
    rec.reset()
    assert [m.letter.letter for i, lm in enumerate(left) if (m := rec.update(lm, 10 + i / 30)) is not None] == ["J"]


def test_damaged_personal_shapes_are_refused_with_one_line():
    from core.errors import AslError

    with pytest.raises(AslError, match="damaged"):
        MotionRecognizer(personal={"J": [[[0.0, float("nan")], [1.0, 1.0]]]})
