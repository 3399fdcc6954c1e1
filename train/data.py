"""Finding labeled hand images on disk.

Layout: ``DIR/<L>/<signer>_<anything>.<jpg|jpeg|png|bmp>``, one folder per letter ``L`` (A-Z). The signer is
the file name up to its first underscore (``100_A_1.jpg`` -> ``100``, massey's ``hand1_a_bot_seg_1.jpeg`` ->
``hand1``, roboflow's ``A10_jpg.rf.<hash>.jpg`` -> ``A10``, which keeps a photo's augmented copies together).
Signers are namespaced by the dataset folder's name, so two datasets never share one. Files beside the letter
folders (README, manifest.csv) are ignored.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

from core.errors import AslError
from core.letters import ALL_LETTERS

log = logging.getLogger(__name__)
LABEL_FIXES = Path(__file__).resolve().parent / "label_fixes.csv"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


class DatasetError(AslError):
    """A dataset folder that does not follow the layout; the message is one line for the user."""


@dataclass(frozen=True)
class Sample:
    path: Path
    letter: str
    signer: str


def dataset_name(root: Path) -> str:
    """A readable name for a dataset folder: its own name, with its parent's when it is a generic split name."""
    root = Path(root).resolve()
    return f"{root.parent.name}/{root.name}" if root.name.startswith(("train", "val", "test")) else root.name


def label_fixes(dataset: str) -> dict[tuple[str, str], str]:
    """(folder, file) -> corrected letter, for one dataset."""
    with open(LABEL_FIXES, newline="", encoding="utf-8") as f:
        return {(r["folder"], r["file"]): r["letter"] for r in csv.DictReader(f) if r["dataset"] == dataset}


def discover(root: Path, fixes: bool = True) -> list[Sample]:
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"dataset folder not found: {root}")
    name = dataset_name(root)
    fixed = label_fixes(name) if fixes else {}
    letter_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not letter_dirs:
        raise DatasetError(f"{root} has no letter folders: expected {root}/A/<signer>_A_1.jpg and so on")
    samples = []
    for d in letter_dirs:
        letter = d.name.upper()
        if letter not in ALL_LETTERS:
            raise DatasetError(f"{d} is not a letter folder: {root} must hold one folder per letter A-Z")
        files = sorted(p for p in d.iterdir() if not p.name.startswith("."))
        if not files:
            raise DatasetError(f"{d} is empty: remove it or put that letter's images in it")
        for f in files:
            if f.suffix.lower() not in IMAGE_SUFFIXES:
                raise DatasetError(f"{f} is not an image (expected {', '.join(sorted(IMAGE_SUFFIXES))})")
            signer, sep, _ = f.stem.partition("_")
            if not sep or not signer:
                raise DatasetError(f"{f}: cannot tell the signer; name files <signer>_<letter>_<n>{f.suffix}")
            samples.append(Sample(f, fixed.get((d.name, f.name), letter), f"{name}/{signer}"))
    if fixed:
        log.info("%s: %d images relabelled by %s", name, len(fixed), LABEL_FIXES.name)
    return samples
