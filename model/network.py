"""The network: frozen ImageNet AlexNet conv layers, then a small CNN head, optionally fused with landmarks."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from torch import nn

from core.landmarks import FINGERS, NUM_LANDMARKS
from model.storage import CheckpointError, load_weights, read_weights_file

log = logging.getLogger(__name__)

FEATURE_SHAPE = (256, 6, 6)  # AlexNet .features output for a 224 x 224 input
LANDMARK_DIM = NUM_LANDMARKS * 3  # x, y, z each
# Landmarks whose pairwise distances describe a hand shape: finger tips, the thumb's last joint and the middle
# joints of the fingers, and the knuckles (MediaPipe numbering: 0 wrist, 1-4 thumb, 5-8 index ... 17-20 little).
CONTACT_POINTS = (4, 8, 12, 16, 20, 3, 6, 10, 14, 18, 5, 9, 13, 17)


def alexnet_features(weights: Path | None) -> nn.Sequential:
    """torchvision's ``alexnet().features`` with ImageNet weights: from ``weights`` (a ``features.*`` state
    dict, for machines without internet) or, when None, torchvision's own download. Frozen, in eval mode."""
    import torchvision

    if weights is None:
        try:
            net = torchvision.models.alexnet(weights=torchvision.models.AlexNet_Weights.IMAGENET1K_V1)
        except (OSError, RuntimeError) as exc:  # URLError is an OSError; a half download fails its hash check
            raise CheckpointError(
                f"cannot download torchvision's ImageNet AlexNet weights ({str(exc).strip()[:80]}): with no "
                "internet, pass --backbone FILE (alexnet_features_imagenet1k_v1.pth), or set ASL_SHARED to the "
                "folder holding weights/ of the shared data"
            ) from None
    else:
        net = torchvision.models.alexnet(weights=None)
        what = "AlexNet features weights (--backbone)"
        load_weights(net, read_weights_file(weights, what), f"{what} {weights}", ignore=("classifier.",))
    return _frozen(net.features)


def bare_alexnet_features() -> nn.Sequential:
    """The AlexNet conv stack with no weights, to load a checkpoint's backbone into."""
    import torchvision

    return _frozen(torchvision.models.alexnet(weights=None).features)


def _frozen(features: nn.Sequential) -> nn.Sequential:
    """In eval mode, without gradients, and with channels-last weights: oneDNN then runs every conv on
    channels-last tensors, which on a 2-core CPU is 10-15% faster than the default layout (README) and gives
    the same features to float precision. Weights loaded later keep this layout."""
    return features.eval().requires_grad_(False).to(memory_format=torch.channels_last)


class HandShape(nn.Module):
    """Normalised landmarks (N, 63) -> those plus what tells fingerspelled letters apart: the distances between
    finger tips, joints and knuckles (which fingers touch the thumb, as in D, E, F) and how much each finger
    joint bends (curled in A, E, S; straight in B). A small MLP could learn these from coordinates, but with a
    few thousand photos it learns them better when given; in signer CV on landmarks alone: 98.7% -> 99.0%.
    No parameters, so it adds nothing to train and nothing to the checkpoint.

    ``depth`` measures the distances in 3D, with MediaPipe's depth estimate, instead of in the image plane: a C
    seen from the side puts the finger tips in front of the thumb, where in the image they seem to touch it as
    in an O (README: held-out roboflow groups).
    """

    pairs: torch.Tensor  # (P, 2) landmark indices whose distance is measured
    joints: torch.Tensor  # (J, 3) landmark indices around each bending joint

    def __init__(self, depth: bool = False) -> None:
        super().__init__()
        self.axes = 3 if depth else 2
        pairs = [(a, b) for i, a in enumerate(CONTACT_POINTS) for b in CONTACT_POINTS[i + 1 :]]
        chains = [(0, *finger) for finger in FINGERS]  # each finger from the wrist
        joints = [c[i : i + 3] for c in chains for i in range(len(c) - 2)]
        self.register_buffer("pairs", torch.tensor(pairs), persistent=False)
        self.register_buffer("joints", torch.tensor(joints), persistent=False)
        self.dim = LANDMARK_DIM + len(pairs) + len(joints)

    def forward(self, landmarks: torch.Tensor) -> torch.Tensor:
        p = landmarks.view(len(landmarks), NUM_LANDMARKS, 3)
        distances = (p[:, self.pairs[:, 0], : self.axes] - p[:, self.pairs[:, 1], : self.axes]).norm(dim=-1)
        a, b, c = (p[:, self.joints[:, i]] for i in range(3))
        bend = nn.functional.cosine_similarity(b - a, c - b, dim=-1, eps=1e-6)
        return torch.cat([landmarks, distances, bend], dim=1)


