"""Batch augmentations keep labels valid: bounded transforms of fixed digits stay recognizable."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from digitocr.checkpoint import pretrained_path
from digitocr.data import AUGMENTS, MNIST_MEAN, MNIST_STD, load_mnist, make_augment

N_IMAGES = 500


@pytest.fixture(scope="module")
def fixed_digits(mnist_root):
    images, labels = load_mnist(mnist_root, train=False)
    return images[:N_IMAGES].unsqueeze(1).float() / 255.0, labels[:N_IMAGES]  # (N, 1, 28, 28) in [0, 1]


AUGMENTED = [name for name, fn in AUGMENTS.items() if fn is not None]


@pytest.mark.parametrize("name", AUGMENTED)
def test_shape_range_and_determinism(fixed_digits, name):
    x, _ = fixed_digits
    augment = make_augment(name)
    a = augment(x[:64], torch.Generator().manual_seed(3))
    b = augment(x[:64], torch.Generator().manual_seed(3))
    assert a.shape == x[:64].shape and a.dtype == torch.float32
    assert a.min() >= 0 and a.max() <= 1 + 1e-6
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, augment(x[:64], torch.Generator().manual_seed(4)))


@pytest.mark.parametrize("name", AUGMENTED)
def test_transformed_digit_stays_close_to_the_original(fixed_digits, name):
    x, _ = fixed_digits
    out = make_augment(name)(x, torch.Generator().manual_seed(0))
    similarity = F.cosine_similarity(out.flatten(1), x.flatten(1))  # (N,)
    # a thin '1' shifted by 2 px may barely overlap itself, so the bound is on the typical image
    assert similarity.mean() > 0.5 and similarity.median() > 0.55
    ink = out.flatten(1).sum(1) / x.flatten(1).sum(1)  # ink is moved, not created or lost
    assert 0.6 < ink.median() < 1.4


def test_zero_strength_is_identity():
    assert make_augment("affine-elastic", 0.0) is None


@pytest.mark.skipif(not pretrained_path().is_file(), reason="the pretrained model is not built yet")
@pytest.mark.parametrize("name", AUGMENTED)
def test_pretrained_model_still_reads_augmented_digits(fixed_digits, name):
    from digitocr.checkpoint import load_pretrained

    x, labels = fixed_digits
    model = load_pretrained()
    out = make_augment(name)(x, torch.Generator().manual_seed(1))
    with torch.inference_mode():
        accuracy = (model((out - MNIST_MEAN) / MNIST_STD).argmax(1) == labels).float().mean()
    assert accuracy >= 0.97, (name, float(accuracy))
