"""python -m train.anchors --model FILE --data FOLDER...: give a trained checkpoint what calibration needs.

Calibration (``model.calibration``) must leave the shared model's answers as they were wherever a person's shots
do not say otherwise, so the checkpoint carries anchors: a few of its training photos of each class, as
embeddings with the model's logits for them. ``python -m train`` chooses them when it saves a model; this adds
them to a checkpoint trained before, from the clean crops of the folders it was trained on (its info lists them).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from core.cli import check_output, setup_logging
from core.errors import cli_main
from model import default_backbone_weights, model_path
from model.augment import Augment
from model.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from model.network import LetterNet, alexnet_features
from train.experiment import load_samples, with_training_anchors
from train.features import FeatureSet, compute_folder_features

log = logging.getLogger("train.anchors")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.anchors", description=__doc__)
    p.add_argument("--model", type=model_path, required=True, help="checkpoint to add the statistics to")
    p.add_argument("--data", nargs="+", type=Path, required=True, help="the folders the checkpoint was trained on")
    p.add_argument("--out", type=Path, help="write here instead of over --model")
    args = p.parse_args(argv)
    setup_logging(verbose=False, from_command_line=argv is None)

    def work() -> int:
        out = check_output(args.out or args.model, "--out", replaced=True)
        base = load_checkpoint(args.model)
        backbone = alexnet_features(default_backbone_weights())
        per_dir = load_samples(args.data, None)
        augment = Augment.for_input(base.preprocess)
        data = FeatureSet.concat(compute_folder_features(per_dir, backbone, base.preprocess, augment, 1, 1))
        head = with_training_anchors(base.net.head, data, list(range(len(data.samples))), base.classes)
        save_checkpoint(out, Checkpoint(LetterNet(base.net.backbone, head), base.classes, base.preprocess, base.info))
        print(f"wrote {out}: {head.config.anchors} anchors from {len(data.samples)} training photos")
        return 0

    return cli_main(work)


if __name__ == "__main__":
    sys.exit(main())
