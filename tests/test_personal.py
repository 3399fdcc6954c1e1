"""model.calibration's personal layer on a small random head: what it must never do, whatever the data."""

from __future__ import annotations

import pytest
import torch

from model.calibration import (
    CalibrationError,
    CalibrationSettings,
    fit_personal,
    layer_from_info,
    layer_to_info,
    model_tag,
    personalised,
    with_anchors,
    without_letters,
)
from model.network import HeadConfig, LetterHead

CLASSES = ["A", "B", "C", "D", "none"]


CENTRES = torch.rand(len(CLASSES) + 1, 256, 6, 6, generator=torch.Generator().manual_seed(0))  # kinds of hand


def hands(kind: int, n: int, seed: int, shift: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` inputs around one kind of hand (a letter as people show it), moved by ``shift`` towards the next
    kind (one person's own way of showing it)."""
    g = torch.Generator().manual_seed(seed)
    centre = (1 - shift) * CENTRES[kind] + shift * CENTRES[kind + 1]
    features = (centre + 0.05 * torch.randn(n, 256, 6, 6, generator=g)).clamp_min(0)
    return features, torch.full((n, 63), 0.1 * kind) + 0.01 * torch.randn(n, 63, generator=g)


@pytest.fixture(scope="module")
def head() -> LetterHead:
    """A random head whose training photos are the kinds of hand, each read as its own class."""
    torch.manual_seed(0)
    head = LetterHead(HeadConfig(len(CLASSES), hidden=16, dropout=0.0)).eval()
    features, landmarks = (torch.cat(t) for t in zip(*(hands(k, 40, k) for k in range(len(CLASSES)))))
    labels = torch.arange(len(CLASSES)).repeat_interleave(40)
    with torch.no_grad():  # make the last layer read each kind as its class: a trained head in miniature
        z = head.embed(features, landmarks)
        means = torch.stack([z[labels == k].mean(0) for k in range(len(CLASSES))])
        scale = 20 / torch.pdist(means).min() ** 2  # nearest mean, a few nats apart at the nearest
        head.classify[-1].weight.copy_(scale * means)
        head.classify[-1].bias.copy_(-scale * (means**2).sum(1) / 2)
        assert (head(features, landmarks).argmax(1) == labels).float().mean() > 0.9
    return with_anchors(head, features, landmarks, labels)


def shots_of(head: LetterHead, kind: int, seed: int, n: int = 16, shift: float = 0.0) -> tuple[torch.Tensor, ...]:
    """One person's hands of a kind: features, landmarks, and the embeddings and logits the head gives them."""
    features, landmarks = hands(kind, n, seed, shift)
    with torch.no_grad():
        return features, landmarks, head.embed(features, landmarks), head(features, landmarks, no_letter_offset=0.0)


def test_calibrating_one_letter_changes_no_other_letters_logit(head):
    _, _, z, logits = shots_of(head, 1, seed=1, shift=0.5)
    c = CLASSES.index("C")
    layer = fit_personal(head, z, logits, torch.full((len(z),), c), CalibrationSettings())
    personal = personalised(head, layer)
    features, landmarks = (torch.cat(t) for t in zip(*(hands(k, 10, 50 + k, 0.5) for k in range(len(CLASSES)))))
    with torch.no_grad():
        before, after = head(features, landmarks), personal(features, landmarks)
    others = [i for i in range(len(CLASSES)) if i != c]
    assert torch.equal(before[:, others], after[:, others])
    assert not torch.equal(before[:, c], after[:, c])


def test_the_shots_are_read_as_their_letter_and_the_anchors_as_before(head):
    _, _, z, logits = shots_of(head, 2, seed=3, shift=0.6)  # this person's C looks more like others' D
    wanted = CLASSES.index("C")
    assert (logits.argmax(1) != wanted).all()  # the shared model reads these hands as something else
    layer = fit_personal(head, z, logits, torch.full((len(z),), wanted), CalibrationSettings())
    with torch.no_grad():
        assert ((logits + layer(z)).argmax(1) == wanted).float().mean() > 0.9
        anchors = head.anchor_logits + layer(head.anchor_embeddings)
    kept = (anchors.argmax(1) == head.anchor_logits.argmax(1)).float().mean()
    assert kept > 0.95


def test_a_hand_far_from_the_shots_keeps_the_shared_models_logits(head):
    _, _, z, logits = shots_of(head, 0, seed=4)
    layer = fit_personal(head, z, logits, torch.full((len(z),), 0), CalibrationSettings())
    far = z.mean(0, keepdim=True) + 50 * (layer.radius[0] + 1)
    with torch.no_grad():
        assert layer(far).abs().max() < 1e-6
        assert layer(z).abs().max() > 0


def test_calibrating_again_keeps_earlier_letters_and_replaces_a_letter_shot_again(head):
    _, _, z, logits = shots_of(head, 0, seed=5)
    first = personalised(head, fit_personal(head, z, logits, torch.full((len(z),), 0), CalibrationSettings()))
    _, _, z2, logits2 = shots_of(first, 1, seed=6)
    second = personalised(first, fit_personal(first, z2, logits2, torch.full((len(z2),), 1), CalibrationSettings()))
    assert torch.equal(second.personal.weight[0], first.personal.weight[0])  # A kept
    assert second.personal.weight[1].abs().sum() > 0  # B added
    cleared = without_letters(second, [0])
    assert cleared.personal.weight[0].abs().sum() == 0 and torch.equal(
        cleared.personal.weight[1], second.personal.weight[1]
    )


def test_a_kept_calibration_rebuilds_the_same_layer(head):
    _, _, z, logits = shots_of(head, 0, seed=7)
    layer = fit_personal(head, z, logits, torch.tensor([0, 2] * (len(z) // 2)), CalibrationSettings())
    kept = layer_to_info(layer, CLASSES, {"A": 3, "C": 2})
    again, counts = layer_from_info(kept, head.embedding_dim, CLASSES)
    assert counts == {"A": 3, "C": 2}
    with torch.no_grad():
        assert torch.allclose(again(z), layer(z), atol=0.05, rtol=0.01)  # float16 in the browser
    assert sum(len(v["row"]) for v in kept.values()) < 2 * 4 * (2 * head.embedding_dim + 3)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda k: {"K": k["A"]}, "does not know 'K'"),
        (lambda k: {"none": k["A"]}, "does not know 'none'"),
        (lambda k: {"A": {**k["A"], "shots": True}}, "shots must be"),
        (lambda k: {"A": {**k["A"], "shots": 0}}, "shots must be"),
        (lambda k: {"A": {**k["A"], "row": k["A"]["row"][:-4]}}, "the row must be"),
        (lambda k: {"A": {**k["A"], "row": "!" * len(k["A"]["row"])}}, "the row must be"),
        (lambda k: {"A": {**k["A"], "row": _with_value(k["A"]["row"], 0, float("nan"))}}, "the row must be"),
        (lambda k: {"A": {**k["A"], "row": _with_value(k["A"]["row"], -1, -1.0)}}, "negative"),
        (lambda k: {c: k["A"] for c in "ABCD"} | {"E": k["A"]}, "one entry"),
        (lambda k: [], "one entry"),
        (lambda k: {}, "one entry"),
    ],
)
def test_a_strangers_calibration_is_refused_with_one_line(head, change, message):
    _, _, z, logits = shots_of(head, 0, seed=8)
    kept = layer_to_info(
        fit_personal(head, z, logits, torch.zeros(len(z), dtype=torch.long), CalibrationSettings()), CLASSES, {"A": 3}
    )
    with pytest.raises(CalibrationError, match=message):
        layer_from_info(change(kept), head.embedding_dim, CLASSES)


def _with_value(row: str, index: int, value: float) -> str:
    import base64

    import numpy as np

    values = np.frombuffer(base64.b64decode(row), dtype="<f2").copy()
    values[index] = value
    return base64.b64encode(values.tobytes()).decode("ascii")


def test_a_model_without_anchors_says_how_to_add_them():
    bare = LetterHead(HeadConfig(len(CLASSES), hidden=16))
    with pytest.raises(CalibrationError, match="python -m train.anchors"):
        model_tag(bare)
