"""Splits by signer, never by image: the model is judged on people it has never seen."""

from __future__ import annotations

import random
from collections.abc import Sequence

from train.data import Sample


def _shuffled_signers(samples: Sequence[Sample], seed: int) -> list[str]:
    signers = sorted({s.signer for s in samples})
    random.Random(seed).shuffle(signers)
    return signers


def signer_folds(samples: Sequence[Sample], k: int, seed: int = 0) -> list[tuple[list[int], list[int]]]:
    """K (train, test) index lists; every signer is in exactly one test fold."""
    signers = _shuffled_signers(samples, seed)
    if k < 2 or k > len(signers):
        raise ValueError(f"cannot make {k} signer folds from {len(signers)} signers")
    fold_of = {s: i % k for i, s in enumerate(signers)}
    folds = []
    for f in range(k):
        test = [i for i, s in enumerate(samples) if fold_of[s.signer] == f]
        train = [i for i, s in enumerate(samples) if fold_of[s.signer] != f]
        folds.append((train, test))
    return folds


def signer_holdout(samples: Sequence[Sample], fraction: float, seed: int = 0) -> tuple[list[int], list[int]]:
    """(train, held-out) index lists with about ``fraction`` of the signers held out (none when 0)."""
    signers = _shuffled_signers(samples, seed)
    held = set(signers[: round(fraction * len(signers))])
    return (
        [i for i, s in enumerate(samples) if s.signer not in held],
        [i for i, s in enumerate(samples) if s.signer in held],
    )
