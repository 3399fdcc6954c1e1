"""python -m train.word_test: common words spelled by webcam signers, read through run.py, letters and words scored.

Each session of a dataset laid out like ``bits_webcam_letters`` (``DIR/<letter>/<session>_<letter>_<n>.jpg`` with a
``manifest.csv`` of hand boxes) spells common English words (no double letters, only letters it has shots of)
from its own photos: a letter is one of its shots held ``--letter-s`` seconds with a pixel of wander a frame
(a hand held still), frames scaled to 640x480 at ``--fps``; between words, and before the first, the hand is out
of view for 1.5 s (the session's frame with the hand painted out). With ``--signademy DIR`` the signademy signer
spells common words too (double letters included), with her own rise into each letter as the transition
between letters (``train.signademy_words``: real hand movement, not a cut), at half her clips' size. Each clip
goes through ``run.py --video CLIP --no-window --fast --transcript --events``, as a user runs it, and is scored:

- **letters**: 1 - the edit distance between the letters spelled and the letters read, over the letters spelled
  (the words' letters, spaces left out);
- **words**: the words spelled found, in order, in the text read (the longest common subsequence of words).

Both for the letters as read (the events' ``letters``) and for the text decoded with the dictionary (the
transcript); and what the dictionary did: words read right that it changed (**false corrections**) and words
read wrong that it made right (**fixes**). ``--names K`` adds K names outside the dictionary to each clip's
words, counted apart too: a name read right must stay as spelled.

``--models DIR`` takes the fold models of ``python -m train --cv K --save-folds DIR`` and reads each session
with the model that never saw it, so the figures are for unseen people (the signademy signer is in no
training set: she is read by the first fold model); ``--model`` reads every session with one model.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from core.cli import check_output, number, setup_logging
from core.errors import UsageError, cli_main
from model import REPO_ROOT, model_path
from model.checkpoint import load_checkpoint
from train.data import DatasetError, dataset_name, discover
from train.signademy_words import SignademyClips, word_frames

log = logging.getLogger("train.word_test")
SIZE = (640, 480)
SIGNADEMY = "signademy"  # the name of the signademy signer's session
GAP_S = 1.5  # the hand out of view between words
WORD_POOL = 3000  # words are drawn from wordfreq's this many most frequent English words
# Names outside the dictionary's 30,000 words (``--names``): spelled clearly, they must stay as spelled.
NAMES = ("BRISCOE", "GOWER", "QUIGLEY", "YORKE", "BARNABY", "BEATRIX", "ROSALIND", "CORDELIA")


@dataclass(frozen=True)
class Session:
    name: str
    shots: dict[str, list[Path]]  # letter -> its photos
    empty: np.ndarray  # a frame of the session with the hand painted out, at SIZE


def load_sessions(data: Path) -> list[Session]:
    """Every session of the dataset with its shots and a frame without the hand."""
    manifest = Path(data) / "manifest.csv"
    if not manifest.is_file():
        raise DatasetError(f"{data} has no manifest.csv with hand boxes (path,letter,signer,...,x1,y1,x2,y2)")
    with open(manifest, newline="", encoding="utf-8") as f:
        boxes = {row["path"]: tuple(int(float(row[k])) for k in ("x1", "y1", "x2", "y2")) for row in csv.DictReader(f)}
    shots: dict[str, dict[str, list[Path]]] = {}
    for s in discover(data):
        shots.setdefault(s.signer.split("/")[-1], {}).setdefault(s.letter, []).append(s.path)
    sessions = []
    for name, letters in sorted(shots.items()):
        first = sorted(p for ps in letters.values() for p in ps)[0]
        box = boxes.get(f"{first.parent.name}/{first.name}")
        image = cv2.imread(str(first))
        if box is None or image is None:
            raise DatasetError(f"{first} has no hand box in {manifest}, or cannot be read")
        sessions.append(Session(name, {k: sorted(v) for k, v in letters.items()}, hand_out_of_view(image, box)))
    return sessions


def hand_out_of_view(image: np.ndarray, box: tuple[int, ...]) -> np.ndarray:
    """The frame at SIZE with the hand's box (grown by a quarter) painted over from its surroundings."""
    x1, y1, x2, y2 = box
    gx, gy = (x2 - x1) // 4, (y2 - y1) // 4
    mask = np.zeros(image.shape[:2], np.uint8)
    mask[max(y1 - gy, 0) : y2 + gy, max(x1 - gx, 0) : x2 + gx] = 255
    return cv2.resize(cv2.inpaint(image, mask, 9, cv2.INPAINT_TELEA), SIZE, interpolation=cv2.INTER_LINEAR)


