"""Shared fixtures. Tests that need MNIST read it from $DIGITOCR_DATA or ../shared/mnist beside the
checkout; in CI (CI=true) a missing dataset fails loudly instead of skipping."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter
from scipy import ndimage as ndi

REPO = Path(__file__).resolve().parents[1]


def _mnist_root() -> Path | None:
    for candidate in (os.environ.get("DIGITOCR_DATA"), REPO.parent / "shared" / "mnist"):
        if candidate and (Path(candidate) / "MNIST" / "raw" / "t10k-images-idx3-ubyte").is_file():
            return Path(candidate).resolve()
    return None


# A relative $DIGITOCR_DATA (the README's `export DIGITOCR_DATA=../shared/mnist`) means the folder
# seen from where pytest started; tests that run the CLI or the notebook in another folder inherit
# it, so it is made absolute once, here.
if os.environ.get("DIGITOCR_DATA"):
    os.environ["DIGITOCR_DATA"] = str(Path(os.environ["DIGITOCR_DATA"]).resolve())


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


def _on_a_desk(sheet: np.ndarray, angle: float, at: tuple[int, int], size=(480, 640), seed=0) -> np.ndarray:
    """``sheet`` (uint8 grey paper with writing) turned ``angle`` degrees counter-clockwise, lying at
    ``at`` (x, y) on a dark desk with a wood-like grain, the light falling off to one side."""
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    desk = 55 + 15 * np.sin(xx / 7 + 2 * np.sin(yy / 40)) + rng.normal(0, 3, (h, w))
    picture = Image.fromarray(np.clip(desk, 0, 255).astype(np.uint8))
    cover = Image.new("L", sheet.shape[::-1], 255).rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
    turned = Image.fromarray(sheet).rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
    picture.paste(turned, at, cover)
    lit = np.asarray(picture, np.float32) * (1 - 0.25 * xx / w)
    return np.asarray(Image.fromarray(lit.astype(np.uint8)).filter(ImageFilter.GaussianBlur(1)))


@pytest.fixture
def on_a_desk():
    """A phone photo of a slip of paper lying on a desk: ``on_a_desk(sheet, angle, (x, y))``."""
    return _on_a_desk


def _in_pencil(ink: np.ndarray, contrast: float, seed: int = 0) -> np.ndarray:
    """``ink`` (255 = full ink) written in pencil pressed lightly on grainy paper at 0.85: grey
    graphite, itself grainy, taking at most ``contrast`` of the paper's light (uint8)."""
    rng = np.random.default_rng(seed)
    graphite = ndi.gaussian_filter(rng.uniform(0.5, 1.0, ink.shape), 0.6)
    paper = 0.85 + rng.normal(0, 0.01, ink.shape)
    return np.clip(255 * paper * (1 - contrast * ink / 255 * graphite / graphite.max()), 0, 255).astype(np.uint8)


@pytest.fixture
def in_pencil():
    """Writing in faint pencil: ``in_pencil(ink, contrast)``."""
    return _in_pencil


def _with_glare(picture: np.ndarray, centre: tuple[float, float], width: float, amount: float) -> np.ndarray:
    """``picture`` (uint8 grey) with a lamp's glare on it: a round spot adding ``amount`` of white
    paper's light at its centre (x, y), fading over ``width`` pixels. Light adds in linear light."""
    yy, xx = np.mgrid[0 : picture.shape[0], 0 : picture.shape[1]]
    spot = np.exp(-((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2) / (2 * width**2))
    light = (picture / 255.0) ** 2.2 + amount * spot
    return (np.clip(light, 0, 1) ** (1 / 2.2) * 255).astype(np.uint8)


@pytest.fixture
def with_glare():
    """A lamp's glare on a picture: ``with_glare(picture, (x, y), width, amount)``."""
    return _with_glare
