"""How a model's answers are scored: one module for cross-validation, evaluation and fitting.

Known letters score by accuracy (a photo where no hand was found counts as wrong); letters the model does not
know score by rejection, the share given no letter (the no-letter class, or no hand found).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from core.letters import CONFUSABLE_GROUPS, NO_LETTER
from train.data import Sample

NO_HAND = "no hand"  # the answer for a photo in which no hand was found


def confusion(true: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (true, pred), 1)
    return cm


def per_letter_scores(letters: Sequence[str], predicted: Sequence[str], known: set[str]) -> dict[str, float]:
    """For each letter found in ``letters``: the share predicted right if the model knows it, else the share given
    no letter (the no-letter class, or no hand found)."""
    scores = {}
    for letter in sorted(set(letters)):
        mine = [p for lt, p in zip(letters, predicted) if lt == letter]
        hit = sum(p == letter for p in mine) if letter in known else sum(p in (NO_LETTER, NO_HAND) for p in mine)
        scores[letter] = round(hit / len(mine), 4)
    return scores


def letter_confusion(
    letters: Sequence[str], predicted: Sequence[str], classes: Sequence[str]
) -> tuple[np.ndarray, list[str], list[str]]:
    """Counts of each letter filed (rows: every letter present, J and Z included, which a still model calls no
    letter) against each answer (columns: ``classes`` and no hand)."""
    rows, cols = sorted(set(letters)), [*classes, NO_HAND]
    cm = np.zeros((len(rows), len(cols)), dtype=np.int64)
    for letter, answer in zip(letters, predicted):
        cm[rows.index(letter), cols.index(answer)] += 1
    return cm, rows, cols


def group_confusions(letters: Sequence[str], predicted: Sequence[str], known: set[str]) -> dict[str, dict]:
    """For each of CONFUSABLE_GROUPS: its known letters' images, how many were right, and how many were taken for
    another letter of the same group (the errors a look-alike explains) or for something else."""
    out = {}
    for group in CONFUSABLE_GROUPS:
        members = set(group) & known
        mine = [(lt, p) for lt, p in zip(letters, predicted) if lt in members]
        if not mine:
            continue
        right = sum(lt == p for lt, p in mine)
        within = sum(lt != p and p in group for lt, p in mine)
        out["/".join(group)] = {
            "images": len(mine),
            "accuracy": round(right / len(mine), 4),
            "within_group_errors": within,
            "other_errors": len(mine) - right - within,
        }
    return out


def score_logits(
    logits: torch.Tensor, labels: torch.Tensor, missing: list[Sample], classes: list[str], with_confusion: bool = True
) -> dict:
    """Accuracy on known letters (images with no hand found count as wrong) and, for other letters, the share
    given no letter; with a confusion matrix over the classes found."""
    pred = logits.argmax(1).numpy() if len(labels) else np.zeros(0, int)
    true = labels.numpy()
    known = np.array([classes[t] != NO_LETTER for t in true], dtype=bool)
    missed_known = sum(1 for s in missing if s.letter in classes)
    n_known = int(known.sum()) + missed_known
    result: dict = {
        "images": n_known,
        "hands_found": int(known.sum()),
        "accuracy": float((pred[known] == true[known]).sum() / n_known) if n_known else None,
    }
    others = ~known
    missed_other = sum(1 for s in missing if s.letter not in classes)
    if NO_LETTER in classes and (others.any() or missed_other):
        # no hand found is also "no letter given"
        rejected = int((pred[others] == classes.index(NO_LETTER)).sum()) + missed_other
        result["rejection_rate"] = rejected / (int(others.sum()) + missed_other)
    if with_confusion:
        result["confusion"] = confusion(true, pred, len(classes)).tolist()
    return result