@dataclass(frozen=True)
class HeadConfig:
    """Everything needed to rebuild a head; stored in the checkpoint."""

    num_classes: int
    use_landmarks: bool = True
    image_branch: str = "pointwise"  # or "original"
    hidden: int = 128
    dropout: float = 0.3
    image_dropout: float = 0.0  # training only: share of samples whose image branch is blanked
    hand_shape: bool = False  # landmarks enter with distances and bends added (HandShape)
    shape_depth: bool = False  # HandShape's distances in 3D (False: in the image plane, as before 2026-11-26)
    no_letter_offset: float = 0.0  # outside training, subtracted from the last ("no letter") logit; see LetterHead
    # A second head over fewer letters whose opinion is multiplied in (see LetterHead): its config as a dict, for
    # each of this head's classes the expert's class that covers it, and the expert's exponent in the product.
    expert: dict | None = None
    expert_map: tuple[int, ...] = ()
    expert_weight: float = 1.0
    # Calibration (model.calibration): ``anchors`` embeddings of training photos kept with the base model's logits
    # for them, ``personal`` a per-person linear correction of the logits.
    anchors: int = 0
    personal: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


class PersonalLayer(nn.Module):
    """A per-person correction of the logits from the embedding (``model.calibration`` fits it): for each
    calibrated letter a linear term, felt only near that person's shots of it. The gate is 1 within ``radius``
    of ``centre`` (the shots' mean) and falls off as a Gaussian of width ``reach`` beyond, so a hand unlike the
    shots keeps the shared model's logits whatever the linear term would say that far away. A letter with no
    shots has reach 0: no term at all."""

    centre: torch.Tensor
    radius: torch.Tensor
    reach: torch.Tensor

    def __init__(self, dim: int, classes: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(classes, dim))
        self.bias = nn.Parameter(torch.zeros(classes))
        self.register_buffer("centre", torch.zeros(classes, dim))
        self.register_buffer("radius", torch.zeros(classes))
        self.register_buffer("reach", torch.zeros(classes))

    def gate(self, z: torch.Tensor) -> torch.Tensor:
        beyond = (torch.cdist(z, self.centre) - self.radius).clamp_min(0)
        on = self.reach > 0
        falloff = torch.exp(-((beyond / self.reach.clamp_min(1e-6)) ** 2) / 2)
        return torch.where(on, falloff, torch.zeros((), dtype=falloff.dtype))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.gate(z) * (z @ self.weight.T + self.bias)


