"""Training images that have been where a reader's pictures go: written on paper, photographed,
and read back by :func:`digitocr.preprocess.preprocess` (issue 5).

Owns: :func:`on_paper` (an MNIST-style 28×28 image → a grey picture of that writing on a page) and
:func:`round_trip` (a batch of such images → what ``predict`` hands the model after reading those
pictures back). A model trained only on MNIST's own rendering never sees what reading a real
picture does to a digit: the threshold that breaks a thin, faint stroke or fills a small loop, the
stroke-width normalization, a remnant of a box line, a shadow's edge kept beside the digit. Training
on a share of round-tripped digits (``TrainConfig.round_trip``) shows it those artefacts.

The pictures are drawn independently of the realistic benchmark (``benchmarks/realistic.py``): grey
only, paper from a few random fields, pen width changed at the picture's resolution, and the lines
(box, ruled, underline) drawn here, so the benchmark does not measure on its own distribution.
Image ``k`` depends only on ``(seed, k)`` and the input image.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image
from scipy import ndimage as ndi

from digitocr.preprocess import box_area, box_intersection, disk, preprocess

# Digit height on the page, in pixels: from a small scan to a close phone photo.
HEIGHT_RANGE = (16, 96)
# Pen width change, in MNIST pixels (a 28-px digit), before scaling to the page.
PEN_RANGE = (-0.8, 1.6)
# A round trip is kept when the ink read back covers the digit's box this well (intersection over union).
KEEP_OVERLAP = 0.7


def _pen(digit: np.ndarray, height: int, rng: np.random.Generator) -> np.ndarray:
    """The digit's ink as a pen stroke ``height`` pixels tall: float alpha in [0, 1], cropped to the ink."""
    size = max(10, round(height * 28 / 20))
    alpha = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR), np.float32) / 255
    radius = rng.uniform(*PEN_RANGE) * size / 28 / 2
    if radius >= 0.5:
        alpha = ndi.grey_dilation(alpha, footprint=disk(round(radius)))
    elif radius <= -0.5:
        thinner = ndi.grey_erosion(alpha, footprint=disk(round(-radius)))
        if (thinner > 0.5).sum() > 0.35 * (alpha > 0.5).sum():  # never erase the digit
            alpha = thinner
    edge = rng.uniform(0.15, 0.45)  # where the pen's edge falls on MNIST's soft rim
    alpha = np.clip((alpha - edge) / rng.uniform(0.1, 0.4), 0, 1)
    rows = np.nonzero(alpha.max(1) > 0.05)[0]
    cols = np.nonzero(alpha.max(0) > 0.05)[0]
    if rows.size == 0:
        return alpha
    return alpha[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _field(shape: tuple[int, int], cells: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth random field in [-1, 1]: a coarse grid of noise, interpolated up."""
    coarse = rng.uniform(-1, 1, (cells, cells)).astype(np.float32)
    return np.asarray(Image.fromarray(coarse).resize(shape[::-1], Image.Resampling.BICUBIC), np.float32)


def _page(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Grey paper: a brightness, lit unevenly, with texture and sometimes a shadow's edge."""
    h, w = shape
    page = rng.uniform(0.6, 0.98) + rng.uniform(0, 0.12) * _field(shape, 3, rng)
    page += rng.uniform(0, 0.03) * rng.standard_normal(shape).astype(np.float32)  # fibres and grain
    if rng.random() < 0.2:  # a hand's or a phone's shadow, soft or sharp
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        a = rng.uniform(0, 2 * np.pi)
        d = np.cos(a) * (xx - rng.uniform(0, w)) + np.sin(a) * (yy - rng.uniform(0, h))
        page *= 1 - rng.uniform(0.15, 0.45) / (1 + np.exp(-d / max(1.0, rng.uniform(0.01, 0.15) * max(h, w))))
    return page


def _lines(shape: tuple[int, int], box: tuple[int, int, int, int], rng: np.random.Generator) -> np.ndarray:
    """Printed lines around the digit (alpha): a cell's box, ruled lines or an underline, or none."""
    h, w = shape
    x0, y0, x1, y1 = box
    alpha = np.zeros(shape, np.float32)
    width = max(1, round(rng.uniform(0.01, 0.04) * h))
    style = rng.random()
    if style < 0.25:  # a cell's box, inside the picture or at its edge
        inset = rng.integers(0, max(1, min(y0, x0, h - y1, w - x1)) + 1)
        top, left, bottom, right = inset, inset, h - inset - width, w - inset - width
        alpha[top : top + width, left:right] = 1
        alpha[bottom : bottom + width, left:right] = 1
        alpha[top:bottom, left : left + width] = 1
        alpha[top:bottom, right : right + width] = 1
    elif style < 0.4:  # ruled paper
        gap = max(width + 2, round(rng.uniform(0.6, 1.2) * (y1 - y0)))
        for y in range(int(rng.integers(0, gap)), h, gap):
            alpha[y : y + width] = 1
    elif style < 0.5:  # an underline
        y = min(h - width, y1 + round(rng.uniform(0.02, 0.2) * (y1 - y0)))
        alpha[y : y + width, max(0, x0 - (x1 - x0) // 5) : x1 + (x1 - x0) // 5] = 1
    return alpha * rng.uniform(0.3, 0.9)


def on_paper(digit: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """An MNIST-style digit (uint8 (28, 28), white on black) written on paper and photographed:
    uint8 grey picture, dark ink on light paper (now and then chalk-like, light on dark), and the
    digit's box (x0, y0, x1, y1) in it."""
    alpha = _pen(digit, int(rng.integers(*HEIGHT_RANGE)), rng)
    dh, dw = alpha.shape
    top, bottom = (round(dh * rng.uniform(0.08, 0.6)) for _ in range(2))
    left, right = (round(max(dh, dw) * rng.uniform(0.08, 0.6)) for _ in range(2))
    shape = (dh + top + bottom, dw + left + right)
    ink = np.zeros(shape, np.float32)
    ink[top : top + dh, left : left + dw] = alpha
    lines = _lines(shape, (left, top, left + dw, top + dh), rng)
    page = _page(shape, rng)
    page *= 1 - lines * rng.uniform(0.3, 0.7)
    darkness = rng.uniform(0.35, 0.95)  # a pencil's grey to a marker's black
    page *= 1 - ink * darkness * (1 + rng.uniform(-0.15, 0.15) * _field(shape, 4, rng)).clip(0, 1.2)
    if rng.random() < 0.05:  # chalk on a board, white ink on a dark screen
        page = 1 - page
    sigma = rng.uniform(0, 1.0) * max(1.0, dh / 40)
    if sigma > 0.3:
        page = ndi.gaussian_filter(page, sigma)
    page += rng.uniform(0, 0.04) * rng.standard_normal(shape).astype(np.float32)
    picture = Image.fromarray((np.clip(page, 0, 1) * 255).astype(np.uint8))
    if rng.random() < 0.5:  # a phone's or a scanner's JPEG
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=int(rng.integers(30, 95)))
        picture = Image.open(io.BytesIO(buffer.getvalue()))
    return np.asarray(picture.convert("L")), (left, top, left + dw, top + dh)


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two boxes (x0, y0, x1, y1)."""
    inter = box_intersection(a, b)
    union = box_area(a) + box_area(b) - inter
    return inter / union if union > 0 else 0.0


def round_trip(
    images: torch.Tensor, seed: int = 0, ids: Sequence[int] | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST-style images (uint8 (N, 28, 28)) written on paper by :func:`on_paper` and read back by
    :func:`digitocr.preprocess.preprocess`: uint8 (N, 28, 28) and a bool (N,) saying which came back
    (a picture read as blank keeps its input image and ``False``, and so does one where reading
    kept something else than the digit: a box line, a shadow's edge, a piece of the digit; those
    are the reader's failures, not the digit's look, and their label would be wrong). Image ``k``
    depends only on ``(seed, ids[k])`` and ``images[k]`` (``ids`` defaults to 0 … N-1, so a batch can
    be split between processes and give the same images).
    """
    source = images.numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    ids = range(len(source)) if ids is None else ids
    if len(ids) != len(source):
        raise ValueError(f"round_trip: {len(ids)} ids for {len(source)} images")
    out = source.copy()
    ok = np.zeros(len(source), dtype=bool)
    for k, (digit, stream) in enumerate(zip(source, ids, strict=True)):
        picture, box = on_paper(digit, np.random.default_rng([seed, int(stream), 577]))
        result = preprocess(picture)
        if not result.blank and _overlap(result.box, box) >= KEEP_OVERLAP:
            out[k] = np.round(np.clip(result.image, 0, 1) * 255).astype(np.uint8)
            ok[k] = True
    return torch.from_numpy(out), torch.from_numpy(ok)
