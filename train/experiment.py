"""What ``python -m train`` does once its flags are read: gather features, then cross-validate by signer or
train, score on held-out signers and save. The other tools that train (the calibration study, the tests) call
these functions too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from core.files import atomic_write
from core.letters import NO_LETTER
from model.augment import Augment
from model.calibration import with_anchors
from model.checkpoint import Checkpoint, save_checkpoint
from model.network import HeadConfig, LetterHead, LetterNet, with_expert
from model.preprocess import Preprocess
from train.data import DatasetError, Sample, dataset_name, discover
from train.features import FeatureSet, compute_folder_features
from train.fit import FitConfig, Split, fit_head, predict_logits
from train.metrics import NO_HAND, group_confusions, letter_confusion, per_letter_scores, score_logits
from train.plots import plot_confusion, plot_curves
from train.splits import signer_folds, signer_holdout

log = logging.getLogger(__name__)
OFFSETS = (*(k / 4 for k in range(17)), float("inf"))  # 0 to 4 in steps of 0.25, then never


def load_samples(dirs: list[Path], limit: int | None, published_labels: bool = False) -> list[list[Sample]]:
    """Each folder's samples; with ``limit``, only the first of each letter (smoke runs)."""
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


def choose_classes(per_dir: list[list[Sample]], letters: list[str], reject: bool) -> list[str]:
    """The letters, then the no-letter class when other letters are there to teach it (and ``reject``)."""
    found = {s.letter for samples in per_dir for s in samples}
    absent = [lt for lt in letters if lt not in found]
    if absent:
        raise DatasetError(f"no images of {', '.join(absent)} in the --data folders")
    return letters + ([NO_LETTER] if reject and found - set(letters) else [])


def gather_features(
    dirs: list[Path],
    per_dir: list[list[Sample]],
    backbone: torch.nn.Module,
    preprocess: Preprocess,
    augment: Augment,
    views: int,
    other_views: int,
    seed: int,
) -> tuple[FeatureSet, set[str]]:
    """All folders' features as one set, and the signers of the first folder (the ones judged)."""
    sets = compute_folder_features(per_dir, backbone, preprocess, augment, views, other_views, seed)
    for d, samples, fs in zip(dirs, per_dir, sets):
        log.info(
            "%s: %d images, hand found in %d, not found in %d",
            dataset_name(d),
            len(samples),
            len(fs.samples),
            len(fs.missing),
        )
    return FeatureSet.concat(sets), {s.signer for s in per_dir[0]}


def class_index(classes: list[str], letter: str) -> int | None:
    if letter in classes:
        return classes.index(letter)
    return classes.index(NO_LETTER) if NO_LETTER in classes else None


def make_split(fs: FeatureSet, rows: list[int], classes: list[str]) -> Split:
    labels = [class_index(classes, fs.samples[r].letter) for r in rows]
    keep = [r for r, y in zip(rows, labels) if y is not None]
    return Split(
        fs.features[keep],
        fs.landmarks[keep],
        torch.tensor([y for y in labels if y is not None], dtype=torch.long),
        None if fs.views is None else fs.views[keep],
        [fs.samples[r].letter for r in keep],
    )


@dataclass(frozen=True)
class ExpertPlan:
    """How to train the expert head multiplied into the main one (``model.network.LetterHead``): its classes
    (letters, then "no letter"), its head, the datasets it learns from (by name) and its weight."""

    classes: list[str]
    head_config: HeadConfig
    datasets: tuple[str, ...]
    weight: float

    @staticmethod
    def of_recipe(config: HeadConfig, info: dict) -> tuple[HeadConfig, ExpertPlan | None]:
        """A checkpoint's head config split into the main head's and the plan of its expert, if it has one."""
        if config.expert is None:
            return config, None
        about = info.get("expert", {})
        plan = ExpertPlan(
            [*about.get("letters", []), NO_LETTER],
            HeadConfig(**config.expert),
            tuple(about.get("data", [])),
            config.expert_weight,
        )
        return replace(config, expert=None, expert_map=()), plan

    def about(self) -> dict:
        """What a checkpoint's info and a CV summary say of the expert (``of_recipe`` reads it back)."""
        return {"letters": self.classes[:-1], "data": list(self.datasets), "weight": self.weight}

    def rows(self, data: FeatureSet, rows: list[int]) -> list[int]:
        prefixes = tuple(f"{name}/" for name in self.datasets)
        return [r for r in rows if data.samples[r].signer.startswith(prefixes)]


def fit_letters(
    head_config: HeadConfig,
    fit: FitConfig,
    data: FeatureSet,
    rows: list[int],
    classes: list[str],
    expert: ExpertPlan | None,
    device: torch.device,
    val: Split | None = None,
) -> tuple[LetterHead, list[dict]]:
    """The head trained on ``rows``, then, with an ``expert``, the expert trained on its datasets' share of them
    and multiplied in; the history is the main head's."""
    head, history = fit_head(head_config, fit, make_split(data, rows, classes), val, device=device)
    if expert is not None:
        expert_rows = expert.rows(data, rows)
        log.info(
            "expert over %s: %d of the %d training images", "".join(expert.classes[:-1]), len(expert_rows), len(rows)
        )
        expert_head, _ = fit_head(expert.head_config, fit, make_split(data, expert_rows, expert.classes), device=device)
        head = with_expert(head, expert_head, classes, expert.classes, expert.weight)
    return head, history


