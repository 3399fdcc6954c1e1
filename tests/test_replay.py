"""Replay tests: the shipped model and the live pipeline on real clips of one signer (../shared/data/video_signademy).

For A-I clips: exactly the right letter is committed, within 300 ms of the hand settling (our hold labels in
tests/replay/signademy_holds.json), and it stays committed, without flicker, to the end of the hold.
For the other letters: no A-I letter is committed at all (the model has a no-letter class).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import run
from model.classifier import LetterClassifier
from realtime.capture import VideoFile
from realtime.pipeline import Pipeline

LABELS = json.loads((Path(__file__).parent / "replay" / "signademy_holds.json").read_text())
OTHER = list("KLMNOPQRSTUVWXY")


@pytest.fixture(scope="module")
def classifier():
    return LetterClassifier(device="cpu")


def replay(clip: Path, classifier) -> tuple[list, list]:
    """(commit events, stable letter per frame) of the live pipeline on a clip."""
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
def test_held_letter_is_committed_fast_alone_and_steady(letter, signademy, classifier):
    start, end = LABELS["holds"][letter]
    commits, letters = replay(signademy / letter / f"signademy_{letter}.mp4", classifier)
    assert [e.letter for _, e in commits] == [letter], f"committed {commits}"
    frame, event = commits[0]
    latency = event.t - start / LABELS["fps"]
    assert latency <= 0.300, f"{letter} committed {latency * 1000:.0f} ms after the hand settled"
    assert all(l == letter for l in letters[max(frame, start):end + 1]), "the letter flickered during the hold"


@pytest.mark.parametrize("letter", OTHER)
def test_other_letters_commit_no_known_letter(letter, signademy, classifier):
    commits, _ = replay(signademy / letter / f"signademy_{letter}.mp4", classifier)
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
