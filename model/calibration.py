"""Personalising a checkpoint to one signer without unlearning anyone else.

The head's last layer reads one vector per hand, the embedding (``LetterHead.embed``). Calibration adds a
per-person linear layer on that embedding to the logits (``HeadConfig.personal``), and only the rows of the
letters the person gave shots of may be non-zero: a letter without shots keeps its logit to the bit, and can
lose a hand only to a calibrated letter. That layer is fitted on two things at once:
- the person's shots (every augmented view), to be read as their letters;
- anchors: embeddings of the shared model's own training photos, a few per class, kept in the checkpoint with
  the base model's logits for them (``HeadConfig.anchors``, chosen by :func:`with_anchors` when a model is
  trained). The layer must leave the base model's answers on them as they were (distillation), so a calibrated
  letter cannot start claiming hands that look like the other letters, whoever shows them.
Why: fine-tuning the head on the shots alone (the method until 0.17) learns to answer the calibrated letters
everywhere (five shots of A turned FACE GOOD into A, FAA, A) and, with every letter calibrated, broke as many
photos as it fixed (docs/RESULTS.md, "Calibration"). The fit is a small convex problem on a few thousand vectors:
under a second on a CPU once the shots are embedded. The rows (a few hundred bytes a letter) are all a page
needs to keep to rebuild the same model later.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import logging
import math
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

import numpy as np
import torch
from torch import nn

from core.errors import AslError
from core.letters import NO_LETTER
from model.augment import Augment, embed, views_of
from model.checkpoint import MAX_MOVING_SHAPES, Checkpoint
from model.network import LetterHead, LetterNet, PersonalLayer

log = logging.getLogger(__name__)
ANCHORS_PER_CLASS = 32
NO_HAND_S = 1.0  # shooting this long without a hand is said at once (calibrate.py, the page)
REPORT_SHOTS = 12  # shots judged by the leave-one-out report, each a fit of its own
MAX_ROW = 1e4  # a personal row's largest value: fits never come near it; a stranger's may not exceed it


class CalibrationError(AslError):
    """Shots that cannot calibrate this model; the message is one line for the user."""


@dataclass
class Shot:
    image: np.ndarray  # the whole frame or photo, BGR
    landmarks: np.ndarray  # (21, 3) in its pixels
    label: str  # a letter the model knows, or NO_LETTER


@dataclass(frozen=True)
class CalibrationSettings:
    views: int = 8  # embeddings per shot: the clean crop and augmented ones, as in training
    shot_weight: float = 1.0  # the shots' loss against the anchors' (each a mean)
    decay: float = 1e-3  # L2 on the personal rows
    reach: float = 1.0  # how far beyond its shots' spread a calibrated letter is felt, in that spread
    steps: int = 150  # full-batch Adam steps
    lr: float = 0.05
    seed: int = 0


def reconfigured(head: LetterHead, **changes: Any) -> LetterHead:
    """A copy of ``head`` with config ``changes`` (``anchors``, ``personal``), keeping every weight it shares."""
    new = LetterHead(replace(head.config, **changes))
    state = new.state_dict()
    state.update({k: v for k, v in head.state_dict().items() if k in state and v.shape == state[k].shape})
    new.load_state_dict(state)
    return new.to(next(head.parameters()).device).eval()


@torch.no_grad()
def with_anchors(
    head: LetterHead, features: torch.Tensor, landmarks: torch.Tensor, labels: torch.Tensor, seed: int = 0
) -> LetterHead:
    """``head`` carrying anchors for calibration: up to :data:`ANCHORS_PER_CLASS` training photos of each class
    (clean crops: ``features`` (N, 256, 6, 6), ``landmarks`` (N, 63), integer ``labels``), as embeddings with the
    head's logits for them (without the no-letter offset, which applies after calibration's layer)."""
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for c in range(head.config.num_classes):
        mine = torch.nonzero(labels == c).flatten()
        rows.append(mine[torch.randperm(len(mine), generator=generator)[:ANCHORS_PER_CLASS]])
    pick = torch.cat(rows)
    device = next(head.parameters()).device
    f, lm = features[pick].to(device).float(), landmarks[pick].to(device).float()
    head = reconfigured(head, anchors=len(pick))
    head.anchor_embeddings.copy_(head.embed(f, lm))
    head.anchor_logits.copy_(head(f, lm, no_letter_offset=0.0))
    return head


def require_anchors(head: LetterHead) -> None:
    if not head.config.anchors:
        raise CalibrationError(
            "this model carries no training anchors to calibrate against: add them with "
            "python -m train.anchors --model FILE --data FOLDER..."
        )


def check_shots(shots: list[Shot], classes: list[str]) -> Counter:
    counts = Counter(s.label for s in shots)
    unknown = sorted(set(counts) - set(classes))
    if unknown:
        raise CalibrationError(f"the model does not know {', '.join(unknown)}: it knows {', '.join(classes)}")
    if not shots:
        raise CalibrationError("nothing to calibrate on: no shots with a hand")
    return counts


@torch.no_grad()  # not inference mode: the fit takes gradients through products with these
def shot_features(
    base: Checkpoint, shots: list[Shot], settings: CalibrationSettings
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each shot's clean and augmented crops, the way training sees a photo, through the backbone:
    features (len(shots), views, 256, 6, 6) and landmarks (len(shots), views, 63)."""
    augment = Augment.for_input(base.preprocess)
    features, landmarks = [], []
    for i, shot in enumerate(shots):
        views = views_of(shot.image, shot.landmarks, base.preprocess, augment, settings.views, [settings.seed, i])
        f, lm = embed(base.net.backbone, base.preprocess, views)
        features.append(f.cpu())
        landmarks.append(lm.cpu())
    return torch.stack(features), torch.stack(landmarks)