def held_out(data: FeatureSet, test_signers: set[str]) -> tuple[list[int], list[int], list[Sample]]:
    train_rows = [i for i, s in enumerate(data.samples) if s.signer not in test_signers]
    test_rows = [i for i, s in enumerate(data.samples) if s.signer in test_signers]
    missing = [s for s in data.missing if s.signer in test_signers]
    return train_rows, test_rows, missing


def cross_validate(
    data: FeatureSet,
    first: set[str],
    classes: list[str],
    head_config: HeadConfig,
    fit: FitConfig,
    device: torch.device,
    folds: int,
    repeats: int,
    out: Path,
    about: dict,
    expert: ExpertPlan | None = None,
    save_fold: Callable[[int, LetterHead, set[str]], None] | None = None,
) -> dict:
    """Signer-grouped ``folds``-fold CV over the signers of the first folder (the others always train), ``repeats``
    heads a fold; writes ``cv.json`` (``about`` merged in) and ``cv_confusion.png`` and returns the summary.
    ``save_fold`` is handed each fold's first head and the signers it never saw (a model for those signers)."""
    first_samples = [s for s in data.samples + data.missing if s.signer in first]
    results, held, letters, predicted = [], [], [], []
    for k, (_, test_idx) in enumerate(signer_folds(first_samples, folds, fit.seed)):
        test_signers = {first_samples[i].signer for i in test_idx}
        train_rows, test_rows, missing = held_out(data, test_signers)
        test = make_split(data, test_rows, classes)
        missed = [s.letter for s in missing if class_index(classes, s.letter) is not None]
        for repeat in range(repeats):
            seeded = replace(fit, seed=fit.seed + repeat)
            head, _ = fit_letters(head_config, seeded, data, train_rows, classes, expert, device)
            if save_fold is not None and repeat == 0:
                save_fold(k, head, test_signers)
            logits = predict_logits(head, test)
            r = score_logits(logits, test.labels, missing, classes)
            held.append((logits, test.labels, missing))
            letters += (test.letters or []) + missed
            predicted += [classes[c] for c in logits.argmax(1).tolist()] + [NO_HAND] * len(missed)
            log.info(
                "fold %d/%d%s: %d signers, %d images, accuracy %.4f",
                k + 1,
                folds,
                f", repeat {repeat + 1}/{repeats}" if repeats > 1 else "",
                len(test_signers),
                r["images"],
                r["accuracy"],
            )
            results.append(r)
    runs = np.array([r["accuracy"] for r in results]).reshape(-1, repeats)
    accs = runs.mean(axis=1)  # per fold, over its repeats
    summary = {
        "folds": folds,
        "classes": classes,
        "head": head_config.to_dict(),
        **about,
        "fold_accuracy": accs.round(4).tolist(),
        "mean_accuracy": float(accs.mean()),
        "std_accuracy": float(accs.std(ddof=1)),
    }
    if repeats > 1:
        per_repeat = runs.mean(axis=0)
        summary["repeat_accuracy"] = per_repeat.round(4).tolist()
        log.info("mean accuracy of each repeat: %s", " ".join(f"{100 * a:.2f}%" for a in per_repeat))
    known = set(classes) - {NO_LETTER}
    summary["per_letter"] = per_letter_scores(letters, predicted, known)
    summary["confusable_groups"] = group_confusions(letters, predicted, known)
    log.info(
        "per letter, all folds (other letters: given no letter): %s",
        " ".join(f"{k} {100 * v:.0f}%" for k, v in summary["per_letter"].items()),
    )
    for group, g in summary["confusable_groups"].items():
        log.info(
            "%s: %.2f%% right; errors within the group %d, elsewhere %d",
            group,
            100 * g["accuracy"],
            g["within_group_errors"],
            g["other_errors"],
        )
    rejections = [r["rejection_rate"] for r in results if "rejection_rate" in r]
    if rejections:
        summary["mean_rejection_rate"] = float(np.mean(rejections))
        log.info("held-out other letters given no letter: %.2f%%", 100 * summary["mean_rejection_rate"])
    if NO_LETTER in classes:
        summary["no_letter_offsets"] = offset_sweep(held, classes, head_config.no_letter_offset)
    log.info(
        "cross-validation: mean accuracy %.2f%% (std %.2f, min %.2f%%)",
        100 * accs.mean(),
        100 * accs.std(ddof=1),
        100 * accs.min(),
    )
    atomic_write(out / "cv.json", lambda tmp: tmp.write_text(json.dumps(summary, indent=2)))
    cm, rows, cols = letter_confusion(letters, predicted, classes)
    runs_note = f" x {repeats} repeats" if repeats > 1 else ""
    title = f"{folds}-fold signer CV{runs_note}, all folds, mean accuracy {accs.mean():.2%}"
    plot_confusion(cm, rows, cols, out / "cv_confusion.png", title)
    return summary


