"""Spelled words made from the signademy letter clips, for the word replay tests.

Inside a word the clips are joined at their holds (the hand stays up and changes shape from one letter to the
next); a word starts with its first clip's rise into the hold; between words the hand drops (that clip's rise,
played backwards) and stays out of view for ``GAP_FRAMES``. A double letter is its held frames slid sideways
by ``SLIDE_PX`` over a few frames and held there, the way a signer slides the hand for the LL of HELLO.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

LABELS = json.loads((Path(__file__).parent / "replay" / "signademy_holds.json").read_text())
HOLD_FRAMES = 24  # 0.8 s of each letter's hold
GAP_FRAMES = 58  # the F clip's first frames: no hand in view, 1.9 s
SLIDE_PX, SLIDE_FRAMES = 100, 4  # about 0.45 hand sizes in 0.13 s


def clip_frames(signademy: Path, letter: str, start: int, stop: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(signademy / letter / f"signademy_{letter}.mp4"))
    frames = []
    for i in range(stop):
        ok, image = cap.read()
        if not ok:
            break
        if i >= start:
            frames.append(image)
    cap.release()
    return frames


def shifted(image: np.ndarray, dx: int) -> np.ndarray:
    m = np.float32([[1, 0, dx], [0, 1, 0]])
    return cv2.warpAffine(image, m, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REPLICATE)


def word_frames(signademy: Path, words: list[str]) -> Iterator[np.ndarray]:
    holds = LABELS["holds"]
    for word in words:
        for i, letter in enumerate(word):
            start = holds[letter][0]
            held = clip_frames(signademy, letter, start, start + HOLD_FRAMES)
            if i == 0:
                yield from clip_frames(signademy, letter, 0, start)
            if i > 0 and letter == word[i - 1]:
                steps = [round(SLIDE_PX * (k + 1) / SLIDE_FRAMES) for k in range(SLIDE_FRAMES)]
                yield from (shifted(held[k], dx) for k, dx in enumerate(steps))
                yield from (shifted(image, SLIDE_PX) for image in held)
            else:
                yield from held
        yield from reversed(clip_frames(signademy, word[-1], 0, holds[word[-1]][0]))
        yield from clip_frames(signademy, "F", 0, GAP_FRAMES)


def write_word_clip(signademy: Path, words: list[str], path: Path) -> int:
    """Write the words' clip as Motion-JPEG at the clips' 30 fps; the number of frames."""
    writer, n = None, 0
    for image in word_frames(signademy, words):
        if writer is None:
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), LABELS["fps"], image.shape[1::-1])
            writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 95)
        writer.write(image)
        n += 1
    assert writer is not None
    writer.release()
    return n