@torch.no_grad()
def shot_embeddings(
    head: LetterHead, features: torch.Tensor, landmarks: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The head's embedding of every view, (N, views, D), and its logits for each without the no-letter
    offset, (N, views, C)."""
    device = next(head.parameters()).device
    n, views = features.shape[:2]
    f = features.reshape(n * views, *features.shape[2:]).float()
    lm = landmarks.reshape(n * views, -1).float()
    z, logits = [], []
    for i in range(0, len(f), 256):
        fi, li = f[i : i + 256].to(device), lm[i : i + 256].to(device)
        z.append(head.embed(fi, li).cpu())
        logits.append(head(fi, li, no_letter_offset=0.0).cpu())
    return torch.cat(z).reshape(n, views, -1), torch.cat(logits).reshape(n, views, -1)


def fit_personal(
    head: LetterHead,
    embeddings: torch.Tensor,
    logits: torch.Tensor,
    labels: torch.Tensor,
    settings: CalibrationSettings,
) -> PersonalLayer:
    """The personal layer (module doc) of ``head`` with rows for the classes in ``labels`` fitted to the shots:
    ``embeddings`` (M, D) and ``logits`` (M, C) of every view, as ``head`` reads them, and each view's class,
    (M,). Other rows are ``head``'s own (zero when it has none); ``head``'s anchors are judged with them."""
    require_anchors(head)
    embeddings, logits = embeddings.clone(), logits.clone()  # tensors made in inference mode cannot take part
    anchor_z = head.anchor_embeddings.float().cpu().clone()
    anchor_logits = head.anchor_logits.float().cpu().clone()
    layer = PersonalLayer(anchor_z.shape[1], head.config.num_classes)
    fitted = labels.unique()
    if head.personal is not None:
        layer.load_state_dict({k: v.cpu() for k, v in head.personal.state_dict().items()})
        with torch.no_grad():
            layer.reach[fitted] = 0  # a row fitted anew: its old one has no say on the anchors
            anchor_logits += layer(anchor_z)
    with torch.no_grad():
        for c in fitted.tolist():
            mine = embeddings[labels == c]
            layer.centre[c] = mine.mean(0)
            layer.radius[c] = (mine - layer.centre[c]).norm(dim=1).pow(2).mean().sqrt()
            layer.reach[c] = settings.reach * layer.radius[c].clamp_min(1e-3)
        anchor_gate, shot_gate = layer.gate(anchor_z), layer.gate(embeddings)
    rows = torch.zeros(head.config.num_classes, 1)
    rows[fitted] = 1
    target = anchor_logits.softmax(1)
    weight = torch.zeros_like(layer.weight, requires_grad=True)
    bias = torch.zeros_like(layer.bias, requires_grad=True)
    opt = torch.optim.Adam([weight, bias], lr=settings.lr)
    for _ in range(settings.steps):
        w, b = weight * rows, bias * rows[:, 0]
        kept = -(target * (anchor_logits + anchor_gate * (anchor_z @ w.T + b)).log_softmax(1)).sum(1).mean()
        learnt = nn.functional.cross_entropy(logits + shot_gate * (embeddings @ w.T + b), labels)
        loss = kept + settings.shot_weight * learnt + settings.decay * (w**2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        layer.weight[fitted], layer.bias[fitted] = weight[fitted], bias[fitted]
    return layer


def without_letters(head: LetterHead, classes: list[int]) -> LetterHead:
    """``head`` with the personal rows of ``classes`` cleared (they are about to be fitted anew)."""
    if head.personal is None:
        return head
    head = reconfigured(head)
    assert head.personal is not None
    with torch.no_grad():
        for name in ("weight", "bias", "centre", "radius", "reach"):
            getattr(head.personal, name)[classes] = 0
    return head


def personalised(head: LetterHead, layer: PersonalLayer) -> LetterHead:
    """``head`` reading with the personal ``layer``."""
    personal = reconfigured(head, personal=True)
    assert personal.personal is not None
    personal.personal.load_state_dict(layer.state_dict())
    return personal


def calibrate(
    base: Checkpoint,
    shots: list[Shot],
    settings: CalibrationSettings = CalibrationSettings(),
    signer: str = "",
    moving_shapes: dict[str, list[np.ndarray]] | None = None,
) -> Checkpoint:
    """A personal checkpoint: ``base`` with a personal layer for the letters of ``shots`` (module doc); backbone,
    classes, preprocessing and every other letter unchanged. A base that is itself personal keeps what it had;
    a letter shot again is fitted anew. Its info says what changed on the shots (:func:`shot_report`).
    ``moving_shapes``: the signer's own J and Z paths (``realtime.motion.drawn_path``), kept in the checkpoint's
    info beside any it has, for the live loop's motion recogniser."""
    moving_shapes = {k: v for k, v in (moving_shapes or {}).items() if v}
    if not shots and not moving_shapes:
        raise CalibrationError("nothing to calibrate on: no labeled hands found")
    info = dict(base.info)
    if moving_shapes:
        kept = {k: list(v) for k, v in info.get("moving_shapes", {}).items()}
        for letter, paths in moving_shapes.items():
            kept.setdefault(letter, []).extend(np.round(p, 4).tolist() for p in paths)
            kept[letter] = kept[letter][-MAX_MOVING_SHAPES:]  # the latest: each one costs every J or Z a comparison
        info["moving_shapes"] = kept
    head, report = base.net.head, None
    counts = dict(info.get("calibration", {}).get("letters_shot", {})) if head.personal is not None else {}
    if shots:
        check_shots(shots, base.classes)
        require_anchors(head)
        head = without_letters(head, sorted({base.classes.index(s.label) for s in shots}))
        z, logits = shot_embeddings(head, *shot_features(base, shots, settings))
        labels = torch.tensor([base.classes.index(s.label) for s in shots])
        report = shot_report(head, z, logits, labels, settings)
        head = personalised(head, fit_personal(head, *flat_views(z, logits, labels), settings))
        counts |= dict(Counter(s.label for s in shots))
    info["calibration"] = {
        "signer": signer,
        "shots": dict(Counter(s.label for s in shots)),
        "moving_examples": {k: len(v) for k, v in moving_shapes.items()},
        "settings": settings.__dict__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "letters_shot": counts,
        "report": report,
    }
    return replace(base, net=LetterNet(base.net.backbone, head), info=info)  # a server's backbone stays shared


def layer_to_info(layer: PersonalLayer, classes: list[str], counts: dict[str, int]) -> dict[str, dict]:
    """The calibrated letters of a personal layer as plain values: per letter its shots and its row (weight,
    centre, bias, radius, reach) as base64 of little-endian float16, as the checkpoint stores weights. A page keeps
    this in the browser (about 1.7 kB a letter) and sends it back to rebuild its model after a reload."""
    out = {}
    for letter, n in sorted(counts.items()):
        c = classes.index(letter)
        p = layer
        row = torch.cat([p.weight[c], p.centre[c], torch.stack([p.bias[c], p.radius[c], p.reach[c]])]).detach().cpu()
        out[letter] = {"shots": n, "row": base64.b64encode(row.numpy().astype("<f2").tobytes()).decode("ascii")}
    return out


def layer_from_info(letters: Any, dim: int, classes: list[str]) -> tuple[PersonalLayer, dict[str, int]]:
    """:func:`layer_to_info`'s values read back, checked as a stranger's bytes: letters this model knows, a count
    of shots, ``2 dim + 3`` finite values of sane size each, a radius and a reach not below zero."""
    if not isinstance(letters, dict) or not letters or len(letters) >= len(classes):
        raise CalibrationError("calibrated letters: expected one entry for each of some of the model's letters")
    layer, counts = PersonalLayer(dim, len(classes)), {}
    for letter, entry in letters.items():
        if letter not in classes or letter == NO_LETTER:
            raise CalibrationError(f"calibrated letters: the model does not know {str(letter)[:8]!r}")
        shots, row = (entry.get("shots"), entry.get("row")) if isinstance(entry, dict) else (None, None)
        if not isinstance(shots, int) or isinstance(shots, bool) or not 1 <= shots <= 1000:
            raise CalibrationError(f"calibrated letter {letter}: shots must be 1 to 1000")
        values = None
        if isinstance(row, str) and len(row) == 4 * math.ceil(2 * (2 * dim + 3) / 3):
            with contextlib.suppress(binascii.Error, ValueError):
                values = np.frombuffer(base64.b64decode(row, validate=True), dtype="<f2").astype(np.float32)
        if values is None or len(values) != 2 * dim + 3 or not (np.abs(values) <= MAX_ROW).all():
            raise CalibrationError(f"calibrated letter {letter}: the row must be {2 * dim + 3} float16 in base64")
        if values[-2] < 0 or values[-1] < 0:
            raise CalibrationError(f"calibrated letter {letter}: a negative radius or reach")
        c, v = classes.index(letter), torch.from_numpy(values)
        with torch.no_grad():
            layer.weight[c], layer.centre[c] = v[:dim], v[dim : 2 * dim]
            layer.bias[c], layer.radius[c], layer.reach[c] = v[-3], v[-2], v[-1]
        counts[letter] = shots
    return layer, counts


def model_tag(head: LetterHead) -> str:
    """Names the shared model a calibration was made on: a page's kept calibration fits no other."""
    require_anchors(head)
    return hashlib.sha1(head.anchor_logits.cpu().numpy().tobytes()).hexdigest()[:12]


def shot_report(
    head: LetterHead, z: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor, settings: CalibrationSettings
) -> dict[str, int]:
    """What calibrating changes on the shots themselves, each shot judged by the layer fitted without it (leave
    one out; a letter's only shot by the model without that letter calibrated), on its clean crop: how many
    the model so far read right, and how many the new one does. One fit per shot, so it is reported only up to
    :data:`REPORT_SHOTS` shots, on a spread of them."""
    picks = sorted(set(np.linspace(0, len(labels) - 1, min(REPORT_SHOTS, len(labels))).round().astype(int).tolist()))
    before = after = 0
    for i in picks:
        rest = [j for j in range(len(labels)) if j != i]
        right = read(head, logits[i, 0]) == labels[i].item()
        before += int(right)
        if rest:
            layer = fit_personal(head, *flat_views(z[rest], logits[rest], labels[rest]), settings)
            with torch.no_grad():
                extra = layer(z[i, :1])[0] - (head.personal.cpu()(z[i, :1])[0] if head.personal is not None else 0)
            right = read(head, logits[i, 0] + extra) == labels[i].item()
        after += int(right)
    return {"shots": len(picks), "right_before": before, "right_after": after}


def flat_views(
    z: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Shots' views as rows: (N, V, D), (N, V, C), (N,) -> (N V, D), (N V, C), (N V,)."""
    return z.reshape(-1, z.shape[-1]), logits.reshape(-1, logits.shape[-1]), labels.repeat_interleave(z.shape[1])


def read(head: LetterHead, logits: torch.Tensor) -> int:
    """The class a head answers for ``logits`` taken without its no-letter offset."""
    offset = head.config.no_letter_offset
    return int(torch.cat([logits[:-1], logits[-1:] - offset]).argmax().item())
