"""Replay tests: the live pipeline on real clips of one signer (../shared/data/video_signademy), with both shipped
models.

The alphabet model (24 still letters), on every clip of a still letter: the right letter is committed, within
300 ms of the hand settling (our hold labels in tests/replay/signademy_holds.json), it stays committed, without
flicker, to the end of the hold, and no other letter is committed (the teaching clips M, N, Q and T may commit
the letters they show on the way, before the hold). The default A-I model: the same on A-I, and no A-I letter
committed on the others. With either, the J clip spells J twice: each J takes back the I it starts as.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

import run
from model import AI_CHECKPOINT, ALPHABET_CHECKPOINT
from model.classifier import LetterClassifier
from realtime.capture import VideoFile
from realtime.pipeline import Pipeline
from realtime.smoothing import LIVE_NO_LETTER_OFFSET

pytestmark = [pytest.mark.data, pytest.mark.mediapipe]
LABELS = json.loads((Path(__file__).parent / "replay" / "signademy_holds.json").read_text())
HOLDS = LABELS["holds"]  # every clip of a still letter, A-Y (Y's index is cut short: realtime/mp4.py)
FORMED_FROM = LABELS["formed_from"]  # teaching clips: letters shown on the way to the clip's own letter
A_TO_I = sorted(letter for letter in HOLDS if letter <= "I")
OTHERS = sorted(letter for letter in HOLDS if letter > "I")
MODELS = {"default": AI_CHECKPOINT, "alphabet": ALPHABET_CHECKPOINT}

# Known misses, kept as strict xfails: each fails the day it is fixed, so these lists stay true.
ALPHABET_NEVER_COMMITS = {
    "K": "commits V: K's averaged probability passes 0.7 only while the hand still rises, and falls to 0.25 in the "
    "hold, where V leads steadily (0.58; the thumb between the raised fingers is all that tells them apart)",
    "P": "commits nothing: the model never gives this signer's P more than 0.4 (H, D and Q take the rest)",
}
DEFAULT_FALSE_COMMITS = {
    "L": "commits D for a moment 2.0 s into the clip (averaged confidence 0.73)",
    "M": "commits B for a moment 1.9 s into the clip (averaged confidence 0.81)",
}
# Misses whose outcome a float rounding difference between CPUs can flip: non-strict, so neither outcome fails CI.
ALPHABET_MARGINAL = {
    "S": "S's averaged probability hovers at 0.69-0.78 through the hold, on the 0.70 entry threshold; the steady "
    "path (top class for 0.2 s) commits it in time since 0.15.0, but close enough to the limit that a CPU's float "
    "rounding can move it either way",
    "T": "T commits 333 ms after the hold starts, one frame past the limit: its averaged probability crosses 0.70 at "
    "200 ms and dips once on the way",
}
DEFAULT_MARGINAL = {
    "S": "commits E 1.9 s into the clip at an averaged confidence of about 0.705, on the 0.70 entry threshold: "
    "whether it crosses depends on the CPU's float rounding (the A-I model does not know S)",
}


def known(*args: str, strict: dict[str, str], marginal: dict[str, str]):
    """Test parameters ending in a letter, marked with that letter's known miss, if any."""
    letter = args[-1]
    if letter in strict:
        return pytest.param(*args, marks=pytest.mark.xfail(reason=strict[letter], strict=True))
    if letter in marginal:
        return pytest.param(*args, marks=pytest.mark.xfail(reason=marginal[letter], strict=False))
    return pytest.param(*args)


@functools.cache
def replay(letter: str, model: str = "alphabet") -> tuple[list, list]:
    """(commit events with frame numbers, stable letter per frame) of the live pipeline on one clip."""
    from model import shared_dir

    clip = shared_dir() / "data" / "video_signademy" / letter / f"signademy_{letter}.mp4"
    if not clip.is_file():
        pytest.skip(f"needs {clip}")
    classifier = LetterClassifier(MODELS[model], device="cpu", no_letter_offset=LIVE_NO_LETTER_OFFSET)  # as run.py
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


