"""Training the head on cached backbone features."""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
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

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Split:
    """Cached features of one split, with integer class labels."""

    features: torch.Tensor  # (N, V, 256, 6, 6) float16
    landmarks: torch.Tensor  # (N, V, 63)
    labels: torch.Tensor  # (N,)


def fit_head(config: HeadConfig, fit: FitConfig, train: Split, val: Split | None = None,
             init: LetterHead | None = None) -> tuple[LetterHead, list[dict]]:
    """Adam and cross-entropy over every view of every training sample; after each epoch, accuracy on the
    clean view of ``val``. ``init`` starts from an existing head (fine-tuning) instead of random weights.
    Returns the head after the last epoch and one history row per epoch."""
    torch.manual_seed(fit.seed)
    head = init if init is not None else LetterHead(config)
    n, v = train.features.shape[:2]
    x = train.features.reshape(n * v, *train.features.shape[2:])
    lm = train.landmarks.reshape(n * v, -1)
    y = train.labels.repeat_interleave(v)
    opt = torch.optim.Adam(head.parameters(), lr=fit.lr, weight_decay=fit.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(fit.epochs, 1))
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(fit.seed)
    history = []
    for epoch in tqdm(range(fit.epochs), desc="training head", unit="epoch", leave=False):
        head.train()
        order = torch.randperm(len(y), generator=gen)
        total, correct, loss_sum = 0, 0, 0.0
        for start in range(0, len(y), fit.batch_size):
            idx = order[start:start + fit.batch_size]
            logits = head(x[idx].float(), lm[idx])
            loss = loss_fn(logits, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == y[idx]).sum().item()
            total += len(idx)
        sched.step()
        row = {"epoch": epoch + 1, "train_loss": loss_sum / total, "train_acc": correct / total}
        if val is not None and len(val.labels):
            logits = predict_logits(head, val)
            row["val_loss"] = loss_fn(logits, val.labels).item()
            row["val_acc"] = (logits.argmax(1) == val.labels).float().mean().item()
        history.append(row)
        log.debug("epoch %s", row)
    return head.eval(), history


@torch.inference_mode()
def predict_logits(head: LetterHead, split: Split, view: int = 0) -> torch.Tensor:
    head.eval()
    out = [head(split.features[i:i + 512, view].float(), split.landmarks[i:i + 512, view])
           for i in range(0, len(split.features), 512)]
    return torch.cat(out) if out else torch.empty(0, head.config.num_classes)


def confusion(true: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (true, pred), 1)
    return cm
