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

from core.cli import check_output, number, setup_logging
from core.errors import cli_main
from core.letters import ALL_LETTERS, NO_LETTER
from model import DEVICE_CHOICES, default_backbone_weights
from model.network import HeadConfig
from train.fit import FitConfig

log = logging.getLogger("train")


def parse_args(argv: list[str] | None, prog: str | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog=prog or "python -m train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data", nargs="+", type=Path, required=True, help="dataset folders, one folder per letter")
    p.add_argument("--letters", default="ABCDEFGHI", help="the letters to recognise (default: ABCDEFGHI)")
    p.add_argument("--no-reject", action="store_true", help="no 'no letter' class; other letters are dropped")
    p.add_argument("--no-landmarks", action="store_true", help="image-only head")
    p.add_argument(
        "--plain-landmarks",
        action="store_true",
        help="landmark coordinates only, without the finger distances and bends (HandShape in model/network.py)",
    )
    p.add_argument(
        "--flat-hand-shape",
        action="store_true",
        help="finger distances in the image plane, not in 3D (models before 2026-11-26; README)",
    )
    p.add_argument(
        "--image-branch",
        choices=("pointwise", "original"),
        default="pointwise",
        help="the head's CNN over AlexNet features (original: the 5x5-conv baseline design)",
    )
    p.add_argument(
        "--hidden",
        type=int,
        default=HeadConfig.hidden,
        help="width of the head's image branch (default %(default)s; the alphabet model uses 256, README)",
    )
    p.add_argument(
        "--image-dropout",
        type=number(0, 1),
        default=HeadConfig.image_dropout,
        help="share of training samples classified from landmarks alone (modality dropout)",
    )
    p.add_argument(
        "--no-letter-offset",
        type=number(-20, 20),
        default=0.0,
        help="subtracted from the no-letter logit at prediction: trades rejection of other letters "
        "for A-I accuracy (the CV prints both over a range of offsets)",
    )
    p.add_argument(
        "--expert-letters",
        help="also train a head over these letters alone (others: no letter) and multiply its opinion in "
        "(a product of experts, model/network.py; README, 'An A-I expert': tried, not shipped)",
    )
    p.add_argument(
        "--expert-data",
        nargs="+",
        type=Path,
        help="the --data folders the expert learns from (default: all of them)",
    )
    p.add_argument("--expert-hidden", type=int, default=HeadConfig.hidden, help="the expert's head width")
    p.add_argument(
        "--expert-weight", type=number(0, 10), default=1.0, help="the expert's exponent in the product (default 1)"
    )
    p.add_argument(
        "--expert-offset",
        type=number(-20, 20),
        default=1.75,
        help="the expert's own no-letter offset, applied before its opinion is multiplied in (default 1.75)",
    )
    p.add_argument("--hand-focus", action="store_true", help="fade all but the hand to grey (see core/crop.py)")
    p.add_argument(
        "--mirror-left-hands",
        action="store_true",
        help="mirror every left hand into a right one, in training and in use, instead of mirroring at random",
    )
    p.add_argument("--published-labels", action="store_true", help="do not apply train/label_fixes.csv")
    p.add_argument("--cv", type=int, metavar="K", help="signer-grouped K-fold cross-validation instead")
    p.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="with --cv: heads trained per fold (head seeds --seed, --seed + 1, ...) on the same folds "
        "and features, scores averaged: one head's score on a few hundred photos moves by about "
        "a point with its seed alone (README)",
    )
    p.add_argument(
        "--save-folds",
        type=Path,
        metavar="DIR",
        help="with --cv: write each fold's model as DIR/fold<k>.pt, naming in its info the signers it never saw "
        "(models for judging unseen people, as the word test does)",
    )
    p.add_argument(
        "--val-fraction",
        type=number(0, 1),
        default=0.15,
        help="share of the first folder's signers held out for validation (default 0.15)",
    )
    p.add_argument("--epochs", type=int, default=FitConfig.epochs)
    p.add_argument("--lr", type=number(0, 1, low_open=True), default=FitConfig.lr)
    p.add_argument("--views", type=int, default=8, help="crops per image: 1 clean + augmented (default 8)")
    p.add_argument(
        "--other-views",
        type=int,
        help="crops per image of the second and later --data folders (default: --views); they teach "
        "other letters and scenes, and fewer views there train faster at no loss (README)",
    )
    p.add_argument(
        "--label-smoothing",
        type=number(0, 1),
        default=FitConfig.label_smoothing,
        help="cross-entropy label smoothing (default %(default)s)",
    )
    p.add_argument(
        "--spare-no-letter",
        action="store_true",
        help="smooth over the letters only, no-letter targets one-hot: more rejection and less A-I "
        "accuracy at a given --no-letter-offset (README)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, help="use only the first N images of each letter folder (smoke runs)")
    p.add_argument(
        "--backbone",
        type=Path,
        default=default_backbone_weights(),
        help="AlexNet features weights file (default: ../shared copy, else torchvision download)",
    )
    p.add_argument(
        "--device",
        default="auto",
        choices=DEVICE_CHOICES,
        help="where the backbone features and the head are computed (default: CUDA, else MPS, else CPU)",
    )
    p.add_argument("--out", type=Path, default=Path("runs/train"), help="folder for metrics and plots")
    p.add_argument("--checkpoint", type=Path, help="where to write the model (default: OUT/asl_letters.pt)")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    args.letters = list(dict.fromkeys(args.letters.upper()))
    if not args.letters or set(args.letters) - set(ALL_LETTERS):
        p.error("--letters takes letters A-Z, like ABCDEFGHI")
    if args.expert_letters is not None:
        args.expert_letters = list(dict.fromkeys(args.expert_letters.upper()))
        if not args.expert_letters or set(args.expert_letters) - set(args.letters):
            p.error("--expert-letters must be some of --letters, like ABCDEFGHI")
        if args.no_reject:
            p.error("--expert-letters needs the no-letter class (leave out --no-reject)")
    if args.expert_data is not None:
        if args.expert_letters is None:
            p.error("--expert-data needs --expert-letters")
        unknown = [str(d) for d in args.expert_data if d.resolve() not in {e.resolve() for e in args.data}]
        if unknown:
            p.error(f"--expert-data must be some of the --data folders: {', '.join(unknown)} is not")
    if args.other_views is None:
        args.other_views = args.views
    if min(args.views, args.other_views, args.epochs, args.repeats, args.hidden, args.expert_hidden) < 1:
        p.error("--views, --other-views, --epochs, --repeats, --hidden and --expert-hidden must be at least 1")
    if args.repeats > 1 and not args.cv:
        p.error("--repeats needs --cv")
    if args.save_folds and not args.cv:
        p.error("--save-folds needs --cv")
    if not 0 <= args.label_smoothing < 1:
        p.error("--label-smoothing must be in [0, 1)")
    if not 0 <= args.val_fraction < 1:
        p.error("--val-fraction must be in [0, 1)")
    return args


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    args = parse_args(argv, prog)
    setup_logging(args.verbose, from_command_line=argv is None)
    return cli_main(lambda: run(args))


def run(args: argparse.Namespace) -> int:
    from model.augment import Augment
    from model.device import pick_device
    from model.network import alexnet_features
    from model.preprocess import Preprocess
    from train.data import dataset_name
    from train.experiment import (
        ExpertPlan,
        choose_classes,
        cross_validate,
        fold_saver,
        gather_features,
        load_samples,
        train_and_save,
    )

    started = time.time()
    check_output(args.out, "--out", folder=True)  # before the work: a typo must not cost a training run
    if args.checkpoint:
        check_output(args.checkpoint, "--checkpoint", replaced=True)
    if args.save_folds:
        check_output(args.save_folds, "--save-folds", folder=True)
    device = pick_device(args.device)  # before anything slow: a missing GPU is reported at once
    backbone = alexnet_features(args.backbone).to(device)  # a bad weights file too
    per_dir = load_samples(args.data, args.limit, args.published_labels)
    classes = choose_classes(per_dir, args.letters, reject=not args.no_reject)
    preprocess = Preprocess(hand_focus=args.hand_focus, mirror_left_hands=args.mirror_left_hands)
    augment = Augment.for_input(preprocess)
    log.info("computing on %s", device)
    data, first = gather_features(
        args.data, per_dir, backbone, preprocess, augment, args.views, args.other_views, args.seed
    )
    reject = NO_LETTER in classes
    head_config = HeadConfig(
        len(classes),
        use_landmarks=not args.no_landmarks,
        image_branch=args.image_branch,
        hidden=args.hidden,
        image_dropout=args.image_dropout,
        hand_shape=not args.plain_landmarks,
        shape_depth=not args.flat_hand_shape,
        no_letter_offset=args.no_letter_offset if reject else 0.0,
    )
    fit = FitConfig(
        epochs=args.epochs,
        lr=args.lr,
        seed=args.seed,
        label_smoothing=args.label_smoothing,
        spare_no_letter=reject and args.spare_no_letter,
    )
    names = [dataset_name(d) for d in args.data]
    expert = None
    if args.expert_letters:
        expert_classes = choose_classes(per_dir, args.expert_letters, reject=True)
        expert_config = replace(
            head_config, num_classes=len(expert_classes), hidden=args.expert_hidden, no_letter_offset=args.expert_offset
        )
        expert_data = [dataset_name(d) for d in args.expert_data or args.data]
        expert = ExpertPlan(expert_classes, expert_config, tuple(expert_data), args.expert_weight)
    if args.cv:
        about = {"label_fixes": not args.published_labels, "data": [str(d) for d in args.data]}
        if expert is not None:
            about["expert"] = expert.about()
        save_fold = None
        if args.save_folds:
            save_fold = fold_saver(args.save_folds, backbone.cpu(), classes, preprocess, {"data": names, **about})
        summary = cross_validate(
            data, first, classes, head_config, fit, device, args.cv, args.repeats, args.out, about, expert, save_fold
        )
        print(json.dumps(summary))
    else:
        info = {
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "data": names,
            "fit": fit.to_dict(),
            "views": args.views,
            "other_views": args.other_views,
            "augment": augment.to_dict(),
            "seed": args.seed,
            "device": device.type,
        }
        if expert is not None:
            info["expert"] = expert.about()
        train_and_save(
            data,
            first,
            classes,
            head_config,
            fit,
            device,
            backbone.cpu(),
            preprocess,
            args.val_fraction,
            args.out,
            args.checkpoint or args.out / "asl_letters.pt",
            info,
            expert,
        )
    log.info("done in %.0f s", time.time() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