def common_words(letters: set[str], rng: random.Random, n: int, doubles: bool = False) -> list[str]:
    """``n`` different common English words of 3 to 7 letters, spelled with ``letters`` only, double letters
    only when ``doubles``."""
    from wordfreq import top_n_list

    pool = [
        w.upper()
        for w in top_n_list("en", WORD_POOL)
        if w.isascii() and w.isalpha() and 3 <= len(w) <= 7 and set(w.upper()) <= letters
    ]
    if not doubles:
        pool = [w for w in pool if all(a != b for a, b in zip(w, w[1:]))]
    return rng.sample(pool, n)


def clip_frames(
    session: Session,
    words: list[str],
    letter_s: float,
    rng: random.Random,
    size: tuple[int, int] = SIZE,
    wander_px: int = 1,
    fps: float = 30,
) -> Iterator[np.ndarray]:
    """The session spelling the words at ``size``: out of view, then each word's letters held, each frame moved
    up to ``wander_px`` pixels either way, then out of view."""
    steps = range(-wander_px, wander_px + 1)

    def held(image: np.ndarray, seconds: float) -> Iterator[np.ndarray]:
        image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
        for _ in range(max(round(seconds * fps), 1)):
            m = np.array([[1, 0, rng.choice(steps)], [0, 1, rng.choice(steps)]], dtype=np.float32)
            yield cv2.warpAffine(image, m, size, borderMode=cv2.BORDER_REPLICATE)

    yield from held(session.empty, GAP_S)
    for word in words:
        for letter in word:
            shot = cv2.imread(str(rng.choice(session.shots[letter])))
            yield from held(shot, letter_s)
        yield from held(session.empty, GAP_S)


def write_clip(frames: Iterator[np.ndarray], path: Path, size: tuple[int, int] | None = SIZE, fps: float = 30) -> int:
    """Motion-JPEG AVI at ``fps``, frames resized to ``size`` (None: the first frame's); the number of frames."""
    writer, n = None, 0
    for image in frames:
        shape = size or (image.shape[1], image.shape[0])
        if writer is None:
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, shape)
            writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 95)
        if (image.shape[1], image.shape[0]) != shape:
            image = cv2.resize(image, shape, interpolation=cv2.INTER_AREA)
        writer.write(image)
        n += 1
    if writer is None:
        raise ValueError(f"no frames to write to {path}")
    writer.release()
    return n


