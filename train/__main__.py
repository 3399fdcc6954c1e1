"""python -m train --data DIR [DIR ...]: train the head and write checkpoint, metrics and plots.

Letters outside ``--letters`` become the "no letter" class (unless ``--no-reject``), so that a hand showing
another sign gets no confident letter. ``--cv K`` instead runs signer-grouped K-fold cross-validation over the
signers of the first ``--data`` folder (the other folders always train) and reports mean and spread.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from model import default_backbone_weights
from model.checkpoint import NO_LETTER, Checkpoint, CheckpointError, save_checkpoint
from model.device import DEVICE_CHOICES, pick_device
from model.network import HeadConfig, LetterNet, alexnet_features
from model.preprocess import Preprocess
from train.augment import Augment
from train.data import DatasetError, Sample, dataset_name, discover
from train.evaluate import NO_HAND, per_letter_scores
from train.features import FeatureSet, compute_folder_features
from train.fit import FitConfig, Split, confusion, fit_head, predict_logits
from train.plots import plot_confusion, plot_curves
from train.splits import signer_folds, signer_holdout

log = logging.getLogger("train")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", nargs="+", type=Path, required=True, help="dataset folders, one folder per letter")
    p.add_argument("--letters", default="ABCDEFGHI", help="the letters to recognise (default: ABCDEFGHI)")
    p.add_argument("--no-reject", action="store_true", help="no 'no letter' class; other letters are dropped")
    p.add_argument("--no-landmarks", action="store_true", help="image-only head")
    p.add_argument("--plain-landmarks", action="store_true",
                   help="landmark coordinates only, without the finger distances and bends "
                        "(HandShape in model/network.py)")
    p.add_argument("--flat-hand-shape", action="store_true",
                   help="finger distances in the image plane, not in 3D (models before 2026-11-26; README)")
    p.add_argument("--image-branch", choices=("pointwise", "original"), default="pointwise",
                   help="the head's CNN over AlexNet features (original: the 5x5-conv baseline design)")
    p.add_argument("--image-dropout", type=float, default=HeadConfig.image_dropout,
                   help="share of training samples classified from landmarks alone (modality dropout)")
    p.add_argument("--no-letter-offset", type=float, default=0.0,
                   help="subtracted from the no-letter logit at prediction: trades rejection of other letters "
                        "for A-I accuracy (the CV prints both over a range of offsets)")
    p.add_argument("--hand-focus", action="store_true", help="fade all but the hand to grey (see realtime/crop.py)")
    p.add_argument("--published-labels", action="store_true", help="do not apply train/label_fixes.csv")
    p.add_argument("--cv", type=int, metavar="K", help="signer-grouped K-fold cross-validation instead")
    p.add_argument("--repeats", type=int, default=1,
                   help="with --cv: heads trained per fold (head seeds --seed, --seed + 1, ...) on the same folds "
                        "and features, scores averaged: one head's score on a few hundred photos moves by about "
                        "a point with its seed alone (README)")
    p.add_argument("--val-fraction", type=float, default=0.15,
                   help="share of the first folder's signers held out for validation (default 0.15)")
    p.add_argument("--epochs", type=int, default=FitConfig.epochs)
    p.add_argument("--lr", type=float, default=FitConfig.lr)
    p.add_argument("--views", type=int, default=8, help="crops per image: 1 clean + augmented (default 8)")
    p.add_argument("--other-views", type=int,
                   help="crops per image of the second and later --data folders (default: --views); they teach "
                        "other letters and scenes, and fewer views there train faster at no loss (README)")
    p.add_argument("--label-smoothing", type=float, default=FitConfig.label_smoothing,
                   help="cross-entropy label smoothing (default %(default)s)")
    p.add_argument("--spare-no-letter", action="store_true",
                   help="smooth over the letters only, no-letter targets one-hot: more rejection and less A-I "
                        "accuracy at a given --no-letter-offset (README)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, help="use only the first N images of each letter folder (smoke runs)")
    p.add_argument("--backbone", type=Path, default=default_backbone_weights(),
                   help="AlexNet features weights file (default: ../shared copy, else torchvision download)")
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES,
                   help="where the backbone features and the head are computed (default: CUDA, else MPS, else CPU)")
    p.add_argument("--out", type=Path, default=Path("runs/train"), help="folder for metrics and plots")
    p.add_argument("--checkpoint", type=Path, help="where to write the model (default: OUT/asl_letters.pt)")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    args.letters = list(dict.fromkeys(args.letters.upper()))
    if args.other_views is None:
        args.other_views = args.views
    if min(args.views, args.other_views, args.epochs, args.repeats) < 1:
        p.error("--views, --other-views, --epochs and --repeats must be at least 1")
    if args.repeats > 1 and not args.cv:
        p.error("--repeats needs --cv")
    if not 0 <= args.label_smoothing < 1:
        p.error("--label-smoothing must be in [0, 1)")
    if not 0 <= args.val_fraction < 1:
        p.error("--val-fraction must be in [0, 1)")
    return args


def load_samples(dirs: list[Path], limit: int | None, published_labels: bool = False) -> list[list[Sample]]:
    per_dir = []
    for d in dirs:
        samples = discover(d, fixes=not published_labels)
        if limit:
            by_letter: dict[str, list[Sample]] = {}
            for s in samples:
                by_letter.setdefault(s.letter, []).append(s)
            samples = [s for group in by_letter.values() for s in group[:limit]]
        per_dir.append(samples)
    return per_dir


def class_index(classes: list[str], letter: str) -> int | None:
    if letter in classes:
        return classes.index(letter)
    return classes.index(NO_LETTER) if NO_LETTER in classes else None


def make_split(fs: FeatureSet, rows: list[int], classes: list[str]) -> Split:
    labels = [class_index(classes, fs.samples[r].letter) for r in rows]
    keep = [r for r, y in zip(rows, labels) if y is not None]
    return Split(fs.features[keep], fs.landmarks[keep],
                 torch.tensor([y for y in labels if y is not None], dtype=torch.long),
                 None if fs.views is None else fs.views[keep], [fs.samples[r].letter for r in keep])


def score(head, fs: FeatureSet, rows: list[int], missing: list[Sample], classes: list[str]) -> dict:
    split = make_split(fs, rows, classes)
    return score_logits(predict_logits(head, split), split.labels, missing, classes)


def score_logits(logits: torch.Tensor, labels: torch.Tensor, missing: list[Sample], classes: list[str],
                 with_confusion: bool = True) -> dict:
    """Accuracy on known letters (images with no hand found count as wrong) and, for other letters, the share
    given no letter; with a confusion matrix over the classes found."""
    pred = logits.argmax(1).numpy() if len(labels) else np.zeros(0, int)
    true = labels.numpy()
    known = np.array([classes[t] != NO_LETTER for t in true], dtype=bool)
    missed_known = sum(1 for s in missing if s.letter in classes)
    n_known = int(known.sum()) + missed_known
    result = {"images": n_known, "hands_found": int(known.sum()),
              "accuracy": float((pred[known] == true[known]).sum() / n_known) if n_known else None}
    others = ~known
    missed_other = sum(1 for s in missing if s.letter not in classes)
    if NO_LETTER in classes and (others.any() or missed_other):
        # no hand found is also "no letter given"
        rejected = int((pred[others] == classes.index(NO_LETTER)).sum()) + missed_other
        result["rejection_rate"] = rejected / (int(others.sum()) + missed_other)
    if with_confusion:
        result["confusion"] = confusion(true, pred, len(classes)).tolist()
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    try:
        run(args)
    except (DatasetError, CheckpointError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def run(args: argparse.Namespace) -> None:
    started = time.time()
    device = pick_device(args.device)  # before anything slow: a missing GPU is reported at once
    per_dir = load_samples(args.data, args.limit, args.published_labels)
    all_letters = {s.letter for samples in per_dir for s in samples}
    absent = [l for l in args.letters if l not in all_letters]
    if absent:
        raise DatasetError(f"no images of {', '.join(absent)} in {', '.join(map(str, args.data))}")
    reject = not args.no_reject and bool(all_letters - set(args.letters))
    classes = args.letters + ([NO_LETTER] if reject else [])
    preprocess, augment = Preprocess(hand_focus=args.hand_focus), Augment()
    if args.backbone is not None and not args.backbone.is_file():
        raise FileNotFoundError(f"backbone weights not found: {args.backbone}")
    log.info("computing on %s", device)
    backbone = alexnet_features(args.backbone).to(device)
    sets = compute_folder_features(per_dir, backbone, preprocess, augment, args.views, args.other_views, args.seed)
    for d, samples, fs in zip(args.data, per_dir, sets):
        log.info("%s: %d images, hand found in %d, not found in %d", dataset_name(d), len(samples),
                 len(fs.samples), len(fs.missing))
    data = FeatureSet.concat(sets)
    first = {s.signer for s in per_dir[0]}
    head_config = HeadConfig(len(classes), use_landmarks=not args.no_landmarks, image_branch=args.image_branch,
                             image_dropout=args.image_dropout, hand_shape=not args.plain_landmarks,
                             shape_depth=not args.flat_hand_shape,
                             no_letter_offset=args.no_letter_offset if reject else 0.0)
    fit = FitConfig(epochs=args.epochs, lr=args.lr, seed=args.seed, label_smoothing=args.label_smoothing,
                    spare_no_letter=reject and args.spare_no_letter)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.cv:
        cross_validate(args, data, first, classes, head_config, fit, device)
    else:
        train_and_save(args, data, first, classes, head_config, fit, device, backbone.cpu(), preprocess, augment)
    log.info("done in %.0f s", time.time() - started)


def held_out(data: FeatureSet, test_signers: set[str]) -> tuple[list[int], list[int], list[Sample]]:
    train_rows = [i for i, s in enumerate(data.samples) if s.signer not in test_signers]
    test_rows = [i for i, s in enumerate(data.samples) if s.signer in test_signers]
    missing = [s for s in data.missing if s.signer in test_signers]
    return train_rows, test_rows, missing


def cross_validate(args, data: FeatureSet, first: set[str], classes, head_config, fit, device) -> None:
    first_samples = [s for s in data.samples + data.missing if s.signer in first]
    folds = signer_folds(first_samples, args.cv, args.seed)
    results, held, letters, predicted = [], [], [], []
    for k, (_, test_idx) in enumerate(folds):
        test_signers = {first_samples[i].signer for i in test_idx}
        train_rows, test_rows, missing = held_out(data, test_signers)
        train, test = make_split(data, train_rows, classes), make_split(data, test_rows, classes)
        missed = [s.letter for s in missing if class_index(classes, s.letter) is not None]
        for repeat in range(args.repeats):
            head, _ = fit_head(head_config, replace(fit, seed=fit.seed + repeat), train, device=device)
            logits = predict_logits(head, test)
            r = score_logits(logits, test.labels, missing, classes)
            held.append((logits, test.labels, missing))
            letters += test.letters + missed
            predicted += [classes[c] for c in logits.argmax(1).tolist()] + [NO_HAND] * len(missed)
            log.info("fold %d/%d%s: %d signers, %d images, accuracy %.4f", k + 1, args.cv,
                     f", repeat {repeat + 1}/{args.repeats}" if args.repeats > 1 else "", len(test_signers),
                     r["images"], r["accuracy"])
            results.append(r)
    runs = np.array([r["accuracy"] for r in results]).reshape(-1, args.repeats)
    accs = runs.mean(axis=1)  # per fold, over its repeats
    summary = {"folds": args.cv, "classes": classes, "head": head_config.to_dict(),
               "label_fixes": not args.published_labels,
               "fold_accuracy": accs.round(4).tolist(), "mean_accuracy": float(accs.mean()),
               "std_accuracy": float(accs.std(ddof=1)), "data": [str(d) for d in args.data]}
    if args.repeats > 1:
        per_repeat = runs.mean(axis=0)
        summary["repeat_accuracy"] = per_repeat.round(4).tolist()
        log.info("mean accuracy of each repeat: %s", " ".join(f"{100 * a:.2f}%" for a in per_repeat))
    summary["per_letter"] = per_letter_scores(letters, predicted, set(classes) - {NO_LETTER})
    log.info("per letter, all folds (other letters: given no letter): %s",
             " ".join(f"{k} {100 * v:.0f}%" for k, v in summary["per_letter"].items()))
    rejections = [r["rejection_rate"] for r in results if "rejection_rate" in r]
    if rejections:
        summary["mean_rejection_rate"] = float(np.mean(rejections))
        log.info("held-out other letters given no letter: %.2f%%", 100 * summary["mean_rejection_rate"])
    if NO_LETTER in classes:
        summary["no_letter_offsets"] = offset_sweep(held, classes, head_config.no_letter_offset)
    cm = np.sum([r["confusion"] for r in results], axis=0)
    plot_confusion(cm, classes, classes, args.out / "cv_confusion.png",
                   f"{args.cv}-fold signer CV, mean accuracy {accs.mean():.2%}")
    (args.out / "cv.json").write_text(json.dumps(summary, indent=2))
    log.info("cross-validation: mean accuracy %.2f%% (std %.2f, min %.2f%%)", 100 * accs.mean(),
             100 * accs.std(ddof=1), 100 * accs.min())
    print(json.dumps(summary))


OFFSETS = (*(k / 4 for k in range(17)), float("inf"))  # 0 to 4 in steps of 0.25, then never


def offset_sweep(held: list, classes: list[str], trained_offset: float) -> list[dict]:
    """Mean accuracy and rejection over the folds (and repeats) had the no-letter offset been each of OFFSETS
    (inf: the no-letter class never wins), from the held-out logits: the numbers to choose --no-letter-offset by."""
    rows = []
    for offset in OFFSETS:
        shift = torch.zeros(len(classes))
        shift[-1] = trained_offset - offset
        folds = [score_logits(logits + shift, labels, missing, classes, with_confusion=False)
                 for logits, labels, missing in held]
        row = {"offset": offset if np.isfinite(offset) else "never",
               "accuracy": round(float(np.mean([f["accuracy"] for f in folds])), 4)}
        if all("rejection_rate" in f for f in folds):
            row["rejection_rate"] = round(float(np.mean([f["rejection_rate"] for f in folds])), 4)
        rows.append(row)
        log.info("no-letter offset %s: accuracy %.2f%%%s", row["offset"], 100 * row["accuracy"],
                 f", rejection {100 * row['rejection_rate']:.2f}%" if "rejection_rate" in row else "")
    return rows


def train_and_save(args, data: FeatureSet, first: set[str], classes, head_config, fit, device, backbone,
                   preprocess, augment) -> None:
    first_samples = [s for s in data.samples + data.missing if s.signer in first]
    _, val_idx = signer_holdout(first_samples, args.val_fraction, args.seed)
    val_signers = {first_samples[i].signer for i in val_idx}
    train_rows, val_rows, val_missing = held_out(data, val_signers)
    val_split = make_split(data, val_rows, classes) if val_rows else None
    head, history = fit_head(head_config, fit, make_split(data, train_rows, classes), val_split, device=device)
    plot_curves(history, args.out / "curves.png")
    metrics = {"classes": classes, "train_images": len(train_rows),
               "hands_not_found": {name: sum(1 for s in data.missing if s.signer.startswith(name + "/"))
                                   for name in map(dataset_name, args.data)},
               "last_epoch": history[-1]}
    if val_rows:
        val = score(head, data, val_rows, val_missing, classes)
        metrics["validation"] = {"signers": sorted(val_signers), **val}
        plot_confusion(np.array(val["confusion"]), classes, classes, args.out / "confusion.png",
                       f"held-out signers ({len(val_signers)}), accuracy {val['accuracy']:.2%}")
        log.info("validation on %d held-out signers: accuracy %.2f%%", len(val_signers), 100 * val["accuracy"])
    info = {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "data": [dataset_name(d) for d in args.data], "fit": fit.to_dict(), "views": args.views,
            "other_views": args.other_views,
            "augment": augment.to_dict(), "seed": args.seed, "device": device.type, "metrics": metrics}
    ckpt_path = args.checkpoint or args.out / "asl_letters.pt"
    save_checkpoint(ckpt_path, Checkpoint(LetterNet(backbone, head), classes, preprocess, info))
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    log.info("wrote %s, %s", ckpt_path, args.out / "metrics.json")


if __name__ == "__main__":
    sys.exit(main())
