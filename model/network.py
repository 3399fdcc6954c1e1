"""The network: frozen ImageNet AlexNet conv layers, then a small CNN head, optionally fused with landmarks."""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

log = logging.getLogger(__name__)

FEATURE_SHAPE = (256, 6, 6)  # AlexNet .features output for a 224 x 224 input
LANDMARK_DIM = 63  # 21 landmarks x (x, y, z)


def alexnet_features(weights: Path | None) -> nn.Sequential:
    """torchvision's ``alexnet().features`` with ImageNet weights: from ``weights`` (a ``features.*`` state
    dict, for machines without internet) or, when None, torchvision's own download. Frozen, in eval mode."""
    import torchvision

    if weights is None:
        net = torchvision.models.alexnet(weights=torchvision.models.AlexNet_Weights.IMAGENET1K_V1)
    else:
        net = torchvision.models.alexnet(weights=None)
        missing, unexpected = net.load_state_dict(torch.load(weights, weights_only=True), strict=False)
        if unexpected or any(not k.startswith("classifier.") for k in missing):
            raise ValueError(f"{weights} is not an AlexNet features state dict")
    features = net.features.eval()
    features.requires_grad_(False)
    return features


def bare_alexnet_features() -> nn.Sequential:
    """The AlexNet conv stack with no weights, to load a checkpoint's backbone into."""
    import torchvision

    return torchvision.models.alexnet(weights=None).features.eval().requires_grad_(False)


@dataclass(frozen=True)
class HeadConfig:
    """Everything needed to rebuild a head; stored in the checkpoint."""

    num_classes: int
    use_landmarks: bool = True
    image_branch: str = "pointwise"  # or "original"
    hidden: int = 128
    dropout: float = 0.3
    image_dropout: float = 0.0  # training only: share of samples whose image branch is blanked

    def to_dict(self) -> dict:
        return asdict(self)


class LetterHead(nn.Module):
    """A small CNN over the AlexNet feature map, and, when ``use_landmarks``, a small MLP over the normalised
    21 landmarks whose output joins the image branch before the last layer: the landmarks carry hand shape,
    the pixels carry what landmarks miss (finger contact, thumb over or beside the fingers).

    ``image_branch="original"`` is the original design, Conv(256->256, 5x5) -> ReLU -> AdaptiveAvgPool(3) ->
    FC 128; ``"pointwise"`` (the default) is Conv(256->128, 1x1) -> ReLU -> FC 128 over all 6x6 positions,
    which keeps where each feature is instead of pooling it away, and trains three times faster. In 5-fold
    signer CV it measured 96.9% against 96.2% for the original with landmarks, 94.1% against 93% without.
    """

    def __init__(self, config: HeadConfig) -> None:
        super().__init__()
        self.config = c = config
        channels, positions = FEATURE_SHAPE[0], FEATURE_SHAPE[1] * FEATURE_SHAPE[2]
        if c.image_branch == "original":
            conv = [nn.Conv2d(channels, channels, 5, padding=1), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(3)]
            flat = channels * 9
        elif c.image_branch == "pointwise":
            conv = [nn.Conv2d(channels, 128, 1), nn.ReLU(inplace=True)]
            flat = 128 * positions
        else:
            raise ValueError(f"unknown image branch {c.image_branch!r}")
        self.image = nn.Sequential(*conv, nn.Flatten(), nn.Dropout(c.dropout), nn.Linear(flat, c.hidden),
                                   nn.ReLU(inplace=True))
        joined = c.hidden
        if c.use_landmarks:
            self.landmarks = nn.Sequential(
                nn.Linear(LANDMARK_DIM, 128), nn.ReLU(inplace=True), nn.Linear(128, 64), nn.ReLU(inplace=True))
            joined += 64
        self.classify = nn.Sequential(nn.Dropout(c.dropout), nn.Linear(joined, c.num_classes))

    def forward(self, features: torch.Tensor, landmarks: torch.Tensor | None = None) -> torch.Tensor:
        x = self.image(features)
        if self.config.use_landmarks:
            if self.training and self.config.image_dropout > 0:
                # Modality dropout: some samples must be classified from landmarks alone, so a background
                # unlike any in training (a face behind the hand) cannot outvote a clear hand shape.
                x = x * (torch.rand(len(x), 1, device=x.device) >= self.config.image_dropout)
            x = torch.cat([x, self.landmarks(landmarks)], dim=1)
        return self.classify(x)


class LetterNet(nn.Module):
    """Backbone and head together: normalised crops (N, 3, 224, 224) and landmarks (N, 63) in, logits out."""

    def __init__(self, backbone: nn.Sequential, head: LetterHead) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, images: torch.Tensor, landmarks: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.backbone(images), landmarks)
