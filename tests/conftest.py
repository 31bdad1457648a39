"""Shared fixtures. Tests that need MNIST read it from $DIGITOCR_DATA or ../shared/mnist beside the
checkout; in CI (CI=true) a missing dataset fails loudly instead of skipping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


def _mnist_root() -> Path | None:
    for candidate in (os.environ.get("DIGITOCR_DATA"), REPO.parent / "shared" / "mnist"):
        if candidate and (Path(candidate) / "MNIST" / "raw" / "t10k-images-idx3-ubyte").is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    root = _mnist_root()
    if root is None:
        message = "MNIST not found: set DIGITOCR_DATA to a folder holding MNIST/raw (CI uses ../shared/mnist)."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return root


@pytest.fixture(scope="session")
def splits(mnist_root):
    from digitocr.data import load_splits

    return load_splits(mnist_root)


@pytest.fixture(autouse=True)
def _two_threads():
    torch.set_num_threads(2)
