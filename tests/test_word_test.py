"""The word test (train/word_test.py): webcam sessions spelling common words, through run.py as a user runs it.

The floor is held with the shipped model on a few sessions; the figure for unseen people (fold models that never
saw a session) is the script's, in README ("Words"). Also: run.py's loop and Pipeline.process commit the same
letters on the same frames, and a held hand's tremor on small frames doubles no letter.
"""

from __future__ import annotations

import json
import random

import pytest

import run
from model import ALPHABET_CHECKPOINT
from model.classifier import LetterClassifier
from realtime.capture import VideoFile
from realtime.pipeline import Pipeline
from realtime.smoothing import LIVE_NO_LETTER_OFFSET
from tests.conftest import shared_path
from train import word_test

pytestmark = [pytest.mark.data, pytest.mark.mediapipe]
SESSIONS = ["u12a", "u5b"]  # two people, one from each half of the source's user folders


@pytest.fixture(scope="module")
def bits():
    return shared_path("data/bits_webcam_letters")


def test_words_of_webcam_sessions_come_out_right(bits, tmp_path):
    out = tmp_path / "words.json"
    argv = ["--data", str(bits), "--model", "alphabet", "--sessions", *SESSIONS, "--letter-s", "0.6"]
    assert word_test.main([*argv, "--words", "4", "--out", str(out)]) == 0
    summary = json.loads(out.read_text())["summary"][0]
    assert summary["sessions"] == 2 and summary["words_spelled"] == 8
    assert summary["raw"]["letters"] >= 0.9
    assert summary["dictionary"]["words"] >= 0.75


def test_run_py_and_pipeline_process_commit_the_same_and_tremor_doubles_nothing(bits, tmp_path):
    """320x240 frames with two pixels of wander a frame: the reported case of N N, A A, H H."""
    session = next(s for s in word_test.load_sessions(bits) if s.name == SESSIONS[0])
    words = ["NAME", "HELP"]
    clip = tmp_path / "tremor.avi"
    frames = word_test.clip_frames(session, words, 0.6, random.Random(1), size=(320, 240), wander_px=2)
    word_test.write_clip(frames, clip, size=(320, 240))
    events = tmp_path / "events.jsonl"
    argv = ["--video", str(clip), "--model", str(ALPHABET_CHECKPOINT), "--no-window", "--fast"]
    assert run.main([*argv, "--events", str(events), "--no-autocorrect"]) == 0
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    by_run_py = [(line["frame"], line["letter"]) for line in lines if "letter" in line]

    classifier = LetterClassifier(ALPHABET_CHECKPOINT, "cpu", LIVE_NO_LETTER_OFFSET)
    with VideoFile(clip, realtime=False) as source, Pipeline(classifier) as pipeline:
        by_process = [
            (frame.index, e.letter) for frame in source for e in pipeline.process(frame).events if e.kind == "commit"
        ]
    assert by_run_py == by_process
    assert not any(line.get("repeat") for line in lines)
    read = [line["letters"] for line in lines if "word" in line]
    assert len(read) == 2 and all(a != b for w in read for a, b in zip(w, w[1:]))  # no letter doubled
