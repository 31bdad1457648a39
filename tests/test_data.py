"""The data module: checksums and errors, the split, resident batches against torchvision's pipeline."""

from __future__ import annotations

import shutil

import pytest
import torch

from digitocr import data
from digitocr.errors import DataError


def test_load_mnist_shapes_and_dtypes(mnist_root):
    images, labels = data.load_mnist(mnist_root, train=False)
    assert images.shape == (10000, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (10000,) and labels.dtype == torch.int64
    assert set(labels.unique().tolist()) == set(range(10))


def test_resolve_accepts_raw_or_mnist_folder(mnist_root):
    assert data.resolve_data_dir(mnist_root / "MNIST" / "raw") == mnist_root
    assert data.resolve_data_dir(mnist_root / "MNIST") == mnist_root


def test_env_var_is_the_default_root(monkeypatch, tmp_path):
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    assert data.default_data_dir() == tmp_path


def test_missing_files_say_how_to_fix(tmp_path):
    with pytest.raises(DataError, match=r"--download"):
        data.ensure_mnist(tmp_path)


def _copy_raw(mnist_root, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in data.RAW_MD5:
        shutil.copy(mnist_root / "MNIST" / "raw" / name, raw / name)
    return raw


def test_corrupt_file_is_detected(mnist_root, tmp_path):
    raw = _copy_raw(mnist_root, tmp_path)
    target = raw / "t10k-labels-idx1-ubyte"
    blob = bytearray(target.read_bytes())
    blob[100] ^= 0xFF
    target.write_bytes(bytes(blob))
    with pytest.raises(DataError, match=r"corrupt.*t10k-labels"):
        data.ensure_mnist(tmp_path)


def test_truncated_file_is_detected(mnist_root, tmp_path):
    raw = _copy_raw(mnist_root, tmp_path)
    target = raw / "train-images-idx3-ubyte"
    target.write_bytes(target.read_bytes()[:1000])
    with pytest.raises(DataError, match="corrupt"):
        data.ensure_mnist(tmp_path)


def test_download_failure_is_a_clear_error(tmp_path, monkeypatch):
    from torchvision.datasets import MNIST

    monkeypatch.setattr(MNIST, "mirrors", ["http://127.0.0.1:9/"])  # a closed local port: fails at once
    with pytest.raises(DataError, match="Could not download MNIST"):
        data.ensure_mnist(tmp_path, download=True)


def test_split_is_deterministic_disjoint_and_stratified():
    labels = torch.arange(60000) % 10
    labels = labels[torch.randperm(60000, generator=torch.Generator().manual_seed(1))]
    train_a, val_a = data.split_train_val(labels, 5000, seed=3)
    train_b, val_b = data.split_train_val(labels, 5000, seed=3)
    _, val_c = data.split_train_val(labels, 5000, seed=4)
    assert torch.equal(val_a, val_b) and torch.equal(train_a, train_b)
    assert not torch.equal(val_a, val_c)
    assert len(val_a) == 5000 and len(train_a) == 55000
    assert len(set(val_a.tolist()) | set(train_a.tolist())) == 60000  # disjoint and complete
    counts = labels[val_a].bincount(minlength=10)
    assert counts.min() >= 499 and counts.max() <= 501  # 10% of each balanced class


def test_split_on_real_labels_has_every_class(splits):
    assert len(splits.val_labels) == 5000 and len(splits.train_labels) == 55000
    assert splits.val_labels.bincount(minlength=10).min() > 400


def test_resident_batches_match_torchvision_pipeline(mnist_root):
    """The fast path produces exactly what ToTensor → Normalize → flatten produces."""
    images, labels = data.load_mnist(mnist_root, train=False)
    indices = torch.arange(256)
    loader = data.classic_loader(mnist_root, train=False, batch_size=256, shuffle=False, indices=indices)
    classic_x, classic_y = next(iter(loader))
    batches = data.TensorBatches(images[:256], labels[:256], 256, shuffle=False)
    fast_x, fast_y = next(iter(batches))
    assert fast_x.shape == (256, 1, 28, 28) and classic_x.shape == (256, 784)
    torch.testing.assert_close(fast_x.flatten(1), classic_x, rtol=0, atol=1e-6)
    assert torch.equal(fast_y, classic_y)


def test_batches_shuffle_by_epoch_and_cover_everything():
    images = torch.arange(100, dtype=torch.uint8).view(100, 1, 1).expand(100, 28, 28).contiguous()
    labels = torch.arange(100)
    batches = data.TensorBatches(images, labels, 32, shuffle=True, seed=7)
    epoch0 = torch.cat([y for _, y in batches])
    again = torch.cat([y for _, y in batches])
    batches.set_epoch(1)
    epoch1 = torch.cat([y for _, y in batches])
    assert sorted(epoch0.tolist()) == list(range(100))
    assert torch.equal(epoch0, again) and not torch.equal(epoch0, epoch1)
    assert len(batches) == 4
    resumed = torch.cat([y for _, y in batches.iter_from(2)])
    assert torch.equal(resumed, epoch1[64:])


def test_ddp_shards_are_disjoint_and_equal_sized():
    images = torch.zeros(10, 28, 28, dtype=torch.uint8)
    labels = torch.arange(10)
    shards = [
        torch.cat([y for _, y in data.TensorBatches(images, labels, 4, shuffle=True, rank=r, world_size=3)])
        for r in range(3)
    ]
    assert all(len(s) == 4 for s in shards)
    assert set(torch.cat(shards).tolist()) == set(range(10))


def test_affine_augment_is_seeded_and_keeps_shape():
    x = torch.zeros(8, 1, 28, 28)
    x[:, :, 10:18, 12:16] = 1.0
    aug = data.make_augment("affine")
    a = aug(x.clone(), torch.Generator().manual_seed(0))
    b = aug(x.clone(), torch.Generator().manual_seed(0))
    assert a.shape == x.shape and torch.equal(a, b)
    assert not torch.equal(a, x)
    assert 0.7 < a.sum() / x.sum() < 1.3  # ink is moved, not created or destroyed
    assert data.make_augment("none") is None
    with pytest.raises(DataError):
        data.make_augment("nonsense")
