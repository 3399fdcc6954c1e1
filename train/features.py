"""Hand detection and AlexNet features for a dataset, computed once and cached on disk.

The backbone is frozen, so its output for a given crop never changes: each image gets one clean view and a
few augmented views (fixed seed), all through the shared crop function, and the head trains on the cached
features in seconds per epoch. The cache key covers the image files, the hands found in them, the views,
the augmentation, the preprocessing and the backbone weights, so a change to any of them recomputes instead of
reusing stale data.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np
import torch
from tqdm import tqdm

from core.files import atomic_write, remove_stale_temps
from model.augment import Augment, embed, views_of
from model.preprocess import Preprocess
from realtime.photos import PhotoHandFinder
from train.data import DatasetError, Sample

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_CACHE = Path(__file__).resolve().parent.parent / ".cache"


@dataclass
class FeatureSet:
    """Features of the samples whose hand was found; ``samples[i]`` goes with row i."""

    samples: list[Sample]
    features: torch.Tensor  # (N, V, 256, 6, 6) float16; view 0 is the clean crop
    landmarks: torch.Tensor  # (N, V, 63) float32
    missing: list[Sample]  # images in which no hand was found
    views: torch.Tensor | None = None  # (N,) views of each row that are real, the rest padding; None: all V

    @staticmethod
    def concat(sets: list[FeatureSet]) -> FeatureSet:
        """One set of rows; sets with fewer views than the most are padded with zeros, counted in ``views``."""
        most = max(fs.features.shape[1] for fs in sets)
        if all(fs.features.shape[1] == most and fs.views is None for fs in sets):
            views = None
        else:
            views = torch.cat(
                [
                    fs.views if fs.views is not None else torch.full((len(fs.samples),), fs.features.shape[1])
                    for fs in sets
                ]
            )

        def padded(t: torch.Tensor) -> torch.Tensor:
            return torch.cat([t, t.new_zeros(len(t), most - t.shape[1], *t.shape[2:])], dim=1)

        return FeatureSet(
            [s for fs in sets for s in fs.samples],
            torch.cat([padded(fs.features) for fs in sets]),
            torch.cat([padded(fs.landmarks) for fs in sets]),
            [s for fs in sets for s in fs.missing],
            views,
        )


def read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    if image is None:
        raise DatasetError(f"cannot read image {path}: the file is damaged or not an image")
    return image


def _file_key(path: Path) -> str:
    """The digest of a file's bytes: a copied, moved or re-provisioned dataset keeps its cache, an edited photo
    does not (hashing all three shared datasets takes about a second). Each file is read once per process: the
    hand and feature caches both ask for its key."""
    try:
        st = path.stat()
        return _digest(path, st.st_size, st.st_mtime_ns)
    except OSError as exc:
        raise DatasetError(f"cannot read image {path}: {exc.strerror}") from None


@functools.cache
def _digest(path: Path, size: int, mtime_ns: int) -> str:  # size and mtime: a file changed since is read again
    return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()


def _read_cache(path: Path, load: Callable[[Path], T], empty: T) -> T:
    """A cache file's contents, or ``empty`` when there is none or it cannot be read (a run killed mid-write
    before writes were atomic, a damaged disk): then it is recomputed, never a reason to fail."""
    if not path.is_file():
        return empty
    try:
        return load(path)
    except Exception as exc:  # json, pickle and zip errors of every kind: all mean "recompute"
        log.warning("cache %s is unreadable (%s): computing it again", path.name, type(exc).__name__)
        return empty


def detect_hands(
    samples: list[Sample], cache_dir: Path = DEFAULT_CACHE, workers: int | None = None
) -> list[np.ndarray | None]:
    """Landmarks (21, 3) of the hand in each photo, or None; detections are cached per file.

    Photos not in the cache are shared among ``workers`` processes (default: one per core, at most 4). MediaPipe
    keeps one core only partly busy on a photo, so two processes on two cores find hands 1.9 times as fast;
    each photo is looked at on its own, so the result does not depend on how many workers there are.
    """
    cache_path = Path(cache_dir) / "hands-v4.json"  # bump when PhotoHandFinder or _file_key changes
    if Path(cache_dir).is_dir() and (removed := remove_stale_temps(cache_dir)):
        log.info("removed %d temporary file(s) that killed runs had left in %s", removed, cache_dir)
    cache: dict[str, list | None] = _read_cache(cache_path, lambda p: json.loads(p.read_text()), {})
    keys = [_file_key(s.path) for s in samples]
    todo = [i for i, k in enumerate(keys) if k not in cache]
    if todo:
        paths = [samples[i].path for i in todo]
        workers = 1 if len(paths) < PARALLEL_FROM else workers or min(_usable_cores(), 4)
        found: list[list | None] = []
        with tqdm(total=len(paths), desc="finding hands", unit="img", leave=False) as bar:
            for chunk in _find_in_chunks(paths, workers):
                found += chunk
                bar.update(len(chunk))
        cache.update((keys[i], hand) for i, hand in zip(todo, found))
        atomic_write(cache_path, lambda tmp: tmp.write_text(json.dumps(cache)))
    return [None if cache[k] is None else np.array(cache[k], dtype=np.float32) for k in keys]


PARALLEL_FROM = 200  # photos to find before worker processes pay off (starting one costs seconds)
FIND_CHUNK = 16  # photos a worker takes at a time
_worker_finder: PhotoHandFinder | None = None  # a worker process's own finder


def _usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _find_in_chunks(paths: list[Path], workers: int) -> Iterator[list[list | None]]:
    """Cache entries of the photos, a chunk at a time, in order."""
    chunks = [paths[i : i + FIND_CHUNK] for i in range(0, len(paths), FIND_CHUNK)]
    if workers == 1:
        with PhotoHandFinder() as finder:
            for chunk in chunks:
                yield _find_hands(finder, chunk)
    else:
        # spawn, not fork: a forked copy of a process that has run MediaPipe or torch can hang
        with multiprocessing.get_context("spawn").Pool(workers, initializer=_start_worker) as pool:
            yield from pool.imap(_worker_find_hands, chunks)


def _start_worker() -> None:
    global _worker_finder
    _worker_finder = PhotoHandFinder()


def _worker_find_hands(paths: list[Path]) -> list[list | None]:
    assert _worker_finder is not None, "_start_worker runs first in every worker"
    return _find_hands(_worker_finder, paths)


def _find_hands(finder: PhotoHandFinder, paths: list[Path]) -> list[list | None]:
    """Landmarks of the hand in each photo as cache entries (rounded lists), or None."""
    hands = [finder.find(read_image(p)) for p in paths]
    return [None if h is None else h.landmarks.round(2).tolist() for h in hands]


def backbone_digest(backbone: torch.nn.Module) -> str:
    h = hashlib.sha1()
    for k, v in sorted(backbone.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().numpy().tobytes())
    return h.hexdigest()[:12]


def _features_key(
    samples: list[Sample],
    hands: list[np.ndarray | None],
    backbone: torch.nn.Module,
    preprocess: Preprocess,
    augment: Augment,
    views: int,
    seed: int,
) -> str:
    """Everything the cached features of ``samples`` depend on, hashed."""
    key = hashlib.sha1(
        json.dumps(
            [
                [_file_key(s.path) for s in samples],
                views,
                seed,
                augment.to_dict(),
                preprocess.to_dict(),
                backbone_digest(backbone),
            ]
        ).encode()
    )
    for h in hands:
        key.update(b"-" if h is None else h.tobytes())
    return key.hexdigest()[:16]


@torch.inference_mode()
def compute_features(
    samples: list[Sample],
    backbone: torch.nn.Module,
    preprocess: Preprocess,
    augment: Augment,
    views: int,
    seed: int = 0,
    cache_dir: Path = DEFAULT_CACHE,
    batch_size: int = 64,
) -> FeatureSet:
    """Clean plus ``views - 1`` augmented crops of every sample whose hand is found, through the backbone."""
    hands = detect_hands(samples, cache_dir)
    found = [i for i, h in enumerate(hands) if h is not None]
    missing = [samples[i] for i, h in enumerate(hands) if h is None]
    key = _features_key(samples, hands, backbone, preprocess, augment, views, seed)
    path = Path(cache_dir) / f"features-{key}.pt"
    data = _read_cache(path, lambda p: torch.load(p, weights_only=True), None)
    if data is not None:
        return FeatureSet([samples[i] for i in found], data["features"], data["landmarks"], missing)
    features = torch.empty((len(found), views, 256, 6, 6), dtype=torch.float16)
    landmarks = torch.empty((len(found), views, 63), dtype=torch.float32)
    rows_per_batch = max(1, batch_size // views)
    for start in tqdm(range(0, len(found), rows_per_batch), desc="AlexNet features", unit="batch", leave=False):
        rows = range(start, min(start + rows_per_batch, len(found)))
        inputs = []
        for row in rows:
            i, hand = found[row], hands[found[row]]
            assert hand is not None  # found lists the samples with a hand
            inputs += views_of(read_image(samples[i].path), hand, preprocess, augment, views, seed=[seed, i])
        out, lms = embed(backbone, preprocess, inputs)
        features[rows.start : rows.stop] = out.view(len(rows), views, *out.shape[1:])
        landmarks[rows.start : rows.stop] = lms.view(len(rows), views, -1)
    atomic_write(path, lambda tmp: torch.save({"features": features, "landmarks": landmarks}, tmp))
    return FeatureSet([samples[i] for i in found], features, landmarks, missing)


def compute_folder_features(
    per_dir: list[list[Sample]],
    backbone: torch.nn.Module,
    preprocess: Preprocess,
    augment: Augment,
    views: int,
    other_views: int,
    seed: int = 0,
) -> list[FeatureSet]:
    """Features of each dataset folder: ``views`` crops per image of the first (the signers learned and judged),
    ``other_views`` of the others, which teach other letters and scenes and need fewer (README)."""
    return [
        compute_features(samples, backbone, preprocess, augment, views if k == 0 else other_views, seed)
        for k, samples in enumerate(per_dir)
    ]
