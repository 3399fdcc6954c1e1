"""python -m train.handshapes --data DIR: a drawing of each letter's handshape for the page's letter chart and
practice, written to web/static/handshapes.json.

For each letter, the hands of the dataset's photos are put in one frame (wrist at the origin, one hand size
long, left hands mirrored into right ones) and the most typical of them is kept: the photo hand closest to the
median of them all. A real hand, not an average of hands, so the fingers stay where a hand can put them; only
its 21 landmarks are kept (no pixel of any photo). The page draws them as a skeleton, fingers in colours.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from core.cli import check_output, setup_logging
from core.errors import EXIT_OK, UsageError, cli_main
from core.files import atomic_write
from core.landmarks import WRIST, hand_size, is_left_hand
from train.data import discover
from train.features import detect_hands

log = logging.getLogger("train.handshapes")
OUT = Path(__file__).resolve().parent.parent / "web" / "static" / "handshapes.json"


def normalized(landmarks: np.ndarray) -> np.ndarray:
    """(21, 3) landmarks with the wrist at the origin and a hand size of 1, as a right hand seen by the camera
    (x right, y down, z toward the camera negative)."""
    pts = landmarks - landmarks[WRIST]
    if is_left_hand(landmarks):
        pts[:, 0] = -pts[:, 0]
    return pts / max(hand_size(landmarks), 1e-6)


def typical(hands: list[np.ndarray]) -> np.ndarray:
    """The hand closest to the per-coordinate median of ``hands`` (normalized)."""
    stack = np.stack(hands)
    median = np.median(stack, axis=0)
    return stack[int(np.argmin(np.linalg.norm((stack - median)[:, :, :2], axis=2).sum(axis=1)))]


def handshapes(data: Path) -> dict[str, list[list[float]]]:
    samples = discover(data)
    by_letter: dict[str, list[np.ndarray]] = {}
    for sample, hand in zip(samples, detect_hands(samples)):
        if hand is not None:
            by_letter.setdefault(sample.letter, []).append(normalized(hand))
    if not by_letter:
        raise UsageError(f"no hand found in the photos of {data}")
    return {
        letter: np.round(typical(hands).astype(np.float64), 3).tolist()
        for letter, hands in sorted(by_letter.items())
        if len(hands) >= 3  # a single photo is a hand, not the letter's typical hand
    }


def run(args: argparse.Namespace) -> int:
    check_output(args.out, "--out", replaced=True)
    shapes = handshapes(args.data)
    payload = {"source": args.data.name, "landmarks": "MediaPipe's 21, wrist at 0, one hand size long", **shapes}
    atomic_write(args.out, lambda tmp: tmp.write_text(json.dumps(payload, separators=(",", ":")) + "\n"))
    log.info("wrote %d handshapes (%s) to %s", len(shapes), "".join(shapes), args.out)
    return EXIT_OK


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(
        prog=prog or "python -m train.handshapes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", type=Path, required=True, help="photos in the dataset layout DIR/<letter>/...")
    p.add_argument("--out", type=Path, default=OUT, help=f"where to write them [{OUT.relative_to(OUT.parents[2])}]")
    args = p.parse_args(argv)
    setup_logging(verbose=False, from_command_line=argv is None)
    return cli_main(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