def read_clip(clip: Path, model: Path, work: Path, run_py: Path) -> tuple[list[str], list[str]]:
    """The clip through run.py as a user runs it: (words decoded, as the transcript shows them; words as read)."""
    text, events = work / "text.txt", work / "events.jsonl"
    cmd = [sys.executable, str(run_py), "--video", str(clip), "--model", str(model), "--no-window"]
    cmd += ["--fast", "--transcript", str(text), "--events", str(events)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise UsageError(f"run.py failed on {clip.name} (exit {done.returncode}): {done.stderr.strip()[-300:]}")
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    return text.read_text().split(), [line.get("letters", line["word"]) for line in lines if "word" in line]


def edit_distance(a: list[str] | str, b: list[str] | str) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        row = [i]
        for j, y in enumerate(b, 1):
            row.append(min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = row
    return prev[-1]


def common_subsequence(a: list[str], b: list[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        row = [0]
        for j, y in enumerate(b, 1):
            row.append(prev[j - 1] + 1 if x == y else max(prev[j], row[j - 1]))
        prev = row
    return prev[-1]


def score(spelled: list[str], read: list[str]) -> dict[str, int]:
    """Letters and words right (see the module's docstring), with their totals."""
    letters = "".join(spelled)
    return {
        "letters": len(letters),
        "letters_right": max(len(letters) - edit_distance(letters, "".join(read)), 0),
        "words": len(spelled),
        "words_right": common_subsequence(spelled, read),
    }


def corrections(spelled: list[str], raw: list[str], decoded: list[str]) -> dict[str, int]:
    """What the dictionary did to each word read: made a word read right wrong, or a word read wrong right; and
    the names spelled, read right, and kept right."""
    pairs = list(zip(raw, decoded))
    names = [w for w in spelled if w in NAMES]
    return {
        "false_corrections": sum(r in spelled and d != r for r, d in pairs),
        "fixes": sum(r not in spelled and d in spelled for r, d in pairs),
        "names": len(names),
        "names_read": sum(n in raw for n in names),
        "names_kept": sum(n in decoded for n in names),
    }


def models_for(sessions: list[Session], data: Path | None, model: Path | None, folds: Path | None) -> dict[str, Path]:
    """Which model reads each session: the one model, or the fold model that never saw it."""
    if model is not None or not sessions:
        return {s.name: model for s in sessions if model is not None}
    assert folds is not None and data is not None
    chosen: dict[str, Path] = {}
    prefix = dataset_name(data) + "/"
    for path in sorted(Path(folds).glob("fold*.pt")):
        for signer in load_checkpoint(path).info.get("held_out_signers", []):
            if signer.startswith(prefix):
                chosen[signer[len(prefix) :]] = path
    if not chosen:
        raise UsageError(f"no fold model in {folds} held out a session of {data} (python -m train --save-folds)")
    return chosen


def names(letters: set[str], rng: random.Random, n: int) -> list[str]:
    """``n`` of the names spelled with ``letters`` only (fewer when fewer are)."""
    pool = [name for name in NAMES if set(name) <= letters]
    return rng.sample(pool, min(n, len(pool)))


@dataclass(frozen=True)
class Clip:
    session: str
    letter_s: float
    fps: float
    words: list[str]
    size: tuple[int, int]
    frames: Iterator[np.ndarray]


def clips(args: argparse.Namespace, sessions: list[Session]) -> Iterator[Clip]:
    """Every clip the test reads: each session (and the signademy signer) at each speed and frame rate."""
    signer = SignademyClips(args.signademy, scale=0.5) if args.signademy is not None else None
    for fps in args.fps:
        for letter_s in args.letter_s:
            for session in sessions:
                rng = random.Random(f"{args.seed}/{session.name}")
                words = common_words(set(session.shots), rng, args.words) + names(set(session.shots), rng, args.names)
                yield Clip(
                    session.name, letter_s, fps, words, SIZE, clip_frames(session, words, letter_s, rng, fps=fps)
                )
            if signer is not None:
                rng = random.Random(f"{args.seed}/{SIGNADEMY}")
                words = common_words(set(signer.letters), rng, args.words, doubles=True)
                words += names(set(signer.letters), rng, args.names)
                height, width = signer.frames("A")[0].shape[:2]
                size = (width, height)
                yield Clip(SIGNADEMY, letter_s, fps, words, size, word_frames(signer, words, letter_s, fps))


def run(args: argparse.Namespace) -> int:
    check_output(args.out, "--out")
    sessions = load_sessions(args.data) if args.data is not None else []
    if args.sessions:
        unknown = set(args.sessions) - {s.name for s in sessions}
        if unknown:
            raise UsageError(f"no session {', '.join(sorted(unknown))} in {args.data}")
        sessions = [s for s in sessions if s.name in args.sessions]
    if not sessions and args.signademy is None:
        raise UsageError("nothing to spell: name --data (webcam sessions) or --signademy (the signademy clips)")
    models = models_for(sessions, args.data, args.model, args.models)
    if args.signademy is not None:
        folds = sorted(Path(args.models).glob("fold*.pt")) if args.models is not None else []
        if args.model is None and not folds:
            raise UsageError(f"no fold model in {args.models} (python -m train --cv K --save-folds DIR)")
        models[SIGNADEMY] = args.model or folds[0]
    sessions = [s for s in sessions if s.name in models]
    total = len(args.fps) * len(args.letter_s) * (len(sessions) + (args.signademy is not None))
    rows = []
    with tempfile.TemporaryDirectory(prefix="word-test-") as tmp:
        work = Path(tmp)
        for clip in tqdm(clips(args, sessions), total=total, desc="word test", unit="clip"):
            path = work / f"{clip.session}.avi"
            write_clip(clip.frames, path, clip.size, clip.fps)
            decoded, raw = read_clip(path, models[clip.session], work, args.run_py)
            row = {"session": clip.session, "letter_s": clip.letter_s, "fps": clip.fps, "words": clip.words}
            row.update(model=models[clip.session].name, read=raw, decoded=decoded)
            row.update(raw=score(clip.words, raw), dictionary=score(clip.words, decoded))
            row.update(corrections(clip.words, raw, decoded))
            shown = " -> ".join(" ".join(w) for w in (clip.words, raw, decoded))
            log.info("%s at %.2f s, %g fps: %s", clip.session, clip.letter_s, clip.fps, shown)
            rows.append(row)
    summary = summarise(rows)
    Path(args.out).write_text(json.dumps({"summary": summary, "sessions": rows}, indent=2))
    print_table(summary)
    print(json.dumps(summary))
    return 0


def summarise(rows: list[dict]) -> list[dict]:
    """One line per source (webcam sessions, the signademy signer), speed and frame rate."""
    out = []
    keys = sorted({("webcam" if r["session"] != SIGNADEMY else SIGNADEMY, r["letter_s"], r["fps"]) for r in rows})
    for source, letter_s, fps in sorted(keys, key=lambda k: (k[0], -k[1], -k[2])):
        mine = [
            r
            for r in rows
            if r["letter_s"] == letter_s and r["fps"] == fps and (r["session"] == SIGNADEMY) == (source == SIGNADEMY)
        ]
        line: dict = {"source": source, "letter_s": letter_s, "fps": fps, "sessions": len(mine)}
        for kind in ("raw", "dictionary"):
            total = {k: sum(r[kind][k] for r in mine) for k in ("letters", "letters_right", "words", "words_right")}
            line[kind] = {
                "letters": round(total["letters_right"] / max(total["letters"], 1), 4),
                "words": round(total["words_right"] / max(total["words"], 1), 4),
            }
        line["words_spelled"] = sum(r["raw"]["words"] for r in mine)
        for key in ("false_corrections", "fixes", "names", "names_read", "names_kept"):
            line[key] = sum(r[key] for r in mine)
        out.append(line)
    return out


def print_table(summary: list[dict]) -> None:
    print("source    | letter s | fps | words | letters read | words read | letters decoded | words decoded", end="")
    print(" | fixed | broken | names read | names kept")
    for s in summary:
        raw, dic = s["raw"], s["dictionary"]
        print(
            f"{s['source']:9s} | {s['letter_s']:8.2f} | {s['fps']:3g} | {s['words_spelled']:5d} | "
            f"{raw['letters']:12.2%} | {raw['words']:10.2%} | {dic['letters']:15.2%} | {dic['words']:13.2%} | "
            f"{s['fixes']:5d} | {s['false_corrections']:6d} | {s['names_read']:4d} of {s['names']:3d} | "
            f"{s['names_kept']:4d} of {s['names']:3d}"
        )


def parse_args(argv: list[str] | None, prog: str | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog=prog or "python -m train.word_test",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", type=Path, help="webcam sessions with manifest.csv (bits_webcam_letters)")
    p.add_argument("--signademy", type=Path, metavar="DIR", help="also the signademy signer (video_signademy)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--models", type=Path, metavar="DIR", help="fold models (python -m train --save-folds DIR)")
    which.add_argument("--model", type=model_path, help="one model for every session")
    p.add_argument("--sessions", nargs="+", help="only these sessions (default: all)")
    p.add_argument(
        "--letter-s", nargs="+", type=number(0.1, 5), default=[0.6, 0.4, 0.25, 0.17], help="seconds a letter"
    )
    p.add_argument("--fps", nargs="+", type=number(5, 60), default=[30.0], help="frames a second of the clips")
    p.add_argument("--words", type=number(1, 50, integer=True), default=6, help="words a session (default 6)")
    p.add_argument("--names", type=number(0, len(NAMES), integer=True), default=0, help="names a clip (default 0)")
    p.add_argument("--seed", type=int, default=0, help="which words and shots")
    p.add_argument(
        "--run-py",
        type=Path,
        default=REPO_ROOT / "run.py",
        help="the run.py that reads the clips (another checkout's, to compare versions; default: this one)",
    )
    p.add_argument("--out", type=Path, default=Path("runs/word_test.json"), help="every session's words and scores")
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    args = parse_args(argv, prog)
    setup_logging(args.verbose, from_command_line=argv is None)
    return cli_main(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
