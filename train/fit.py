"""Training the head on cached backbone features."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields

import torch
from torch import nn
from tqdm import tqdm

from model.network import HeadConfig, LetterHead

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FitConfig:
    epochs: int = 20
    lr: float = 5e-4
    weight_decay: float = 1e-4
    batch_size: int = 256
    seed: int = 0
    label_smoothing: float = 0.0
    spare_no_letter: bool = False  # the last class is "no letter" and smoothing leaves it out (smoothed_targets)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> FitConfig:
        """The settings stored in a checkpoint, of this version or an older one (renamed keys are mapped, keys
        this version does not know are left out)."""
        d = dict(d)
        if "no_letter_class" in d:  # its name until 2026-11-26, when it was on whenever there was a no-letter class
            d.setdefault("spare_no_letter", d.pop("no_letter_class"))
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class Split:
    """Cached features of one split, with integer class labels and the letters they were filed under."""

    features: torch.Tensor  # (N, V, 256, 6, 6) float16
    landmarks: torch.Tensor  # (N, V, 63)
    labels: torch.Tensor  # (N,)
    views: torch.Tensor | None = None  # (N,) views of each row that are real, the rest padding; None: all V
    letters: list[str] | None = None  # (N,) each row's own letter, where labels only say "no letter"


def smoothed_targets(num_classes: int, smoothing: float, spare_no_letter: bool) -> torch.Tensor:
    """Row y is the target distribution for class y: 1 - ``smoothing`` on y, the rest spread evenly.

    ``spare_no_letter`` spreads the smoothing over the letters only (the last class is "no letter") and keeps
    no-letter targets one-hot. Smoothing over all classes teaches every A-I hand a little "no letter", which caps
    how far the no-letter logit rises above the letters for a hand showing another sign: at the same offset it
    rejects fewer other letters but scores A-I better, so each needs its own offset (README)."""
    letters = num_classes - 1 if spare_no_letter else num_classes
    targets = torch.eye(num_classes)
    targets[:letters, :letters] = targets[:letters, :letters] * (1 - smoothing) + smoothing / letters
    return targets


def fit_head(
    config: HeadConfig,
    fit: FitConfig,
    train: Split,
    val: Split | None = None,
    init: LetterHead | None = None,
    device: torch.device | str = "cpu",
) -> tuple[LetterHead, list[dict]]:
    """Adam and cross-entropy over every view of every training sample; after each epoch, accuracy on the
    clean view of ``val``. ``init`` starts from an existing head (fine-tuning) instead of random weights.
    Trains on ``device`` (all training features are moved there: about 1 GB for the shipped recipe).
    Returns the head after the last epoch, on the CPU, and one history row per epoch."""
    torch.manual_seed(fit.seed)
    head = (init if init is not None else LetterHead(config)).to(device)
    n, v = train.features.shape[:2]
    x = train.features.reshape(n * v, *train.features.shape[2:]).to(device)
    lm = train.landmarks.reshape(n * v, -1).to(device)
    y = train.labels.repeat_interleave(v).to(device)
    real = torch.arange(n * v)
    if train.views is not None:
        real = real[(torch.arange(v) < train.views[:, None]).reshape(-1)]
    opt = torch.optim.Adam(head.parameters(), lr=fit.lr, weight_decay=fit.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(fit.epochs, 1))
    targets = smoothed_targets(config.num_classes, fit.label_smoothing, fit.spare_no_letter).to(device)

    def loss_fn(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:  # labels on the logits' device
        return nn.functional.cross_entropy(logits, targets.to(logits.device)[labels])

    gen = torch.Generator().manual_seed(fit.seed)
    history = []
    for epoch in tqdm(range(fit.epochs), desc="training head", unit="epoch", leave=False):
        head.train()
        order = real[torch.randperm(len(real), generator=gen)].to(device)  # drawn on the CPU: same on any device
        correct = loss_sum = torch.zeros((), device=device)  # summed on the device: no sync per batch
        for start in range(0, len(order), fit.batch_size):
            idx = order[start : start + fit.batch_size]
            logits = head(x[idx].float(), lm[idx])
            loss = loss_fn(logits, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum = loss_sum + loss.detach() * len(idx)
            correct = correct + (logits.argmax(1) == y[idx]).sum()
        sched.step()
        row = {"epoch": epoch + 1, "train_loss": loss_sum.item() / len(real), "train_acc": correct.item() / len(real)}
        if val is not None and len(val.labels):
            logits = predict_logits(head, val)
            row["val_loss"] = loss_fn(logits, val.labels).item()
            row["val_acc"] = (logits.argmax(1) == val.labels).float().mean().item()
        history.append(row)
        log.debug("epoch %s", row)
    return head.cpu().eval(), history


@torch.inference_mode()
def predict_logits(head: LetterHead, split: Split, view: int = 0) -> torch.Tensor:
    """Logits (on the CPU) of one view of every sample, computed wherever the head is."""
    head.eval()
    device = next(head.parameters()).device
    out = [
        head(split.features[i : i + 512, view].to(device).float(), split.landmarks[i : i + 512, view].to(device))
        for i in range(0, len(split.features), 512)
    ]
    return torch.cat(out).cpu() if out else torch.empty(0, head.config.num_classes)
