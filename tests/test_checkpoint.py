import pytest
import torch

from model.checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from model.device import pick_device
from model.network import HeadConfig, LetterHead, LetterNet, bare_alexnet_features
from model.preprocess import Preprocess


@pytest.fixture
def ckpt_path(tmp_path):
    torch.manual_seed(0)
    net = LetterNet(bare_alexnet_features(), LetterHead(HeadConfig(num_classes=3)))
    path = tmp_path / "m.pt"
    save_checkpoint(path, Checkpoint(net, ["A", "B", "none"], Preprocess(margin=0.3), {"metrics": {"acc": 0.9}}))
    return path, net


def test_round_trip_keeps_weights_classes_preprocessing_and_info(ckpt_path):
    """Weights travel in half precision: the loaded network is the saved one with its weights so rounded."""
    path, net = ckpt_path
    loaded = load_checkpoint(path)
    assert all(p.dtype == torch.float32 for p in loaded.net.parameters())
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(p.half().float())
    assert loaded.classes == ["A", "B", "none"] and loaded.letters == ["A", "B"]
    assert loaded.preprocess.margin == 0.3
    assert loaded.info["metrics"]["acc"] == 0.9
    x, lm = torch.randn(2, 3, 224, 224), torch.randn(2, 63)
    net.eval()
    with torch.no_grad():
        assert torch.allclose(loaded.net(x, lm), net(x, lm), atol=1e-5)


def test_truncated_file_gives_one_line_error(ckpt_path):
    path, _ = ckpt_path
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert "\n" not in str(err.value) and "corrupt" in str(err.value) and "cut short" in str(err.value)


@pytest.mark.parametrize("content", [b"", b"# a text file, not a model\n"])
def test_empty_and_text_files_give_one_line_error_without_weights_only_advice(tmp_path, content):
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert "\n" not in str(err.value) and "corrupt" in str(err.value) and "weights_only" not in str(err.value)


def test_foreign_and_missing_files_are_rejected(tmp_path):
    foreign = tmp_path / "f.pt"
    torch.save({"weight": torch.zeros(2)}, foreign)
    with pytest.raises(CheckpointError, match="not an asl-letters"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nope.pt")


def test_incompatible_head_is_reported(ckpt_path):
    path, _ = ckpt_path
    payload = torch.load(path, weights_only=True)
    payload["head_config"]["num_classes"] = 7
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="incompatible"):
        load_checkpoint(path)


def test_device_choice():
    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type in {"cpu", "cuda", "mps"}
    with pytest.raises(ValueError):
        pick_device("tpu")


def test_checkpoint_is_stored_in_half_precision(ckpt_path):
    path, net = ckpt_path
    payload = torch.load(path, weights_only=True)
    assert {v.dtype for v in payload["backbone"].values()} == {torch.float16}
    full = sum(p.numel() * 4 for p in net.parameters())
    assert path.stat().st_size < 0.6 * full


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["head"]["classify.1.bias"].fill_(float("nan")), "not finite numbers (classify.1.bias)"),
        (lambda d: d["preprocess"].update(mean=[0.5]), "3 means"),
        (lambda d: d["preprocess"].update(input_size=0), "input size 0"),
        (lambda d: d["preprocess"].update(input_size=300), "the head takes (256, 6, 6)"),
        (lambda d: d["head"].update({"classify.1.weight": torch.zeros(3, 5)}), "classify.1.weight is (3, 5)"),
        # issue 35: what the file asks to be built is checked before anything is allocated
        (lambda d: d["head_config"].update(hidden=400_000), "hidden must be a whole number from 1 to 4096"),
        (lambda d: d["head_config"].update(anchors=10**9), "anchors must be a whole number"),
        (lambda d: d["head_config"].update(num_classes=200_000), "num_classes must be"),
        (lambda d: d["head_config"].update(no_letter_offset=float("nan")), "no_letter_offset must be a number"),
        (lambda d: d["head_config"].update(hidden="256"), "hidden must be a whole number"),
        (lambda d: d["head_config"].update(surprise=1), "unknown head setting 'surprise'"),
        (lambda d: d["head_config"].update(expert={"num_classes": 3, "hidden": 10**6}), "hidden must be"),
        (lambda d: d.update(head_config=[1, 2]), "no head settings"),
        (lambda d: d.update(classes=["A", "A"]), "distinct letters"),
        (lambda d: d.update(classes=["", "B"]), "distinct letters"),
        (lambda d: d.update(classes=["<b>A</b>", "B"]), "distinct letters"),
        (lambda d: d.update(classes=["A" * 1_000_000, "B"]), "distinct letters"),
        (lambda d: d.update(classes=[chr(65 + i % 26) for i in range(200_000)]), "a list of 2 to 64"),
        (lambda d: d.update(classes="ABC"), "a list of 2 to 64"),
        (lambda d: d.update(info=["not", "a", "dict"]), "info is not a dictionary"),
        (lambda d: d.update(info={"moving_shapes": {"J": [[[0, 0], [1, 1]]] * 40_000}}), "at most 50 personal J"),
        (lambda d: d.update(info={"moving_shapes": {"Q": []}}), "J/Z shapes are damaged"),
        (lambda d: d.update(info={"calibration": "yes"}), "calibration record is damaged"),
    ],
)
def test_inconsistent_checkpoints_are_refused_when_loading(ckpt_path, change, message):
    """NaN weights, preprocessing the network cannot take, a weight of another shape: refused at load time with
    the reason, not at the first hand (or with an 11% model)."""
    path, _ = ckpt_path
    payload = torch.load(path, weights_only=True)
    change(payload)
    torch.save(payload, path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_zip_that_unpacks_to_more_than_a_model_is_refused_before_unpacking(tmp_path, monkeypatch):
    """Issue 35: a 1.46 MB zip bomb took 5.1 GB and 25 s before its refusal."""
    import zipfile

    from model import storage

    monkeypatch.setattr(storage, "MAX_UNPACKED_BYTES", 1_000_000)
    bomb = tmp_path / "bomb.pt"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", b"\0" * 5_000_000)
    assert bomb.stat().st_size < 50_000
    with pytest.raises(CheckpointError, match="unpacks to 5 MB in 1 parts: more than a model holds"):
        load_checkpoint(bomb)


def test_one_loaded_model_answers_at_either_operating_point():
    """predict(..., no_letter_offset) for one call equals a classifier loaded at that operating point."""
    import numpy as np

    from model import AI_CHECKPOINT
    from model.classifier import LetterClassifier

    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (240, 240, 3), dtype=np.uint8)
    landmarks = np.column_stack([rng.uniform(60, 180, (21, 2)), rng.uniform(-20, 20, 21)]).astype(np.float32)
    live = LetterClassifier(AI_CHECKPOINT, "cpu", no_letter_offset=0.0)
    photo = LetterClassifier(AI_CHECKPOINT, "cpu")
    assert photo.photo_offset == live.photo_offset > 0
    inputs = [live.prepare(image, landmarks)]
    at_photo = live.predict(inputs, no_letter_offset=live.photo_offset)[0].probs
    np.testing.assert_allclose(at_photo, photo.predict(inputs)[0].probs, atol=1e-6)
    np.testing.assert_allclose(
        photo.predict(inputs, no_letter_offset=0.0)[0].probs, live.predict(inputs)[0].probs, atol=1e-6
    )
    assert not np.allclose(at_photo, live.predict(inputs)[0].probs)
