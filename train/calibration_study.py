"""python -m train.calibration_study: does calibrating on a few shots help signers the model never saw?

For each signer of the first --data folder in turn: a base head is trained on everything except that signer
(the shipped model's recipe, on cached features), then calibrated with the signer's first --shots photos per
letter (file-name order), and both are scored on the signer's remaining photos. Prints one line per signer
and, last, one JSON object: mean change, worst signer, and the share of the base model's errors fixed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.cli import number, setup_logging
from core.errors import cli_main
from model import SHIPPED_CHECKPOINT, default_backbone_weights, model_path
from model.augment import Augment
from model.calibration import CalibrationSettings, Shot, calibrate
from model.checkpoint import Checkpoint, load_checkpoint
from model.network import HeadConfig, LetterNet, alexnet_features
from train.data import DatasetError
from train.experiment import ExpertPlan, fit_letters, load_samples, make_split
from train.features import FeatureSet, compute_folder_features, detect_hands, read_image
from train.fit import FitConfig, predict_logits

log = logging.getLogger("train.calibration_study")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m train.calibration_study",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--data",
        nargs="+",
        type=Path,
        required=True,
        help="first folder: the signers to hold out one by one; all folders train the base",
    )
    p.add_argument("--shots", type=number(1, integer=True), default=3, help="calibration photos per letter (default 3)")
    p.add_argument(
        "--recipe", type=model_path, default=SHIPPED_CHECKPOINT, help="checkpoint whose head and fit to copy"
    )
    args = p.parse_args(argv)
    setup_logging(verbose=False, from_command_line=argv is None)

    def work() -> int:
        print(json.dumps(study(args)))
        return 0

    return cli_main(work)


def study(args: argparse.Namespace) -> dict:
    recipe = load_checkpoint(args.recipe)
    classes, preprocess, views = recipe.classes, recipe.preprocess, recipe.info.get("views", 8)
    other_views = recipe.info.get("other_views", views)
    head_config, expert = ExpertPlan.of_recipe(HeadConfig(**recipe.net.head.config.to_dict()), recipe.info)
    fit = FitConfig.from_dict(recipe.info.get("fit", {}))
    backbone = alexnet_features(default_backbone_weights())
    per_dir = load_samples(args.data, None)
    data = FeatureSet.concat(
        compute_folder_features(per_dir, backbone, preprocess, Augment.for_input(preprocess), views, other_views)
    )
    hands = {s: h for s, h in zip(per_dir[0], detect_hands(per_dir[0])) if h is not None}  # rows have one
    rows = []
    for signer in sorted({s.signer for s in per_dir[0]}):
        mine = [i for i, s in enumerate(data.samples) if s.signer == signer and s.letter in classes]
        by_letter: dict[str, list[int]] = {}
        for i in sorted(mine, key=lambda i: data.samples[i].path.name):
            by_letter.setdefault(data.samples[i].letter, []).append(i)
        shot_rows = [i for group in by_letter.values() for i in group[: args.shots]]
        test_rows = [i for i in mine if i not in shot_rows]
        if not test_rows or any(len(g) <= args.shots for g in by_letter.values()):
            log.info("%s: fewer than %d photos for some letter, skipped", signer, args.shots + 1)
            continue
        train_rows = [i for i, s in enumerate(data.samples) if s.signer != signer]
        head, _ = fit_letters(head_config, fit, data, train_rows, classes, expert, torch.device("cpu"))
        base = Checkpoint(LetterNet(backbone, head), classes, preprocess, {})
        shots = [
            Shot(read_image(data.samples[i].path), hands[data.samples[i]], data.samples[i].letter) for i in shot_rows
        ]
        personal = calibrate(base, shots, CalibrationSettings(), signer)
        test = make_split(data, test_rows, classes)
        before = (predict_logits(head, test).argmax(1) == test.labels).numpy()
        after = (predict_logits(personal.net.head, test).argmax(1) == test.labels).numpy()
        row: dict[str, Any] = {
            "signer": signer,
            "photos": len(test_rows),
            "before": round(float(before.mean()), 4),
            "after": round(float(after.mean()), 4),
            "base_errors": int((~before).sum()),
            "fixed": int((~before & after).sum()),
            "broken": int((before & ~after).sum()),
        }
        log.info(
            "%(signer)s: %(photos)d photos, accuracy %(before).2f%% -> %(after).2f%%, "
            "fixed %(fixed)d of %(base_errors)d errors, broke %(broken)d",
            {**row, "before": 100 * row["before"], "after": 100 * row["after"]},
        )
        rows.append(row)
    if not rows:
        raise DatasetError(f"no signer in {args.data[0]} has more than {args.shots} photos of every letter")
    change = [r["after"] - r["before"] for r in rows]
    errors = sum(r["base_errors"] for r in rows)
    return {
        "shots": args.shots,
        "signers": rows,
        "mean_before": round(float(np.mean([r["before"] for r in rows])), 4),
        "mean_after": round(float(np.mean([r["after"] for r in rows])), 4),
        "mean_change": round(float(np.mean(change)), 4),
        "worst_signer": min(rows, key=lambda r: r["after"] - r["before"])["signer"],
        "worst_change": round(float(min(change)), 4),
        "errors_fixed_share": round(sum(r["fixed"] for r in rows) / errors, 4) if errors else None,
    }


if __name__ == "__main__":
    sys.exit(main())
