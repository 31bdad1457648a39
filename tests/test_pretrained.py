"""The model shipped in the package: small, loadable, calibrated, and ≥ 99.5% on the MNIST test set."""

from __future__ import annotations

import pytest

from digitocr.checkpoint import load_checkpoint, load_pretrained, pretrained_path
from digitocr.data import load_mnist
from digitocr.evaluate import evaluate

TARGET_TEST_ACCURACY = 0.995


def test_pretrained_file_is_small_and_documented():
    path = pretrained_path()
    assert path.is_file(), "build it with scripts/train_release.py"
    assert path.stat().st_size < 5 * 1024 * 1024
    ckpt = load_checkpoint(path)
    assert ckpt["model"] == "cnn"
    assert ckpt["config"]["preset"] == "handwriting" and ckpt["config"]["outlier_batch"] > 0
    assert ckpt["config"]["continental"] > 0  # flagged 1s and crossed 7s (see tests/test_predict.py)
    assert ckpt["config"]["round_trip"] > 0  # trained on digits read back from pictures (digitocr.photo)
    assert 0.2 < ckpt["extra"]["temperature"] < 5
    assert ckpt["metrics"]["val"]["accuracy"] >= 0.99 and "calibration" in ckpt["extra"]


def test_load_pretrained_reaches_target_on_the_real_test_set(mnist_root):
    images, labels = load_mnist(mnist_root, train=False)
    metrics = evaluate(load_pretrained(), images, labels)
    assert metrics.n == 10_000
    assert metrics.accuracy >= TARGET_TEST_ACCURACY, metrics.accuracy


def test_package_data_includes_the_model():
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert "pretrained/*.pt" in pyproject["tool"]["setuptools"]["package-data"]["digitocr"]
    pytest.importorskip("torch")
