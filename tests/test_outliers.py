"""Synthetic non-digits for outlier exposure, and the "handwriting" batch augmentation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import ndimage as ndi

from digitocr.data import make_augment, normalize
from digitocr.outliers import KINDS, outlier_image, synthetic_outliers, touching_pairs


def test_outliers_are_uint8_mnist_style_and_deterministic():
    a = synthetic_outliers(300, seed=5)
    b = synthetic_outliers(300, seed=5)
    c = synthetic_outliers(300, seed=6)
    assert a.shape == (300, 28, 28) and a.dtype == torch.uint8
    assert torch.equal(a, b) and not torch.equal(a, c)
    x = a.numpy().astype(np.float32) / 255
    ink = x.sum(axis=(1, 2))
    assert (ink > 5).all()  # every image has writing on it
    # MNIST convention: white ink on black, inside 20×20 (a pixel of anti-aliasing either side),
    # centre of mass within a pixel or two of the centre (a lopsided shape may then touch an edge).
    assert (x[:, :2, :].max(axis=(1, 2)) > 0.05).mean() < 0.1
    for image in x[:50]:
        rows = np.nonzero(image.max(1) > 0.05)[0]
        cols = np.nonzero(image.max(0) > 0.05)[0]
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 22
        cy, cx = ndi.center_of_mass(image)
        assert abs(cy - 14) < 2.5 and abs(cx - 14) < 2.5


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_draws_something(kind):
    images = [outlier_image(kind, np.random.default_rng([0, k])) for k in range(5)]
    assert all(image.shape == (28, 28) and image.max() > 0.5 for image in images)


def test_touching_pairs_are_two_digits_side_by_side(splits):
    digits = splits.train_images[:500]
    pairs = touching_pairs(digits, 64, seed=3)
    assert pairs.shape == (64, 28, 28) and pairs.dtype == torch.uint8
    assert torch.equal(pairs, touching_pairs(digits, 64, seed=3))
    assert not torch.equal(pairs, touching_pairs(digits, 64, seed=4))
    ink = pairs.numpy() > 60
    assert ink.any(axis=(1, 2)).all()
    # two digits of one height side by side are wider than tall once fitted to the 20×20 box
    wide = [np.ptp(np.nonzero(im.any(0))[0]) > np.ptp(np.nonzero(im.any(1))[0]) for im in ink]
    assert np.mean(wide) > 0.8


def test_touching_pairs_with_a_digit_thinner_than_the_overlap():
    wide = torch.zeros(28, 28, dtype=torch.uint8)
    wide[4:24, 6:22] = 255  # a solid block: wider than any overlap
    thin = torch.zeros(28, 28, dtype=torch.uint8)
    thin[4:24, 14] = 255  # a one-pixel stroke: narrower than most overlaps
    pairs = touching_pairs(torch.stack([wide, thin]), 64, seed=0)
    assert (pairs.numpy() > 60).any(axis=(1, 2)).all()


def _train(digits: torch.Tensor, labels: torch.Tensor, outliers: torch.Tensor | None) -> torch.nn.Module:
    from digitocr.models import build_model

    torch.manual_seed(0)
    model = build_model("cnn-fast")
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    x = normalize(digits).unsqueeze(1)  # (N, 1, 28, 28)
    model.train()
    for step, i in enumerate(range(0, len(x), 100)):
        batch = x[i : i + 100]
        if outliers is not None:
            o = normalize(outliers[(step * 25) % len(outliers) :][:25]).unsqueeze(1)
            both = model(torch.cat([batch, o]))
            loss = F.cross_entropy(both[: len(batch)], labels[i : i + 100])
            loss = loss - 0.5 * F.log_softmax(both[len(batch) :], dim=1).mean()
        else:
            loss = F.cross_entropy(model(batch), labels[i : i + 100])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def test_outlier_exposure_lowers_confidence_on_unseen_non_digits(splits):
    """The point of the module: a model trained with them is unsure of *other* non-digits (another
    seed), and still reads digits."""
    digits, labels = splits.train_images[:3000], splits.train_labels[:3000]
    plain = _train(digits, labels, None)
    exposed = _train(digits, labels, synthetic_outliers(600, seed=1))
    held_out = normalize(synthetic_outliers(400, seed=2)).unsqueeze(1)
    val = normalize(splits.val_images[:1000]).unsqueeze(1)
    with torch.inference_mode():
        conf_plain = F.softmax(plain(held_out), 1).max(1).values.mean().item()
        conf_exposed = F.softmax(exposed(held_out), 1).max(1).values.mean().item()
        accuracy = (exposed(val).argmax(1) == splits.val_labels[:1000]).float().mean().item()
    assert conf_exposed < conf_plain - 0.2
    assert accuracy > 0.9


def test_handwriting_augmentation_changes_pen_width_both_ways(mnist_root):
    from digitocr.data import load_mnist

    images, _ = load_mnist(mnist_root, train=False)
    x = images[:256].unsqueeze(1).float() / 255  # (256, 1, 28, 28)
    augment = make_augment("handwriting")
    a = augment(x, torch.Generator().manual_seed(0))
    assert a.shape == x.shape and a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, augment(x, torch.Generator().manual_seed(0)))
    ratio = (a > 0.5).sum(dim=(1, 2, 3)).float() / (x > 0.5).sum(dim=(1, 2, 3)).float()
    assert (ratio > 1.3).float().mean() > 0.1  # thicker pens
    assert (ratio < 0.8).float().mean() > 0.1  # thinner pens
    assert make_augment("handwriting", strength=0) is None
