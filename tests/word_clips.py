"""Spelled words made from the signademy letter clips for the word replay tests: a learner's careful pace (each
letter's hold for 0.8 s, letters joined at their holds), made by ``train.signademy_words``."""

from __future__ import annotations

from pathlib import Path

from train.signademy_words import SignademyClips, word_frames
from train.word_test import write_clip

HOLD_S = 0.8


def write_word_clip(signademy: Path, words: list[str], path: Path) -> int:
    """Write the words' clip as Motion-JPEG at the clips' 30 fps; the number of frames."""
    clips = SignademyClips(signademy)
    return write_clip(word_frames(clips, words, HOLD_S, clips.fps, transition_share=0), path, None, clips.fps)