def fold_saver(
    folder: Path, backbone: torch.nn.Module, classes: list[str], preprocess: Preprocess, info: dict
) -> Callable[[int, LetterHead, set[str]], None]:
    """What ``cross_validate`` calls to write each fold's model as ``folder/fold<k>.pt``, self-contained like the
    shipped one, its info naming the signers it never saw (``held_out_signers``)."""

    def save(k: int, head: LetterHead, held_out_signers: set[str]) -> None:
        about = {**info, "fold": k + 1, "held_out_signers": sorted(held_out_signers)}
        path = folder / f"fold{k + 1}.pt"
        save_checkpoint(path, Checkpoint(LetterNet(backbone, head), classes, preprocess, about))  # saved on the CPU
        log.info("wrote %s (%d signers held out)", path, len(held_out_signers))

    return save


def offset_sweep(held: list, classes: list[str], trained_offset: float) -> list[dict]:
    """Mean accuracy and rejection over the folds (and repeats) had the no-letter offset been each of OFFSETS
    (inf: the no-letter class never wins), from the held-out logits: the numbers to choose --no-letter-offset by."""
    rows = []
    for offset in OFFSETS:
        shift = torch.zeros(len(classes))
        shift[-1] = trained_offset - offset
        folds = [
            score_logits(logits + shift, labels, missing, classes, with_confusion=False)
            for logits, labels, missing in held
        ]
        row = {
            "offset": offset if np.isfinite(offset) else "never",
            "accuracy": round(float(np.mean([f["accuracy"] for f in folds])), 4),
        }
        if all("rejection_rate" in f for f in folds):
            row["rejection_rate"] = round(float(np.mean([f["rejection_rate"] for f in folds])), 4)
        rows.append(row)
        log.info(
            "no-letter offset %s: accuracy %.2f%%%s",
            row["offset"],
            100 * row["accuracy"],
            f", rejection {100 * row['rejection_rate']:.2f}%" if "rejection_rate" in row else "",
        )
    return rows


def with_training_anchors(head: LetterHead, data: FeatureSet, rows: list[int], classes: list[str]) -> LetterHead:
    """``head`` carrying anchors for calibration, chosen from the clean crops of its training ``rows``."""
    split = make_split(data, rows, classes)
    return with_anchors(head, split.features[:, 0], split.landmarks[:, 0], split.labels)


def score(head: LetterHead, fs: FeatureSet, rows: list[int], missing: list[Sample], classes: list[str]) -> dict:
    split = make_split(fs, rows, classes)
    return score_logits(predict_logits(head, split), split.labels, missing, classes)


def train_and_save(
    data: FeatureSet,
    first: set[str],
    classes: list[str],
    head_config: HeadConfig,
    fit: FitConfig,
    device: torch.device,
    backbone: torch.nn.Module,
    preprocess: Preprocess,
    val_fraction: float,
    out: Path,
    checkpoint: Path,
    info: dict,
    expert: ExpertPlan | None = None,
) -> dict:
    """Train on all but ``val_fraction`` of the first folder's signers, score those, and write the checkpoint
    (``info`` and the metrics inside), ``metrics.json``, ``curves.png`` and ``confusion.png``; returns the metrics."""
    first_samples = [s for s in data.samples + data.missing if s.signer in first]
    _, val_idx = signer_holdout(first_samples, val_fraction, fit.seed)
    val_signers = {first_samples[i].signer for i in val_idx}
    train_rows, val_rows, val_missing = held_out(data, val_signers)
    val_split = make_split(data, val_rows, classes) if val_rows else None
    head, history = fit_letters(head_config, fit, data, train_rows, classes, expert, device, val_split)
    head = with_training_anchors(head, data, train_rows, classes)
    plot_curves(history, out / "curves.png")
    metrics: dict = {
        "classes": classes,
        "train_images": len(train_rows),
        "hands_not_found": {
            name: sum(1 for s in data.missing if s.signer.startswith(name + "/")) for name in info["data"]
        },
        "last_epoch": history[-1],
    }
    if val_rows:
        val = score(head, data, val_rows, val_missing, classes)
        metrics["validation"] = {"signers": sorted(val_signers), **val}
        plot_confusion(
            np.array(val["confusion"]),
            classes,
            classes,
            out / "confusion.png",
            f"held-out signers ({len(val_signers)}), accuracy {val['accuracy']:.2%}",
        )
        log.info("validation on %d held-out signers: accuracy %.2f%%", len(val_signers), 100 * val["accuracy"])
    model = Checkpoint(LetterNet(backbone, head), classes, preprocess, {**info, "metrics": metrics})
    save_checkpoint(checkpoint, model)
    atomic_write(out / "metrics.json", lambda tmp: tmp.write_text(json.dumps(metrics, indent=2)))
    log.info("wrote %s, %s", checkpoint, out / "metrics.json")
    return metrics
