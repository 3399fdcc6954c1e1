import pytest
import torch

from model.network import (
    CONTACT_POINTS,
    FEATURE_SHAPE,
    HandShape,
    HeadConfig,
    LetterHead,
    bare_alexnet_features,
    with_expert,
)
from tests.synthetic import straight_hand


def test_hand_shape_measures_contacts_and_bends():
    shape = HandShape()
    hand = straight_hand()
    out = shape(hand)
    assert out.shape == (1, shape.dim) and torch.equal(out[:, :63], hand)
    pairs = [(a, b) for i, a in enumerate(CONTACT_POINTS) for b in CONTACT_POINTS[i + 1 :]]
    thumb_index = pairs.index((4, 8))
    pts = hand.view(21, 3)
    assert torch.isclose(out[0, 63 + thumb_index], (pts[4, :2] - pts[8, :2]).norm())
    bends = out[0, 63 + len(pairs) :]
    assert torch.allclose(bends, torch.ones_like(bends), atol=1e-5)  # every joint straight
    curled = pts.clone()
    curled[8, :2] = curled[7, :2] + (curled[7, :2] - curled[6, :2]).flip(0) * torch.tensor([1.0, -1.0])
    index_tip_bend = shape(curled.view(1, 63))[0, 63 + len(pairs) + 5]  # index finger, last joint
    assert abs(index_tip_bend.item()) < 1e-5  # bent at a right angle


def test_hand_shape_in_depth_tells_a_tip_in_front_of_the_thumb_from_one_touching_it():
    """Index tip straight in front of the thumb tip: in the image they touch (as in O), in 3D they are apart
    (as in a C seen from the side)."""
    pts = straight_hand().view(21, 3).clone()
    pts[8] = pts[4] + torch.tensor([0.0, 0.0, 0.4])
    flat_shape = HandShape()
    thumb_index = 63 + flat_shape.pairs.tolist().index([4, 8])  # the module's own pair order
    flat, deep = flat_shape(pts.view(1, 63)), HandShape(depth=True)(pts.view(1, 63))
    assert flat[0, thumb_index] < 1e-6 and deep[0, thumb_index] == pytest.approx(0.4)
    assert flat.shape == deep.shape and torch.equal(flat[0, :63], deep[0, :63])


def test_no_letter_offset_lowers_only_the_last_logit_and_only_outside_training():
    torch.manual_seed(0)
    plain = LetterHead(HeadConfig(num_classes=4, dropout=0.0, hand_shape=True))
    offset = LetterHead(HeadConfig(num_classes=4, dropout=0.0, hand_shape=True, no_letter_offset=2.5))
    offset.load_state_dict(plain.state_dict())
    x, lm = torch.randn(3, *FEATURE_SHAPE), straight_hand().repeat(3, 1)
    plain.eval(), offset.eval()
    diff = plain(x, lm) - offset(x, lm)
    assert torch.allclose(diff, torch.tensor([0.0, 0.0, 0.0, 2.5]).expand(3, 4), atol=1e-5)
    plain.train(), offset.train()
    assert torch.allclose(plain(x, lm), offset(x, lm))


def test_an_expert_multiplies_its_opinion_into_the_letters_it_covers():
    """Classes A, B, K, none; the expert knows A, B, none (K is "none" to it). The joined head's softmax is the
    normalised product p(class) * p_expert(covering class)^w, and it survives a save through its config. An
    operating point given for a call holds for both heads."""
    torch.manual_seed(0)
    main = LetterHead(HeadConfig(num_classes=4, dropout=0.0, hand_shape=True, no_letter_offset=1.0)).eval()
    expert = LetterHead(HeadConfig(num_classes=3, dropout=0.0, hand_shape=True, no_letter_offset=0.5)).eval()
    joined = with_expert(main, expert, ["A", "B", "K", "none"], ["A", "B", "none"], weight=0.5)
    assert joined.config.expert_map == (0, 1, 2, 2)
    x, lm = torch.randn(3, *FEATURE_SHAPE), straight_hand().repeat(3, 1)
    with torch.inference_mode():
        p = main(x, lm).add(torch.tensor([0, 0, 0, 1.0])).softmax(1)  # the main head before its offset
        q = expert(x, lm).softmax(1)[:, [0, 1, 2, 2]]
        product = p * q**0.5 * torch.tensor([1, 1, 1, torch.e**-1.0])  # the offset lowers the joined "none"
        expected = product / product.sum(1, keepdim=True)
        assert torch.allclose(joined(x, lm).softmax(1), expected, atol=1e-5)
        live = main(x, lm, 0.0).softmax(1) * expert(x, lm, 0.0).softmax(1)[:, [0, 1, 2, 2]] ** 0.5
        assert torch.allclose(joined(x, lm, 0.0).softmax(1), live / live.sum(1, keepdim=True), atol=1e-5)  # both at 0
        rebuilt = LetterHead(HeadConfig(**joined.config.to_dict()))
        rebuilt.load_state_dict(joined.state_dict())
        assert torch.allclose(rebuilt.eval()(x, lm), joined(x, lm))
    with pytest.raises(ValueError, match="expert map"):
        LetterHead(HeadConfig(**{**joined.config.to_dict(), "expert_map": (0, 1, 5, 2)}))


def test_backbone_runs_channels_last_with_the_features_of_the_default_layout():
    torch.manual_seed(0)
    backbone = bare_alexnet_features()
    backbone.load_state_dict({k: torch.randn_like(v) * 0.05 for k, v in backbone.state_dict().items()})
    conv = backbone[0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()  # kept on loading
    default = bare_alexnet_features().to(memory_format=torch.contiguous_format)
    default.load_state_dict(backbone.state_dict())
    x = torch.randn(2, 3, 224, 224)
    with torch.inference_mode():
        out, expected = backbone(x), default(x)
    assert out.shape == (2, *FEATURE_SHAPE)
    assert torch.allclose(out, expected, atol=1e-4, rtol=1e-4)
