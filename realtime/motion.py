"""J and Z, the two letters of the manual alphabet that are signed with a movement, read from the hand's track.

J is the I handshape whose little finger draws a hook: down, then curving toward the body and up as the wrist
turns. Z is the index finger drawing a Z in the air. A still frame of either looks like another letter (I; D or
X), so the letter classifier cannot know them; this recogniser watches the last second and a half of landmarks
instead. For each letter it keeps the path of the fingertip that draws (the little finger for J, the index for
Z) while the handshape holds (that finger straight, the others bent), and compares every recent stretch of that
path with the letter's drawn shape, the way the $1 gesture recogniser does: both are resampled to the same
number of points along their length, centred and scaled to unit size, so the size of the hand, its distance
from the camera and the signing speed do not matter. The mirror image of each shape counts too: a left hand
draws it mirrored, and so does a camera that is not mirrored.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from core.errors import AslError
from core.landmarks import FINGERS, hand_size

THUMB, INDEX, MIDDLE, RING, LITTLE = range(5)
STRAIGHT = 0.85  # a finger whose tip is this share of its length from its knuckle (in 3D) is extended
BENT = 0.8  # and one under this is bent
POINTS = 32  # points a path and a shape are resampled to
ROTATIONS_DEG = (-30.0, -15.0, 0.0, 15.0, 30.0)  # tilts of the drawing that are tried


def _arc(center: tuple[float, float], radius: float, start: float, stop: float, n: int = 12) -> np.ndarray:
    a = np.linspace(start, stop, n)
    return np.stack([center[0] + radius * np.cos(a), center[1] + radius * np.sin(a)], axis=1)


@dataclass(frozen=True)
class MovingLetter:
    """A letter signed by drawing ``shape`` (x right, y down, as the viewer sees a right hand draw it) with the
    tip of ``finger`` while that finger is straight and the ``bent`` fingers are folded."""

    letter: str
    finger: int  # index into FINGERS
    bent: tuple[int, ...]
    shape: np.ndarray  # (K, 2) polyline
    min_path: float  # shortest path that counts, in hand sizes (wrist to middle knuckle)
    handed: bool  # ``shape``'s x axis runs from the index knuckle to the little knuckle: mirrored with the hand
    starts_from: tuple[str, ...]  # still letters its handshape looks like: a commit of them is replaced by it

    @property
    def tip(self) -> int:
        return FINGERS[self.finger][-1]


J = MovingLetter(
    "J",
    LITTLE,
    (INDEX, MIDDLE, RING),
    # down, then a hook that curves across and back up (the tail of a written J)
    np.vstack([[[0.0, 0.0]], _arc((-0.3, 0.6), 0.3, 0.0, np.pi)]),
    min_path=1.5,
    handed=True,  # the hook curves toward the thumb's side, for either hand and either camera
    starts_from=("I",),
)
Z = MovingLetter(
    "Z",
    INDEX,
    (MIDDLE, RING, LITTLE),
    np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),  # across, back down diagonally, across
    min_path=2.0,
    handed=False,  # written as seen by the signer or by the viewer: either way round counts
    starts_from=("D", "G", "X"),
)
MOVING_LETTERS = (J, Z)


@dataclass(frozen=True)
class MotionSettings:
    window_s: float = 1.5  # the longest movement looked at
    min_duration_s: float = 0.2  # the shortest
    max_distance: float = 0.08  # mean distance between path and shape (unit size) that still counts as a match
    max_gap_s: float = 0.15  # frames without a hand that a movement survives (fast hands blur, tracking drops),
    max_gap_frames: float = 2.5  # or this many frame intervals, whichever is longer: a page sends 8 to 15 frames
    # a second, and at 8 one frame without a hand (0.25 s) broke every J in two
    refractory_s: float = 0.5  # after a match, frames are not looked at for this long: the hand moving on from a
    # J's end (turned, little finger out) can trace a short hook of its own
    min_shape_share: float = 0.6  # share of the path's frames that must show the letter's handshape


@dataclass(frozen=True)
class MotionMatch:
    letter: MovingLetter
    started: float  # time the movement began, in seconds
    distance: float  # mean distance between the path and the shape (0: drawn exactly)

    @property
    def confidence(self) -> float:
        """1 for a path drawn exactly like the shape, less the further it strays (in units of the path's size)."""
        return max(0.0, 1.0 - self.distance)


def straightness(landmarks: np.ndarray) -> np.ndarray:
    """(5,) for each finger, the distance from its knuckle to its tip over the length of its bones, in 3D: 1 for a
    straight finger, about 0.3-0.6 for a folded one, whatever way the hand is turned."""
    pts = landmarks[np.array(FINGERS)]  # (5, 4, 3)
    bones = np.linalg.norm(np.diff(pts, axis=1), axis=2).sum(axis=1)
    return np.linalg.norm(pts[:, -1] - pts[:, 0], axis=1) / np.maximum(bones, 1e-6)


def resample(path: np.ndarray, n: int = POINTS) -> np.ndarray:
    """``n`` points evenly spaced along a polyline (a path with pauses becomes the same as one without)."""
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    along = np.concatenate([[0.0], np.cumsum(steps)])
    if along[-1] == 0:
        return np.repeat(path[:1], n, axis=0)
    at = np.linspace(0.0, along[-1], n)
    return np.stack([np.interp(at, along, path[:, k]) for k in range(2)], axis=1)


def normalise(points: np.ndarray) -> np.ndarray:
    """Centred on its centroid and scaled so that its larger side is 1 (keeping its proportions: a straight
    stroke stays a stroke)."""
    centred = points - points.mean(axis=0)
    return centred / max(float(np.ptp(centred, axis=0).max()), 1e-6)


def _variants(shape: np.ndarray) -> np.ndarray:
    """(rotations, POINTS, 2): the shape tilted by each of ROTATIONS_DEG, resampled and normalised."""
    base = resample(shape)
    out = []
    for deg in ROTATIONS_DEG:
        a = np.radians(deg)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        out.append(normalise(base @ rot.T))
    return np.stack(out)


def drawn_path(letter: MovingLetter, landmarks: list[np.ndarray]) -> np.ndarray:
    """The path a signer's fingertip drew for ``letter`` over consecutive frames' landmarks, resampled, normalised
    and turned the way the letter's shape is written (for a handed letter, as by a hand whose little finger is on
    the right): a personal shape for :class:`MotionRecognizer`."""
    tips = np.array([lm[letter.tip, :2] for lm in landmarks], dtype=np.float64)
    first = landmarks[0]
    if letter.handed and first[FINGERS[LITTLE][0], 0] < first[FINGERS[INDEX][0], 0]:
        tips[:, 0] *= -1
    return normalise(resample(tips))


def _checked(paths: list) -> list[np.ndarray]:
    """Personal shapes as read from a checkpoint: each a path of at least two finite (x, y) points."""
    out = []
    for p in paths:
        a = np.asarray(p, dtype=np.float64)
        if a.ndim != 2 or a.shape[0] < 2 or a.shape[1] != 2 or not np.isfinite(a).all():
            raise AslError("the checkpoint's personal J/Z shapes are damaged: calibrate again")
        out.append(a)
    return out


@dataclass(frozen=True)
class _TrackPoint:
    t: float
    landmarks: np.ndarray  # (21, 3)
    straightness: np.ndarray  # (5,)
    size: float  # hand size in pixels


@dataclass(frozen=True)
class _Track:
    """The recent track as arrays, frame by frame."""

    times: np.ndarray  # (T,)
    landmarks: np.ndarray  # (T, 21, 3)
    straightness: np.ndarray  # (T, 5)
    sizes: np.ndarray  # (T,)

    @staticmethod
    def of(points: deque[_TrackPoint]) -> _Track:
        return _Track(
            np.array([p.t for p in points]),
            np.stack([p.landmarks for p in points]),
            np.stack([p.straightness for p in points]),
            np.array([p.size for p in points]),
        )


class MotionRecognizer:
    """Feed it every frame's landmarks with :meth:`update`; it answers a :class:`MotionMatch` on the frame a J or a
    Z is complete, then forgets the path so that one movement is one letter. ``personal`` adds a signer's own
    ways of drawing a letter (:func:`drawn_path` of their examples, which ``calibrate.py`` keeps in the
    checkpoint) to the letter's shape."""

    def __init__(
        self,
        letters: tuple[MovingLetter, ...] = MOVING_LETTERS,
        settings: MotionSettings = MotionSettings(),
        personal: dict[str, list] | None = None,
    ):
        self.letters = letters
        self.settings = settings
        shapes = {m.letter: [m.shape, *_checked((personal or {}).get(m.letter, []))] for m in letters}
        self._drawn = {k: np.concatenate([_variants(s) for s in v]) for k, v in shapes.items()}
        self._mirrored = {k: np.concatenate([_variants(s * (-1.0, 1.0)) for s in v]) for k, v in shapes.items()}
        self._track: deque[_TrackPoint] = deque()
        self._quiet_until = -np.inf
        self._intervals: deque[float] = deque(maxlen=15)  # between the last frames, hand or not
        self._last_t: float | None = None

    def reset(self) -> None:
        """Forget the track (a new movement starts with the next frame)."""
        self._track.clear()

    def update(self, landmarks: np.ndarray | None, t: float) -> MotionMatch | None:
        """``landmarks``: (21, 3) of the signing hand in frame pixels, or None when no hand was found."""
        if self._last_t is not None and t > self._last_t:
            self._intervals.append(t - self._last_t)
        self._last_t = t
        interval = float(np.median(self._intervals)) if self._intervals else 0.0
        max_gap = max(self.settings.max_gap_s, self.settings.max_gap_frames * interval)
        if self._track and t - self._track[-1].t > max_gap:  # a movement is one track
            self.reset()
        if landmarks is None or t < self._quiet_until:
            return None
        lm = np.asarray(landmarks, dtype=np.float64)
        self._track.append(_TrackPoint(t, lm, straightness(lm), hand_size(lm)))
        while self._track and self._track[0].t < t - self.settings.window_s:
            self._track.popleft()
        track = _Track.of(self._track)  # the arrays every letter's match reads, built once a frame
        best = None
        for letter in self.letters:
            match = self._match(letter, track, t)
            if match is not None and (best is None or match.distance < best.distance):
                best = match
        if best is not None:
            self.reset()  # and stays quiet a while
            self._quiet_until = t + self.settings.refractory_s
        return best

    def _match(self, letter: MovingLetter, track: _Track, now: float) -> MotionMatch | None:
        """The best match of ``letter`` over the stretches of the track that end now, or None."""
        s = self.settings
        times, straight = track.times, track.straightness
        tips = track.landmarks[:, letter.tip, :2]
        shaped = (straight[:, letter.finger] >= STRAIGHT) & (straight[:, list(letter.bent)].max(axis=1) < BENT)
        size = float(np.median(track.sizes))
        little_to_the_right = track.landmarks[:, FINGERS[LITTLE][0], 0] > track.landmarks[:, FINGERS[INDEX][0], 0]
        steps = np.linalg.norm(np.diff(tips, axis=0), axis=1)
        length_to_end = np.concatenate([np.cumsum(steps[::-1])[::-1], [0.0]])  # path from each frame to now
        best: MotionMatch | None = None
        for i in np.flatnonzero((now - times >= s.min_duration_s) & (length_to_end >= letter.min_path * size)):
            if shaped[i:].mean() < s.min_shape_share:
                continue
            path = normalise(resample(tips[i:]))
            if not letter.handed:
                shapes = np.concatenate([self._drawn[letter.letter], self._mirrored[letter.letter]])
            elif little_to_the_right[i]:
                shapes = self._drawn[letter.letter]
            else:
                shapes = self._mirrored[letter.letter]
            distance = float(np.linalg.norm(shapes - path, axis=2).mean(axis=1).min())
            if distance <= s.max_distance and (best is None or distance < best.distance):
                best = MotionMatch(letter, float(times[i]), distance)
        return best
