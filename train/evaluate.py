"""python -m train.evaluate --data DIR: accuracy of a checkpoint on a folder of letter images.

The live hand detection and crop run on every image, tight hand photos and whole scenes alike. Images where
no hand is found count as wrong. Folders of letters the model does not know measure rejection: the share
given no letter (no-letter class, or no hand). The last output line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from core.cli import check_output, number, picture_path, setup_logging
from core.errors import cli_main
from core.letters import NO_LETTER
from model import DEVICE_CHOICES, SHIPPED_CHECKPOINT, model_path
from model.classifier import LetterClassifier
from train.data import discover
from train.features import detect_hands, read_image
from train.metrics import NO_HAND, group_confusions, letter_confusion, per_letter_scores
from train.plots import plot_confusion

log = logging.getLogger("train.evaluate")


def evaluate(data: Path, classifier: LetterClassifier, batch_size: int = 32) -> tuple[dict, np.ndarray, list, list]:
    """Returns the metrics and a confusion matrix (rows: folder letters, columns: classes + no hand)."""
    samples = discover(data)
    hands = detect_hands(samples)
    predicted: list[str] = [NO_HAND] * len(samples)
    found = [(i, h) for i, h in enumerate(hands) if h is not None]
    for start in tqdm(range(0, len(found), batch_size), desc="classifying", unit="batch", leave=False):
        rows = found[start : start + batch_size]
        inputs = [classifier.prepare(read_image(samples[i].path), hand) for i, hand in rows]
        for (i, _), prediction in zip(rows, classifier.predict(inputs)):
            predicted[i] = prediction.label
    known = set(classifier.classes) - {NO_LETTER}
    letters = [s.letter for s in samples]
    cm, rows_labels, cols = letter_confusion(letters, predicted, classifier.classes)
    known_idx = [i for i, s in enumerate(samples) if s.letter in known]
    other_idx = [i for i, s in enumerate(samples) if s.letter not in known]
    metrics = {
        "data": str(data),
        "classes": list(classifier.classes),
        "images": len(known_idx),
        "hands_found": sum(hands[i] is not None for i in known_idx),
        "accuracy": (
            round(sum(predicted[i] == samples[i].letter for i in known_idx) / len(known_idx), 4) if known_idx else None
        ),
        "per_letter": per_letter_scores(letters, predicted, known),
        "confusable_groups": group_confusions(letters, predicted, known),
        "other_images": len(other_idx),
        "rejection_rate": (
            round(sum(predicted[i] in (NO_LETTER, NO_HAND) for i in other_idx) / len(other_idx), 4)
            if other_idx
            else None
        ),
    }
    return metrics, cm, rows_labels, cols


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(
        prog=prog or "python -m train.evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", type=Path, required=True, help="folder with one sub-folder of images per letter")
    p.add_argument("--model", type=model_path, default=SHIPPED_CHECKPOINT)
    p.add_argument("--confusion", type=picture_path, metavar="OUT.png", help="write a confusion-matrix picture")
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    p.add_argument("--no-letter-offset", type=number(-20, 20), help="override the checkpoint's no-letter offset")
    args = p.parse_args(argv)
    setup_logging(verbose=False, from_command_line=argv is None)
    return cli_main(lambda: run(args))


def run(args: argparse.Namespace) -> int:
    if args.confusion:
        check_output(args.confusion, "--confusion")  # before the work: a typo must not cost the evaluation
    classifier = LetterClassifier(args.model, args.device, args.no_letter_offset)
    metrics, cm, rows, cols = evaluate(args.data, classifier)
    metrics["model"] = str(args.model)
    log.info(
        "%d images of known letters, hand found in %d, accuracy %s; %d of other letters, rejection %s",
        metrics["images"],
        metrics["hands_found"],
        metrics["accuracy"],
        metrics["other_images"],
        metrics["rejection_rate"],
    )
    print(json.dumps(metrics), flush=True)  # before the picture: the numbers survive a failed plot
    if args.confusion:
        title = f"{Path(args.data).name}: accuracy {metrics['accuracy'] or 0:.2%}"
        if metrics["rejection_rate"] is not None:
            title += f", rejection {metrics['rejection_rate']:.2%}"
        plot_confusion(cm, rows, cols, args.confusion, title)
    return 0


if __name__ == "__main__":
    sys.exit(main())
