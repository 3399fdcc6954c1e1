"""python -m train.calibration_study: does calibrating help people the model never saw, and never hurt them?

The signers (sessions, for webcam sets) of the --people folders are split into --folds groups. For each group a
base head is trained on everything else (the --recipe checkpoint's head and fit, on cached features) and given
its training statistics, as ``python -m train`` does. Each person of the group is then calibrated on their first
N photos of each letter (file-name order: for a webcam session, the first frames), through the same functions
as ``calibrate.py`` and the page (``model.calibration``), and judged on all their other photos, before and after:
- ``all``: every letter that has more than N photos is calibrated;
- ``worst3``: only the person's three worst letters (most base errors on their other photos: what practice and
  spelling find), the others left as they were.
``--compare-finetune`` also scores the method used until 0.17 (the whole head fine-tuned on the shots). Prints
a table (errors before and after, the share cut, the most any letter's accuracy fell, people made worse) and
writes every number, per person and per letter, to --out as JSON.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import random
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from core.cli import check_output, number, setup_logging
from core.errors import cli_main
from model import SHIPPED_CHECKPOINT, default_backbone_weights, model_path
from model.augment import Augment
from model.calibration import CalibrationSettings, Shot, fit_personal, flat_views, shot_embeddings, shot_features
from model.checkpoint import Checkpoint, load_checkpoint
from model.network import HeadConfig, LetterHead, LetterNet, alexnet_features
from train.data import DatasetError, Sample, dataset_name
from train.experiment import ExpertPlan, fit_letters, load_samples, make_split, with_training_anchors
from train.features import FeatureSet, compute_folder_features, detect_hands, read_image
from train.fit import FitConfig, Split

log = logging.getLogger("train.calibration_study")
WORST = 3


@dataclass
class Person:
    signer: str
    rows: list[int]  # rows of the feature set, each letter's in file-name order
    shot_features: tuple[torch.Tensor, torch.Tensor]  # the first max(--shots) photos of each letter, all views
    shot_letters: list[str]
    shot_rank: list[int]  # each shot's place among its letter's photos


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m train.calibration_study",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", nargs="+", type=Path, required=True, help="every folder the bases train on")
    p.add_argument("--people", nargs="+", help="names of the --data folders whose signers are studied (default: first)")
    p.add_argument("--shots", nargs="+", type=number(1, integer=True), default=[1, 3, 5], help="photos per letter")
    p.add_argument("--folds", type=number(2, integer=True), default=3, help="groups of people (default 3)")
    p.add_argument("--views", type=number(1, integer=True), default=2, help="views per photo the bases train on")
    p.add_argument("--epochs", type=number(1, integer=True), help="the bases' epochs (default: the recipe's)")
    p.add_argument("--shot-weight", nargs="+", type=float, default=[CalibrationSettings.shot_weight])
    p.add_argument("--reach", nargs="+", type=float, default=[CalibrationSettings.reach])
    p.add_argument("--compare-finetune", action="store_true", help="also score the method used until 0.17")
    p.add_argument("--recipe", type=model_path, default=SHIPPED_CHECKPOINT, help="checkpoint whose head to copy")
    p.add_argument("--out", type=Path, default=Path("runs/calibration_study.json"), help="every number, as JSON")
    args = p.parse_args(argv)
    setup_logging(verbose=False, from_command_line=argv is None)

    def work() -> int:
        check_output(args.out, "--out", replaced=True)
        summary = study(args)
        args.out.write_text(json.dumps(summary, indent=1))
        print(table(summary["results"]))
        print(f"every number: {args.out}")
        return 0

    return cli_main(work)


def study(args: argparse.Namespace) -> dict:
    recipe = load_checkpoint(args.recipe)
    classes, preprocess = recipe.classes, recipe.preprocess
    head_config, expert = ExpertPlan.of_recipe(HeadConfig(**recipe.net.head.config.to_dict()), recipe.info)
    fit = FitConfig.from_dict(recipe.info.get("fit", {}))
    fit = replace(fit, epochs=args.epochs or fit.epochs)
    backbone = alexnet_features(default_backbone_weights())
    per_dir = load_samples(args.data, None)
    names = [dataset_name(d) for d in args.data]
    studied = args.people or names[:1]
    if unknown := sorted(set(studied) - set(names)):
        raise DatasetError(f"--people {' '.join(unknown)}: not among the --data folders ({' '.join(names)})")
    augment = Augment.for_input(preprocess)
    data = FeatureSet.concat(compute_folder_features(per_dir, backbone, preprocess, augment, args.views, args.views))
    base_for_shots = Checkpoint(LetterNet(backbone, recipe.net.head), classes, preprocess, {})
    settings = [CalibrationSettings(shot_weight=w, reach=r) for w in args.shot_weight for r in args.reach]
    people = gather_people(data, per_dir, names, studied, classes, max(args.shots), base_for_shots, settings[0])
    signers = sorted(people)
    random.Random(0).shuffle(signers)
    fold_of = {s: i % args.folds for i, s in enumerate(signers)}
    outcomes: dict[str, list[dict]] = defaultdict(list)
    for k in range(args.folds):
        mine = [s for s in signers if fold_of[s] == k]
        train_rows = [i for i, s in enumerate(data.samples) if s.signer not in mine]
        log.info(
            "fold %d of %d: %d people held out, base trained on %d photos",
            k + 1,
            args.folds,
            len(mine),
            len(train_rows),
        )
        head, _ = fit_letters(head_config, fit, data, train_rows, classes, expert, torch.device("cpu"))
        head = with_training_anchors(head, data, train_rows, classes)
        for signer in tqdm(mine, desc=f"fold {k + 1} people", unit="person", leave=False):
            for key, rows in judge(head, data, people[signer], classes, args.shots, settings, args.compare_finetune):
                outcomes[key] += rows
    return {
        "recipe": str(args.recipe),
        "data": names,
        "people": studied,
        "folds": args.folds,
        "views": args.views,
        "epochs": fit.epochs,
        "results": {key: summarise(rows, classes) for key, rows in outcomes.items()},
    }


def gather_people(
    data: FeatureSet,
    per_dir: list[list[Sample]],
    names: list[str],
    studied: list[str],
    classes: list[str],
    most: int,
    base: Checkpoint,
    settings: CalibrationSettings,
) -> dict[str, Person]:
    """Each studied signer's rows and the backbone features of the first ``most`` photos of each letter, as
    calibration computes them (views of the photo; no fold's head needed yet)."""
    hands: dict[Path, np.ndarray] = {}
    for name, samples in zip(names, per_dir):
        if name in studied:
            hands.update((s.path, h) for s, h in zip(samples, detect_hands(samples)) if h is not None)
    by_signer: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(data.samples):
        if s.path in hands and s.letter in classes:
            by_signer[s.signer].append(i)
    people = {}
    for signer, rows in tqdm(sorted(by_signer.items()), desc="shots of each person", unit="person", leave=False):
        rows.sort(key=lambda i: (data.samples[i].letter, data.samples[i].path.name))
        rank = Counter[str]()
        picks, ranks = [], []
        for i in rows:
            letter = data.samples[i].letter
            if rank[letter] < most:
                picks.append(i)
                ranks.append(rank[letter])
            rank[letter] += 1
        shots = [
            Shot(read_image(data.samples[i].path), hands[data.samples[i].path], data.samples[i].letter) for i in picks
        ]
        people[signer] = Person(signer, rows, shot_features(base, shots, settings), [s.label for s in shots], ranks)
    if not people:
        raise DatasetError(f"no photos with a hand of the letters {''.join(classes[:-1])} in {' '.join(studied)}")
    return people


def judge(
    head: LetterHead,
    data: FeatureSet,
    person: Person,
    classes: list[str],
    shot_counts: list[int],
    settings: list[CalibrationSettings],
    compare_finetune: bool,
) -> list[tuple[str, list[dict]]]:
    """Per method and scenario, this person's outcome rows: one per judged photo (letter, right before, after)."""
    split = make_split(data, person.rows, classes)
    with torch.inference_mode():
        z = head.embed(split.features[:, 0].float(), split.landmarks[:, 0])
        base_logits = head(split.features[:, 0].float(), split.landmarks[:, 0], no_letter_offset=0.0)
    offset = torch.zeros(len(classes))
    offset[-1] = head.config.no_letter_offset  # applied after the personal layer, as in the head
    shot_z, shot_logits = shot_embeddings(head, *person.shot_features)
    letters = [data.samples[i].letter for i in person.rows]
    rank = Counter[str]()
    order = []
    for letter in letters:
        order.append(rank[letter])
        rank[letter] += 1
    out = []
    for n in shot_counts:
        calibratable = sorted(k for k, count in rank.items() if count > n)
        test = [i for i, r in enumerate(order) if r >= n]
        if not calibratable or not test:
            continue
        before = (base_logits[test] - offset).argmax(1) == split.labels[test]
        errors = Counter(letters[i] for i, ok in zip(test, before.tolist()) if not ok)
        scenarios = {"all": calibratable}
        worst = [k for k, _ in errors.most_common(WORST) if k in calibratable]
        if worst:
            scenarios["worst3"] = worst
            # with the letters the base took them for: this person's own hands of those, as counter-examples
            read = (base_logits[test] - offset).argmax(1).tolist()
            partners = set()
            for w in worst:
                wrong = Counter(classes[r] for i, r in zip(test, read) if letters[i] == w and classes[r] != w)
                partners |= {k for k, _ in wrong.most_common(1) if k in calibratable}
            scenarios["worst3 and what they were read as"] = sorted({*worst, *partners})
        for scenario, chosen in scenarios.items():
            shots = [
                j for j, (lt, r) in enumerate(zip(person.shot_letters, person.shot_rank)) if lt in chosen and r < n
            ]
            labels = [person.shot_letters[j] for j in shots]
            y = torch.tensor([classes.index(label) for label in labels])
            methods = {}
            for s in settings:
                layer = fit_personal(head, *flat_views(shot_z[shots], shot_logits[shots], y), s)
                name = f"anchored (shot weight {s.shot_weight:g}, reach {s.reach:g})"
                with torch.no_grad():
                    methods[name] = base_logits[test] + layer(z[test]) - offset
            if compare_finetune:
                methods["fine-tuned head (until 0.17)"] = finetuned_logits(head, person, shots, y, split, test)
            for method, logits in methods.items():
                after = logits.argmax(1) == split.labels[test]
                rows = [
                    {
                        "person": person.signer,
                        "letter": letters[i],
                        "before": bool(b),
                        "after": bool(a),
                        "shot": letters[i] in chosen,
                    }
                    for i, b, a in zip(test, before.tolist(), after.tolist())
                ]
                out.append((f"{method} | {n} shots | {scenario}", rows))
    return out


def finetuned_logits(
    head: LetterHead, person: Person, shots: list[int], labels: torch.Tensor, split: Split, test: list[int]
) -> torch.Tensor:
    """The method used until 0.17: every head weight fine-tuned on the shots' views, pulled towards the base
    weights (L2-SP, 1e-2), Adam 3e-4, 40 epochs of batches of 64."""
    features, landmarks = person.shot_features
    x = features[shots].reshape(-1, *features.shape[2:]).float()
    lm = landmarks[shots].reshape(-1, landmarks.shape[-1])
    y = labels.repeat_interleave(features.shape[1])
    torch.manual_seed(0)
    tuned = copy.deepcopy(head).train()
    anchor = [p.detach().clone() for p in tuned.parameters()]
    opt = torch.optim.Adam(tuned.parameters(), lr=3e-4)
    for _ in range(40):
        for idx in torch.randperm(len(y)).split(64):
            loss = nn.functional.cross_entropy(tuned(x[idx], lm[idx]), y[idx])
            loss = loss + 1e-2 * sum(((p - a) ** 2).sum() for p, a in zip(tuned.parameters(), anchor))
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.inference_mode():
        return tuned.eval()(split.features[test, 0].float(), split.landmarks[test, 0])


def summarise(rows: list[dict], classes: list[str]) -> dict:
    """Errors before and after, the share cut, per letter (pooled over people) and per person."""
    before = sum(not r["before"] for r in rows)
    after = sum(not r["after"] for r in rows)
    per_letter = {}
    for letter in classes:
        mine = [r for r in rows if r["letter"] == letter]
        if mine:
            per_letter[letter] = {
                "photos": len(mine),
                "before": round(float(np.mean([r["before"] for r in mine])), 4),
                "after": round(float(np.mean([r["after"] for r in mine])), 4),
            }
    untouched = [r for r in rows if not r["shot"]]
    per_person = {}
    for person in sorted({r["person"] for r in rows}):
        mine = [r for r in rows if r["person"] == person]
        per_person[person] = {
            "photos": len(mine),
            "errors_before": sum(not r["before"] for r in mine),
            "errors_after": sum(not r["after"] for r in mine),
        }
    falls = {k: v["before"] - v["after"] for k, v in per_letter.items()}
    worst_letter = max(falls, key=lambda k: falls[k])
    return {
        "photos": len(rows),
        "people": len(per_person),
        "errors_before": before,
        "errors_after": after,
        "errors_cut": round(1 - after / before, 4) if before else None,
        "uncalibrated_errors_before": sum(not r["before"] for r in untouched),
        "uncalibrated_errors_after": sum(not r["after"] for r in untouched),
        "largest_letter_fall": {"letter": worst_letter, "points": round(100 * falls[worst_letter], 2)},
        "people_worse": sum(p["errors_after"] > p["errors_before"] for p in per_person.values()),
        "per_letter": per_letter,
        "per_person": per_person,
    }


def table(results: dict[str, dict]) -> str:
    lines = [
        "| method | shots | letters calibrated | photos | errors before → after | cut | other letters' errors | "
        "most a letter fell (points) | people worse |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, r in results.items():
        method, shots, scenario = key.split(" | ")
        cut = "–" if r["errors_cut"] is None else f"{100 * r['errors_cut']:.0f}%"
        fall = r["largest_letter_fall"]
        fell = f"{fall['points']:.1f} ({fall['letter']})" if fall["points"] > 0 else "none"
        lines.append(
            f"| {method} | {shots.split()[0]} | {scenario} | {r['photos']} "
            f"| {r['errors_before']} → {r['errors_after']} "
            f"| {cut} | {r['uncalibrated_errors_before']} → {r['uncalibrated_errors_after']} | "
            f"{fell} | {r['people_worse']} of {r['people']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
