"""The GPU path: the same model and training on CUDA as on the CPU. CI has no GPU, so the CUDA tests skip there;
they run wherever a GPU is present. The last test is the other side: a GPU asked for where there is none."""

import numpy as np
import pytest
import torch

from model.classifier import LetterClassifier
from model.network import FEATURE_SHAPE, HeadConfig
from model.preprocess import ModelInput
from tests.synthetic import straight_hand
from train.__main__ import main as train_main
from train.fit import FitConfig, Split, fit_head, predict_logits

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (CI has none)")


def hand_inputs(classifier: LetterClassifier, n: int) -> list[ModelInput]:
    """Model inputs of a synthetic hand over noise, through the classifier's own preparation."""
    rng = np.random.default_rng(0)
    landmarks = straight_hand().numpy().reshape(21, 3) * 80 + np.array([112, 190, 0], np.float32)
    return [classifier.prepare(rng.integers(0, 256, (224, 224, 3), dtype=np.uint8), landmarks) for _ in range(n)]


@needs_cuda
def test_shipped_model_gives_the_same_probabilities_on_cuda_and_cpu():
    cpu, gpu = LetterClassifier(device="cpu"), LetterClassifier(device="cuda")
    crops = hand_inputs(cpu, 4)
    assert next(gpu.net.parameters()).is_cuda
    p_cpu = np.stack([p.probs for p in cpu.predict(crops)])
    p_gpu = np.stack([p.probs for p in gpu.predict(crops)])
    assert np.abs(p_cpu - p_gpu).max() < 1e-2  # cuDNN may use TF32 convolutions


@needs_cuda
def test_head_trains_on_cuda_and_comes_back_on_the_cpu():
    torch.manual_seed(0)
    labels = torch.arange(64) % 3
    features = torch.randn(64, 2, *FEATURE_SHAPE).relu() + labels.view(-1, 1, 1, 1, 1) * 2.0
    split = Split(features.half(), torch.randn(64, 2, 63), labels)
    head, history = fit_head(HeadConfig(3, dropout=0.0), FitConfig(epochs=30, lr=3e-3), split, device="cuda")
    assert all(not p.is_cuda for p in head.parameters())
    assert history[-1]["train_acc"] > 0.9
    assert (predict_logits(head, split).argmax(1) == labels).float().mean() > 0.9


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present")
def test_training_on_an_absent_gpu_is_a_one_line_error(tmp_path, capsys):
    assert train_main(["--data", str(tmp_path), "--device", "cuda"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: device 'cuda'") and "not available" in err and "\n" not in err
