"""Spelled words made from the signademy letter clips: one real signer, at any speed, with real transitions.

Each clip of ``video_signademy`` shows the hand rising into a letter and holding it (``tests/replay/
signademy_holds.json`` labels the holds). A word is made of its letters' clips: the first letter's whole rise
and hold; every later letter's **own rise into its shape**, its last ``RISE_S`` seconds (the hand closing in and
the fingers forming the letter: real movement, not a cut) shortened to the letter's transition time, then the
first frames of its hold. A letter takes ``letter_s`` seconds, ``TRANSITION_SHARE`` of it the transition: 0.6 s
is a learner's careful pace, 0.25 s four letters a second, 0.17 s a fluent signer's six. A double letter's
second half is its held frames slid sideways by ``SLIDE_PX`` (about 0.45 hand widths) in ``SLIDE_S``, the way a
signer slides the hand for the LL of HELLO. After a word the hand drops (the last letter's rise played
backwards) and stays out of view for ``gap_s``. The M, N, T and Q clips teach: the signer shows other letters on
the way into them (a V before N), so of their rise only the last tenth of a second, the letter's own forming, is
used.

Frames are taken at ``fps`` from the clips' 30: every clip frame's time is kept, so 15 frames a second sees the
same movement sampled half as often.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from model import REPO_ROOT
from realtime.capture import VideoFile

HOLDS = REPO_ROOT / "tests" / "replay" / "signademy_holds.json"
RISE_S = 0.3  # the end of a letter's rise used as the transition into it
TEACHING_RISE_S = 0.1  # the rise kept of a teaching clip: before it the signer shows other letters
TRANSITION_SHARE = 0.35  # of a letter's time, the transition into it
SLIDE_PX, SLIDE_S = 100, 0.13  # a double letter's slide: about 0.45 of the signer's hand width, in 0.13 s
GAP_CLIP = "F"  # whose first frames show no hand
GAP_FRAMES = 58  # how many (1.9 s)


class SignademyClips:
    """The letter clips of ``folder`` (``<L>/signademy_<L>.mp4``), read once each, scaled by ``scale`` (a clip
    is 1080x1920: the 25 of them at full size take about 20 GB)."""

    def __init__(self, folder: Path, holds: Path = HOLDS, scale: float = 1.0) -> None:
        self.scale = scale
        labels = json.loads(Path(holds).read_text())
        self.folder = Path(folder)
        self.fps: float = labels["fps"]
        self.holds: dict[str, tuple[int, int]] = {k: tuple(v) for k, v in labels["holds"].items()}
        self.teaching = set(labels.get("formed_from", {}))  # clips whose rise shows other letters on the way
        self._cache: dict[str, list[np.ndarray]] = {}

    def _scaled(self, image: np.ndarray) -> np.ndarray:
        if self.scale == 1:
            return image
        return cv2.resize(image, None, fx=self.scale, fy=self.scale, interpolation=cv2.INTER_AREA)

    @property
    def letters(self) -> str:
        return "".join(sorted(self.holds))

    def frames(self, letter: str) -> list[np.ndarray]:
        if letter not in self._cache:
            with VideoFile(self.folder / letter / f"signademy_{letter}.mp4", realtime=False) as video:
                self._cache[letter] = [self._scaled(frame.image) for frame in video]
        return self._cache[letter]

    def rise(self, letter: str) -> list[np.ndarray]:
        """The hand rising into the letter; of a teaching clip (M, N, T, Q: other letters are shown on the way)
        only its last ``TEACHING_RISE_S``, the letter's own forming."""
        first = self.holds[letter][0]
        start = first - round(TEACHING_RISE_S * self.fps) if letter in self.teaching else 0
        return self.frames(letter)[start:first]

    def hold(self, letter: str) -> list[np.ndarray]:
        first, last = self.holds[letter]
        return self.frames(letter)[first : last + 1]


def sampled(frames: list[np.ndarray], seconds: float, fps: float) -> list[np.ndarray]:
    """``frames`` played in ``seconds`` at ``fps`` (evenly spaced, so a shorter time skips frames)."""
    n = max(round(seconds * fps), 1)
    picks = np.linspace(0, len(frames) - 1, n).round().astype(int) if len(frames) > 1 else [0] * n
    return [frames[i] for i in picks]


def shifted(image: np.ndarray, dx: float) -> np.ndarray:
    m = np.array([[1, 0, dx], [0, 1, 0]], dtype=np.float32)
    return cv2.warpAffine(image, m, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REPLICATE)


def word_frames(
    clips: SignademyClips,
    words: list[str],
    letter_s: float,
    fps: float = 30.0,
    transition_share: float = TRANSITION_SHARE,
    gap_s: float = GAP_FRAMES / 30,
) -> Iterator[np.ndarray]:
    """The words spelled at ``letter_s`` seconds a letter, ``fps`` frames a second (see the module's docstring).
    ``transition_share`` 0 joins the letters at their holds (a cut from one held shape to the next)."""
    rise_frames = round(RISE_S * clips.fps)
    # whole frames a letter takes at this rate, then its transition's share of them: each speed keeps its own
    # length at 15 frames a second too (rounding each part apart made 0.25 s and 0.17 s the same three frames)
    frames = max(round(letter_s * fps), 1)
    transition_n = round(frames * transition_share) if transition_share > 0 else 0
    hold_s, transition_s = (frames - transition_n) / fps, transition_n / fps
    for word in words:
        for i, letter in enumerate(word):
            hold = clips.hold(letter)
            held = sampled(hold[: max(round(hold_s * clips.fps), 1)], hold_s, fps)
            if i == 0:
                yield from sampled(clips.rise(letter), len(clips.rise(letter)) / clips.fps, fps)
            elif letter == word[i - 1]:
                slide = max(round(SLIDE_S * fps), 1)
                px = SLIDE_PX * clips.scale
                steps = [px * (k + 1) / slide for k in range(slide)]
                yield from (shifted(held[min(k, len(held) - 1)], dx) for k, dx in enumerate(steps))
                yield from (shifted(image, px) for image in held[slide:])
                continue
            elif transition_n > 0:
                yield from sampled(clips.rise(letter)[-rise_frames:], transition_s, fps)
            yield from held
        drop = clips.rise(word[-1])[::-1]
        yield from sampled(drop, len(drop) / clips.fps, fps)
        yield from sampled(clips.frames(GAP_CLIP)[:GAP_FRAMES], gap_s, fps)