class LetterHead(nn.Module):
    """A small CNN over the AlexNet feature map, and, when ``use_landmarks``, a small MLP over the normalised
    21 landmarks whose output joins the image branch before the last layer: the landmarks carry hand shape,
    the pixels carry what landmarks miss (finger contact, thumb over or beside the fingers).

    ``image_branch="original"`` is the original design, Conv(256->256, 5x5) -> ReLU -> AdaptiveAvgPool(3) ->
    FC 128; ``"pointwise"`` (the default) is Conv(256->128, 1x1) -> ReLU -> FC 128 over all 6x6 positions,
    which keeps where each feature is instead of pooling it away, and trains three times faster. In 5-fold
    signer CV it measured 96.9% against 96.2% for the original with landmarks, 94.1% against 93% without.

    ``no_letter_offset`` lowers the "no letter" logit (the last class) outside training. Training shows the
    head six times more photos of other letters than of any one letter, and the learned prior makes it
    answer "no letter" for A-I hands it is unsure of; the offset trades that back (a log-prior correction,
    chosen by cross-validation: see train/__main__.py and README).

    ``expert``: a product of experts. A head trained on fewer letters (A-I, everything else "no letter", at its own
    offset) tells those letters from the rest better than this head tells them from each of the others: the
    alphabet head takes an unseen signer's E for an S or an M where the A-I head, which only has to say "E or
    not", does not. The output is then log p(class) + w log p_expert(the expert's class covering it), a
    normalised product after softmax, so every consumer (smoother, evaluation, calibration) sees ordinary logits.
    What it gains and costs is measured in README ("An A-I expert").
    """

    anchor_embeddings: torch.Tensor  # with ``config.anchors`` (model.calibration)
    anchor_logits: torch.Tensor

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
        self.image = nn.Sequential(
            *conv, nn.Flatten(), nn.Dropout(c.dropout), nn.Linear(flat, c.hidden), nn.ReLU(inplace=True)
        )
        joined = c.hidden
        if c.use_landmarks:
            shape = [HandShape(c.shape_depth)] if c.hand_shape else []
            self.landmarks = nn.Sequential(
                *shape,
                nn.Linear(shape[0].dim if shape else LANDMARK_DIM, 128),
                nn.ReLU(inplace=True),
                nn.Linear(128, 64),
                nn.ReLU(inplace=True),
            )
            joined += 64
        self.classify = nn.Sequential(nn.Dropout(c.dropout), nn.Linear(joined, c.num_classes))
        self.expert: LetterHead | None = None
        if c.expert is not None:
            self.expert = LetterHead(HeadConfig(**c.expert))
            if len(c.expert_map) != c.num_classes or not all(
                0 <= i < self.expert.config.num_classes for i in c.expert_map
            ):
                raise ValueError(f"expert map {list(c.expert_map)} does not fit {c.num_classes} classes")
            self.register_buffer("expert_index", torch.tensor(c.expert_map), persistent=False)
        self.embedding_dim = joined
        if c.anchors:  # filled by model.calibration.with_anchors; read by calibration only, never by forward
            self.register_buffer("anchor_embeddings", torch.zeros(c.anchors, joined))
            self.register_buffer("anchor_logits", torch.zeros(c.anchors, c.num_classes))
        self.personal: PersonalLayer | None = PersonalLayer(joined, c.num_classes) if c.personal else None

    def embed(self, features: torch.Tensor, landmarks: torch.Tensor | None = None) -> torch.Tensor:
        """The joined image and landmark vector that the last layer reads: where calibration measures hands."""
        x = self.image(features)
        if self.config.use_landmarks:
            if self.training and self.config.image_dropout > 0:
                # Modality dropout: some samples must be classified from landmarks alone, so a background
                # unlike any in training (a face behind the hand) cannot outvote a clear hand shape.
                x = x * (torch.rand(len(x), 1, device=x.device) >= self.config.image_dropout)
            x = torch.cat([x, self.landmarks(landmarks)], dim=1)
        return x

    def forward(
        self, features: torch.Tensor, landmarks: torch.Tensor | None = None, no_letter_offset: float | None = None
    ) -> torch.Tensor:
        """Logits; ``no_letter_offset`` is the operating point for this call (None: each head's own). It is the
        expert's too, so a point set for single photos or for live frames holds for the whole model."""
        x = self.embed(features, landmarks)
        logits = self.classify(x)
        if self.expert is not None:
            opinion = self.expert(features, landmarks, no_letter_offset).log_softmax(1)[:, self.expert_index]
            logits = logits.log_softmax(1) + self.config.expert_weight * opinion
        if self.personal is not None:
            logits = logits + self.personal(x)
        offset = self.config.no_letter_offset if no_letter_offset is None else no_letter_offset
        if offset and not self.training:
            logits = torch.cat([logits[:, :-1], logits[:, -1:] - offset], dim=1)
        return logits


def with_expert(
    head: LetterHead, expert: LetterHead, classes: list[str], expert_classes: list[str], weight: float
) -> LetterHead:
    """``head`` with ``expert`` multiplied in (see LetterHead); each class maps to the expert's class of the same
    name, or to the expert's last class ("no letter") when the expert does not know it."""
    mapping = tuple(expert_classes.index(c) if c in expert_classes else len(expert_classes) - 1 for c in classes)
    config = replace(head.config, expert=expert.config.to_dict(), expert_map=mapping, expert_weight=weight)
    joined = LetterHead(config)
    joined.load_state_dict({**head.state_dict(), **{f"expert.{k}": v for k, v in expert.state_dict().items()}})
    return joined.eval()


class LetterNet(nn.Module):
    """Backbone and head together: normalised crops (N, 3, 224, 224) and landmarks (N, 63) in, logits out."""

    def __init__(self, backbone: nn.Module, head: LetterHead) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(
        self, images: torch.Tensor, landmarks: torch.Tensor | None = None, no_letter_offset: float | None = None
    ) -> torch.Tensor:
        return self.head(self.backbone(images), landmarks, no_letter_offset)
