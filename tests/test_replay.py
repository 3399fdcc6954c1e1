"""Replay tests: the shipped model and the live pipeline on real clips of one signer (../shared/data/video_signademy).

For A-I clips: exactly the right letter is committed, within 300 ms of the hand settling (our hold labels in
tests/replay/signademy_holds.json), and it stays committed, without flicker, to the end of the hold.
For the other letters: no A-I letter is committed at all (the model has a no-letter class).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

import run
from model.classifier import LetterClassifier
from realtime.capture import VideoFile
from realtime.pipeline import Pipeline
from realtime.smoothing import LIVE_NO_LETTER_OFFSET

pytestmark = [pytest.mark.data, pytest.mark.mediapipe]
LABELS = json.loads((Path(__file__).parent / "replay" / "signademy_holds.json").read_text())
OTHER = list("KLMNOPQRSTUVWX")  # Y: the shared clip is unreadable (broken MP4 header)


# Known misses of the shipped model, kept as strict xfails: each fails the day it is fixed, so this list stays true.
KNOWN_FALSE_COMMITS = {
    "L": "commits D for a moment 2.0 s into the clip (averaged confidence 0.73)",
    "M": "commits B for a moment 1.9 s into the clip (averaged confidence 0.79)",
}
# Misses whose averaged confidence sits on the 0.70 entry threshold, where the float differences between CPUs
# (AVX2 EPYC, AVX-512/AMX Xeon) decide: non-strict, so neither outcome fails CI, until a model that knows S ships.
KNOWN_MARGINAL_COMMITS = {
    "S": "commits E 1.9 s into the clip at an averaged confidence of about 0.70, the entry threshold: "
    "whether it crosses depends on the CPU's float rounding (no model yet knows S)",
}


def other_letter_param(letter: str):
    if letter in KNOWN_FALSE_COMMITS:
        return pytest.param(letter, marks=pytest.mark.xfail(reason=KNOWN_FALSE_COMMITS[letter], strict=True))
    if letter in KNOWN_MARGINAL_COMMITS:
        return pytest.param(letter, marks=pytest.mark.xfail(reason=KNOWN_MARGINAL_COMMITS[letter], strict=False))
    return letter


@functools.cache
def replay(letter: str) -> tuple[list, list]:
    """(commit events with frame numbers, stable letter per frame) of the live pipeline on one clip."""
    from model import shared_dir

    clip = shared_dir() / "data" / "video_signademy" / letter / f"signademy_{letter}.mp4"
    if not clip.is_file():
        pytest.skip(f"needs {clip}")
    classifier = LetterClassifier(device="cpu", no_letter_offset=LIVE_NO_LETTER_OFFSET)  # as run.py does
    source, pipeline = VideoFile(clip, realtime=False), Pipeline(classifier)
    commits, letters = [], []
    try:
        while (frame := source.read()) is not None:
            result = pipeline.process(frame)
            commits += [(frame.index, e) for e in result.events if e.kind == "commit"]
            letters.append(result.letter)
    finally:
        pipeline.close()
        source.close()
    return commits, letters


@pytest.mark.parametrize("letter", sorted(LABELS["holds"]))
def test_held_letter_is_committed_fast_and_alone(letter):
    start, _ = LABELS["holds"][letter]
    commits, _ = replay(letter)
    assert [e.letter for _, e in commits] == [letter], f"committed {[(f, e.letter) for f, e in commits]}"
    latency = commits[0][1].t - start / LABELS["fps"]
    assert latency <= 0.300, f"{letter} committed {latency * 1000:.0f} ms after the hand settled"


@pytest.mark.parametrize("letter", sorted(LABELS["holds"]))
def test_letter_stays_committed_through_the_hold(letter):
    start, end = LABELS["holds"][letter]
    commits, letters = replay(letter)
    first = commits[0][0] if commits else end
    held = letters[max(first, start) : end + 1]
    assert held and all(l == letter for l in held), f"stable letter during the hold: {''.join(l or '-' for l in held)}"


@pytest.mark.parametrize("letter", [other_letter_param(letter) for letter in OTHER])
def test_other_letters_commit_no_known_letter(letter):
    commits, _ = replay(letter)
    assert commits == [], f"{letter} clip committed {[(f, e.letter) for f, e in commits]}"


def test_headless_cli_writes_commit_events(signademy, tmp_path):
    events = tmp_path / "b.jsonl"
    out = tmp_path / "b.mp4"
    clip = signademy / "B" / "signademy_B.mp4"
    assert run.main(["--video", str(clip), "--no-window", "--fast", "--events", str(events), "--output", str(out)]) == 0
    lines = [json.loads(l) for l in events.read_text().splitlines()]
    assert [l["letter"] for l in lines] == ["B"]
    assert set(lines[0]) == {"frame", "t", "letter", "confidence"}
    annotated = VideoFile(out, realtime=False)
    assert annotated.frame_count == 132 and annotated.width == 1080
    annotated.close()