def spelled(commits: list) -> list[tuple[int, str]]:
    """(frame, letter) of each commit that stands: a commit that replaces another (an I that became a J) takes
    the other's place."""
    out: list[tuple[int, str]] = []
    for frame, e in commits:
        if e.replaces and out:
            out.pop()
        out.append((frame, e.letter))
    return out


ALPHABET_CASES = [
    known("alphabet", lt, strict=ALPHABET_NEVER_COMMITS, marginal=ALPHABET_MARGINAL) for lt in sorted(HOLDS)
]


@pytest.mark.parametrize("model, letter", [*ALPHABET_CASES, *(("default", lt) for lt in A_TO_I)])
def test_held_letter_is_committed_fast_and_alone(model, letter):
    start, end = HOLDS[letter]
    commits, _ = replay(letter, model)
    letters = spelled(commits)
    own = [(f, e) for f, e in commits if e.letter == letter]
    assert own, f"{letter} never committed; committed {letters}"
    latency = own[0][1].t - start / LABELS["fps"]
    assert latency <= 0.300, f"{letter} committed {latency * 1000:.0f} ms after the hand settled"
    others = [(f, lt) for f, lt in letters if lt != letter]
    # a teaching clip may commit the letters it shows on the way, but never during the hold itself
    assert all(lt in FORMED_FROM.get(letter, ()) and not start <= f <= end for f, lt in others), (
        f"{letter} clip also committed {others} (hold {start}-{end})"
    )


@pytest.mark.parametrize(
    "model, letter",
    [
        *(known("alphabet", lt, strict=ALPHABET_NEVER_COMMITS, marginal={}) for lt in sorted(HOLDS)),
        *(("default", lt) for lt in A_TO_I),
    ],
)
def test_letter_stays_committed_through_the_hold(model, letter):
    start, end = HOLDS[letter]
    commits, letters = replay(letter, model)
    first = next((f for f, e in commits if e.letter == letter and f >= start - 10), end)
    held = letters[max(first, start) : end + 1]
    assert held and all(l == letter for l in held), f"stable letter during the hold: {''.join(l or '-' for l in held)}"


@pytest.mark.parametrize(
    "letter", [known(lt, strict=DEFAULT_FALSE_COMMITS, marginal=DEFAULT_MARGINAL) for lt in OTHERS]
)
def test_the_default_model_commits_no_letter_it_knows_on_other_letters(letter):
    commits, _ = replay(letter, "default")
    assert commits == [], f"{letter} clip committed {[(f, e.letter) for f, e in commits]}"


@pytest.mark.parametrize("model", MODELS)
def test_the_j_clip_spells_j_and_nothing_else(model):
    """The signer draws J twice; each starts as a held I, which the J takes back."""
    commits, _ = replay("J", model)
    assert [lt for _, lt in spelled(commits)] == ["J", "J"], f"committed {[(f, e.letter) for f, e in commits]}"


def test_headless_cli_writes_commit_events(signademy, tmp_path):
    events = tmp_path / "b.jsonl"
    out = tmp_path / "b.mp4"
    clip = signademy / "B" / "signademy_B.mp4"
    assert run.main(["--video", str(clip), "--no-window", "--fast", "--events", str(events), "--output", str(out)]) == 0
    lines = [json.loads(l) for l in events.read_text().splitlines()]
    assert lines[0]["letter"] == "B" and set(lines[0]) == {"frame", "t", "letter", "confidence", "top"}
    assert list(lines[0]["top"])[0] == "B" and len(lines[0]["top"]) == 5
    last_word = {"frame": 131, "t": lines[1]["t"], "word": "B", "letters": "B", "corrected": False}
    assert lines[1:] == [last_word]  # the word being spelled at the end
    annotated = VideoFile(out, realtime=False)
    assert annotated.frame_count == 132 and annotated.width == 1080
    annotated.close()
