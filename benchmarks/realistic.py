"""Realistic evaluation images from MNIST *test* digits, and the figures of issue 5 measured on them.

The generator composes MNIST test digits (never training digits) into pictures that look like
paper: dark ink (black, blue, pencil grey) on a light, uneven, textured background with shadows,
varied stroke width, slant and size, spacing from wide to touching, separators (. , - /), ruled
lines, underlines, cell borders and boxes, then blur, noise, perspective and JPEG compression.
It also makes images that are not digits (blank paper, letters drawn with fonts, scribbles) for
the refusal figures. Everything is deterministic given the seed.

Run as a script (``python benchmarks/realistic.py [--model CKPT] [--n N]``) to print:
single-digit accuracy, exact-string and digit-level accuracy on 1-10 digit numbers and on cheque
amounts (with their separators and the marks written before and after them), the plain
MNIST round trip against the model's own test accuracy, tight crops (digits filling a 16-64 px
square, USPS-style, and numbers cut to their ink), digits stored as other datasets store them
(16-32 px, grey or 1-bit, any pen), cells and rows of cells cut from a form's grid with their
neighbours' digits showing at the frame, numbers on squared paper (an exercise book's grid through
the digits), numbers written on a line rising or falling by 1-12 degrees and cells cut from a form
photographed turned by 2-12 degrees, times, telephone numbers and figures in brackets (a colon,
brackets and a dash among the digits), a form's fields (percentages, and numbers after the field's
printed label), columns of 2-4 numbers written one above another (read line by line), numbers
underlined by hand with the writing's pen and amounts whose cents are written small, raised and
underlined (125⁵⁰), 1s and 7s written the continental way (a flag on the 1, a bar across the 7), digits
small in an uncropped photo, slips of paper photographed lying on a desk, photos taken in dim light, numbers photographed
from one side, real handwriting that is not MNIST (UCI optdigits, 8×8, with scikit-learn installed), refusal
rates, and images per second.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import itertools
import json
import math
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from scipy import ndimage as ndi

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
# Letters that do not look like a digit in any common hand (O/o/D/Q≈0, I/l/i/j≈1, Z/z≈2, S/s≈5,
# G/b≈6, T≈7, B≈8, g/q≈9, and y, which writers close into 4 or 9, are left out: refusing them would
# be wrong).
LETTERS = "ACEFHKLMNPRUVWXYacefhkmnprtuvwx"
INK_COLOURS = [(20, 20, 25), (25, 35, 110), (60, 60, 65), (15, 30, 60), (90, 90, 95)]
# Gaps between neighbouring digits by spacing, in digit heights (negative: overlapping).
GAPS = {"wide": (0.3, 0.8), "normal": (0.08, 0.3), "tight": (0.0, 0.1), "touching": (-0.12, 0.0)}
# Marks written with a cheque's amount, as strokes in a box one digit height tall (x right, y down
# from the top of the digits; the baseline is y = 1) and their advance. Delimiters before and after
# the amount keep anyone from adding digits (a study of Indian cheques lists /, = and /- as the marks
# that end one); separators part thousands and cents. The label is the digits alone.
AMOUNT_MARKS: dict[str, tuple[list[list[tuple[float, float]]], float]] = {
    "$": (
        [
            [
                (0.5, 0.25),
                (0.35, 0.15),
                (0.12, 0.22),
                (0.1, 0.4),
                (0.3, 0.52),
                (0.48, 0.65),
                (0.45, 0.85),
                (0.25, 0.95),
                (0.02, 0.85),
            ],
            [(0.27, 0.02), (0.27, 1.08)],
        ],
        0.55,
    ),
    "#": (
        [[(0.2, 0.15), (0.1, 0.95)], [(0.5, 0.15), (0.4, 0.95)], [(0.0, 0.4), (0.6, 0.4)], [(0.0, 0.7), (0.55, 0.7)]],
        0.6,
    ),
    "*": ([[(0.05, 0.35), (0.45, 0.75)], [(0.45, 0.35), (0.05, 0.75)], [(0.25, 0.3), (0.25, 0.8)]], 0.5),
    "=": ([[(0.0, 0.4), (0.55, 0.4)], [(0.0, 0.65), (0.55, 0.65)]], 0.55),
    "/-": ([[(0.5, 0.0), (0.0, 1.0)], [(0.45, 0.6), (0.85, 0.6)]], 0.85),
    ".-": ([[(0.0, 0.95), (0.03, 0.95)], [(0.2, 0.6), (0.6, 0.6)]], 0.6),
    "/": ([[(0.55, 0.0), (0.0, 1.0)]], 0.55),
    "-": ([[(0.0, 0.6), (0.5, 0.6)]], 0.5),
    ".": ([[(0.0, 0.95), (0.03, 0.95)]], 0.2),
    ",": ([[(0.08, 0.9), (0.0, 1.15)]], 0.2),
    "'": ([[(0.1, 0.0), (0.0, 0.28)]], 0.2),
}
# Pen bands for the figures by pen width (the generator draws the change from [-1, 2.5]).
PEN_THIN, PEN_THICK = -0.5, 1.0


@dataclass(frozen=True)
class Sample:
    """One generated picture: encoded file bytes, the digits on it ("" for non-digits), its kind."""

    data: bytes
    label: str
    kind: str
    boxes: tuple[tuple[int, int, int, int], ...] = ()
    pen: float = 0.0  # the pen-width change the digits got (in 28-px units; negative: thinner)


def load_test_digits(root: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """MNIST test images uint8 (N, 28, 28) and labels (N,): the only digits the generator uses."""
    from digitocr.data import load_mnist

    images, labels = load_mnist(root, train=False)
    return images.numpy(), labels.numpy()


# ---------------------------------------------------------------------------------------------
# Paper, ink, degradation
# ---------------------------------------------------------------------------------------------


def _paper(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Light, uneven, textured paper, float (H, W, 3) in [0, 1]."""
    base = rng.uniform(0.72, 0.97)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    ramp = (np.cos(angle) * xx / max(width, 1) + np.sin(angle) * yy / max(height, 1)) * rng.uniform(0, 0.25)
    low = ndi.gaussian_filter(rng.normal(0, 1, (height, width)).astype(np.float32), max(height, width) / 6)
    low = low / (np.abs(low).max() + 1e-6) * rng.uniform(0, 0.08)
    grain = ndi.gaussian_filter(rng.normal(0, 1, (height, width)).astype(np.float32), rng.uniform(0.5, 1.5))
    grain *= rng.uniform(0.0, 0.04) / (grain.std() + 1e-6)
    lum = base - ramp + low + grain
    if rng.random() < 0.3:  # a soft shadow across part of the page (a hand, a phone)
        a = rng.uniform(0, 2 * math.pi)
        d = np.cos(a) * (xx - width * rng.uniform(0.2, 0.8)) + np.sin(a) * (yy - height * rng.uniform(0.2, 0.8))
        edge = max(2.0, rng.uniform(0.02, 0.2) * max(height, width))
        lum *= 1 - rng.uniform(0.2, 0.5) / (1 + np.exp(-d / edge))
    tint = np.array([1.0, rng.uniform(0.96, 1.0), rng.uniform(0.88, 1.0)], dtype=np.float32)
    return np.clip(lum[..., None] * tint, 0, 1)


def _ink_colour(rng: np.random.Generator) -> np.ndarray:
    colour = np.array(INK_COLOURS[rng.integers(len(INK_COLOURS))], dtype=np.float32) / 255
    return np.clip(colour + rng.normal(0, 0.03, 3), 0, 1)


def _apply_ink(page: np.ndarray, alpha: np.ndarray, colour: np.ndarray, strength: float = 1.0) -> None:
    a = np.clip(alpha * strength, 0, 1)[..., None]
    page[:] = page * (1 - a) + page * colour * a  # ink absorbs light: darker on darker paper


def _write(
    page: np.ndarray,
    alpha: np.ndarray,
    rng: np.random.Generator,
    faint: float | None = None,
    colour: np.ndarray | None = None,
) -> None:
    """The writing's ink on the page: a pen (``colour``, else one of :data:`INK_COLOURS`) or, when
    ``faint`` is given, a pencil pressed lightly: grey graphite, grainy where it caught the paper's
    tooth, taking at most ``faint`` of the paper's light."""
    if faint is None:
        _apply_ink(page, alpha, _ink_colour(rng) if colour is None else colour, rng.uniform(0.75, 1.0))
        return
    grain = ndi.gaussian_filter(rng.uniform(0.4, 1.0, alpha.shape).astype(np.float32), 0.6)
    _apply_ink(page, alpha * grain / float(grain.max()), np.full(3, 1.0 - faint, np.float32))


def _digit_alpha(digit: np.ndarray, height: int, rng: np.random.Generator, stroke: float) -> np.ndarray:
    """An MNIST digit as a pen stroke: scaled to ``height``, slanted, thickened or thinned, sharp-edged."""
    size = max(8, round(height * 28 / 20))  # the 20-px digit box becomes `height` pixels
    img = Image.fromarray(digit).resize((size, size), Image.Resampling.BICUBIC)
    shear = rng.uniform(-0.25, 0.25)
    aspect = rng.uniform(0.8, 1.2)
    width = int(size * aspect)
    img = img.resize((width, size), Image.Resampling.BICUBIC)
    pad = int(abs(shear) * size) + 2
    canvas = Image.new("L", (width + 2 * pad, size), 0)
    canvas.paste(img, (pad, 0))
    canvas = canvas.transform(
        canvas.size, Image.Transform.AFFINE, (1, shear, -shear * size / 2, 0, 1, 0), Image.Resampling.BILINEAR
    )
    a = np.asarray(canvas, np.float32) / 255
    radius = stroke * height / 28  # stroke change in digit-height units
    if radius >= 0.5:
        a = ndi.grey_dilation(a, footprint=_disk(round(radius)))
    elif radius <= -0.5:
        thinner = ndi.grey_erosion(a, footprint=_disk(round(-radius)))
        if (thinner > 0.5).sum() > 0.3 * (a > 0.5).sum():
            a = thinner
    a = np.clip((a - 0.25) / 0.35, 0, 1)  # a pen has sharp edges, MNIST's are blurred
    rows = np.nonzero(a.max(1) > 0.05)[0]
    cols = np.nonzero(a.max(0) > 0.05)[0]
    return a[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _pen_digits(digits: list[np.ndarray], height: int, stroke: float, rng: np.random.Generator) -> list[np.ndarray]:
    """The digits of one writer's number: each about ``height`` pixels tall (give or take 10%), written
    with the pen ``stroke`` (see :func:`_digit_alpha`), a little heavier or lighter from digit to digit."""
    return [_digit_alpha(d, int(height * rng.uniform(0.9, 1.1)), rng, stroke + rng.normal(0, 0.3)) for d in digits]


def _disk(radius: int) -> np.ndarray:
    y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return (x * x + y * y) <= radius * radius + radius


def _line(alpha: np.ndarray, p0, p1, width: float) -> None:
    """Draw an anti-aliased stroke of a round pen into an alpha array (4× supersampled): a line with
    round ends, so that the segments of a mark drawn by hand join as a pen's do (square ends left
    notches and spikes at the joins: the small circles of a percent sign drawn with a wide pen came
    out as stars)."""
    h, w = alpha.shape
    img = Image.new("L", (w * 4, h * 4), 0)
    draw, pen = ImageDraw.Draw(img), max(1, int(width * 4))
    draw.line([(p0[0] * 4, p0[1] * 4), (p1[0] * 4, p1[1] * 4)], fill=255, width=pen)
    for x, y in (p0, p1):
        draw.ellipse([x * 4 - pen / 2, y * 4 - pen / 2, x * 4 + pen / 2, y * 4 + pen / 2], fill=255)
    alpha[:] = np.maximum(alpha, np.asarray(img.resize((w, h), Image.Resampling.BOX), np.float32) / 255)


def _paste(alpha: np.ndarray, a: np.ndarray, y: int, x: int) -> None:
    """Add the strokes ``a`` into ``alpha`` with their top left at (y, x), cut at the edges."""
    region = alpha[y : y + a.shape[0], x : x + a.shape[1]]
    region[:] = np.maximum(region, a[: region.shape[0], : region.shape[1]])


def _on_the_line(alpha: np.ndarray, a: np.ndarray, left: int, baseline: int, rng: np.random.Generator) -> tuple:
    """Write the digit ``a`` on a line at ``left``, its foot a pixel or two off the baseline; its box."""
    ah, aw = a.shape
    y0 = int(np.clip(baseline - ah + rng.integers(-2, 3), 0, alpha.shape[0] - ah))
    _paste(alpha, a, y0, left)
    return (left, y0, left + aw, y0 + ah)


def _print_lines(page: np.ndarray, lines: np.ndarray, rng: np.random.Generator) -> None:
    """Ink printed lines (rules, a box, a form's grid) in a pale blue-grey, lighter or darker."""
    _apply_ink(page, lines, np.clip(np.array([0.5, 0.55, 0.75]) * rng.uniform(0.3, 1.0), 0, 1), rng.uniform(0.5, 1))


def _degrade(page: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Perspective, blur, sensor noise; returns an RGB PIL image."""
    h, w = page.shape[:2]
    img = Image.fromarray((np.clip(page, 0, 1) * 255).astype(np.uint8))
    if rng.random() < 0.6:  # a phone held slightly off-axis
        d = 0.04 * min(h, w)
        src = [
            (rng.uniform(-d, d), rng.uniform(-d, d)),
            (w + rng.uniform(-d, d), rng.uniform(-d, d)),
            (w + rng.uniform(-d, d), h + rng.uniform(-d, d)),
            (rng.uniform(-d, d), h + rng.uniform(-d, d)),
        ]
        coeffs = _perspective_coeffs([(0, 0), (w, 0), (w, h), (0, h)], src)
        fill = tuple(int(v) for v in np.asarray(img)[0, 0])
        img = img.transform((w, h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR, fillcolor=fill)
    blur = rng.uniform(0, 1.2) * max(1.0, min(h, w) / 200)
    if blur > 0.3:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    arr = np.asarray(img, np.float32) / 255
    arr = arr + rng.normal(0, rng.uniform(0, 0.04), arr.shape).astype(np.float32)
    return Image.fromarray((np.clip(arr, 0, 1) * 255).astype(np.uint8))


def _perspective_coeffs(dst, src):
    matrix = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        matrix.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        matrix.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.array(matrix, dtype=np.float64)
    b = np.array(src, dtype=np.float64).reshape(8)
    return np.linalg.solve(a, b).tolist()


def _encode(img: Image.Image, rng: np.random.Generator) -> bytes:
    buf = io.BytesIO()
    if rng.random() < 0.7:
        img.save(buf, format="JPEG", quality=int(rng.integers(35, 92)))
    else:
        img.save(buf, format="PNG")
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# Compositions
# ---------------------------------------------------------------------------------------------


def _single(digit: np.ndarray, label: int, rng: np.random.Generator, faint: float | None = None) -> Sample:
    """One digit photographed or scanned: in a form cell, on ruled paper, or on a plain page;
    written in faint pencil when ``faint`` is given (see :func:`_write`)."""
    height = int(rng.integers(18, 160))
    pen = rng.uniform(-1.0, 2.5)
    alpha_digit = _digit_alpha(digit, height, rng, stroke=pen)
    dh, dw = alpha_digit.shape
    margin_x = int(dh * rng.uniform(0.15, 0.9))
    margin_y = int(dh * rng.uniform(0.15, 0.7))
    h, w = dh + 2 * margin_y, max(dw + 2 * margin_x, int(dh * rng.uniform(0.8, 1.6)))
    page = _paper(h, w, rng)
    alpha = np.zeros((h, w), np.float32)
    y = int(rng.integers(max(1, margin_y // 2), max(2, h - dh - margin_y // 2)))
    x = int(rng.integers(max(1, (w - dw) // 4), max(2, w - dw - (w - dw) // 4)))
    alpha[y : y + dh, x : x + dw] = alpha_digit
    lines = np.zeros_like(alpha)
    style = rng.random()
    lw = max(1.0, rng.uniform(0.01, 0.035) * h)
    if style < 0.35:  # a form cell: its box, inside the frame or cut by it
        inset = rng.uniform(0.0, 0.08)
        x0, y0, x1, y1 = inset * w, inset * h, (1 - inset) * w - 1, (1 - inset) * h - 1
        for p0, p1 in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))):
            _line(lines, p0, p1, lw)
    elif style < 0.55:  # ruled paper
        gap = rng.uniform(0.6, 1.1) * dh
        start = rng.uniform(0, gap)
        for k in range(int(h / gap) + 1):
            yy = start + k * gap + rng.uniform(-1, 1)
            _line(lines, (0, yy), (w, yy + rng.uniform(-0.02, 0.02) * w), lw * 0.7)
    elif style < 0.65:  # underlined
        yy = y + dh + rng.uniform(0.05, 0.2) * dh
        _line(lines, (x - 0.2 * dw, yy), (x + 1.2 * dw, yy), lw)
    colour = _ink_colour(rng)
    line_colour = np.clip(np.array([0.55, 0.6, 0.8]) * rng.uniform(0.3, 1.0), 0, 1)
    _apply_ink(page, lines, line_colour, rng.uniform(0.5, 1.0))
    _write(page, alpha, rng, faint, colour)
    return Sample(_encode(_degrade(page, rng), rng), str(label), "single", ((x, y, x + dw, y + dh),), pen)


def _number(
    digits: list[np.ndarray],
    labels: list[int],
    rng: np.random.Generator,
    turn: float = 0.0,
    faint: float | None = None,
) -> Sample:
    """A number on one line: amount, register or meter reading, postal code, with its clutter;
    written on a line rising (or falling) by ``turn`` degrees when given (see :func:`_turned`), in
    faint pencil when ``faint`` is given (see :func:`_write`)."""
    height = int(rng.integers(22, 90))
    stroke = rng.uniform(-1.0, 2.5)
    alphas = _pen_digits(digits, height, stroke, rng)
    spacing = rng.choice(["wide", "normal", "tight", "touching"], p=[0.2, 0.35, 0.25, 0.2])
    gap_range = GAPS[spacing]
    boxed = rng.random() < 0.2
    separators = rng.random() < 0.3 and not boxed
    cell = int(height * rng.uniform(1.1, 1.4)) if boxed else 0
    xs, pieces = [], []
    x = int(height * rng.uniform(0.3, 1.0))
    for k, a in enumerate(alphas):
        if boxed:
            left = x + (cell - a.shape[1]) // 2
            xs.append(left)
            x += cell
        else:
            xs.append(x)
            x += a.shape[1] + int(rng.uniform(*gap_range) * height)
            if separators and k < len(alphas) - 1 and rng.random() < 0.25:
                kind = rng.choice([".", ",", "-", "/"])
                pieces.append((kind, x))
                x += int(height * (1.25 if kind == "/" else 0.45 if kind == "-" else 0.3))
    width = x + int(height * rng.uniform(0.3, 1.0))
    top = int(height * rng.uniform(0.3, 0.9))
    h = top + int(height * 1.15) + int(height * rng.uniform(0.3, 0.8))
    page = _paper(h, width, rng)
    alpha = np.zeros((h, width), np.float32)
    boxes = []
    baseline = top + height
    for a, left in zip(alphas, xs, strict=True):
        boxes.append(_on_the_line(alpha, a, left, baseline, rng))
    lw = max(1.0, rng.uniform(0.03, 0.08) * height)
    for kind, px in pieces:
        if kind == ".":
            _line(alpha, (px + 0.1 * height, baseline - lw), (px + 0.1 * height + lw * 0.5, baseline - lw), lw * 1.5)
        elif kind == ",":
            _line(alpha, (px + 0.12 * height, baseline - lw), (px + 0.05 * height, baseline + 0.2 * height), lw * 1.3)
        elif kind == "-":
            _line(
                alpha, (px + 0.05 * height, baseline - 0.5 * height), (px + 0.35 * height, baseline - 0.5 * height), lw
            )
        else:
            _line(alpha, (px + rng.uniform(0.85, 1.2) * height, baseline - height), (px, baseline), lw)
    lines = np.zeros_like(alpha)
    clutter = rng.random()
    if boxed:  # a comb field: one cell per digit
        y0, y1 = top - (cell - height) // 2, top - (cell - height) // 2 + cell
        x0 = xs[0] - (cell - alphas[0].shape[1]) // 2
        for k in range(len(alphas) + 1):
            _line(lines, (x0 + k * cell, y0), (x0 + k * cell, y1), lw * 0.8)
        _line(lines, (x0, y0), (x0 + len(alphas) * cell, y0), lw * 0.8)
        _line(lines, (x0, y1), (x0 + len(alphas) * cell, y1), lw * 0.8)
    elif clutter < 0.25:  # underline / ruled line under the writing
        yy = baseline + rng.uniform(0.05, 0.2) * height
        _line(lines, (0, yy), (width, yy + rng.uniform(-0.01, 0.01) * width), lw * 0.7)
    elif clutter < 0.4:  # ruled paper
        gap = rng.uniform(0.9, 1.3) * height
        for k in range(-1, 3):
            yy = baseline + rng.uniform(0.05, 0.2) * height + (k - 1) * gap
            _line(lines, (0, yy), (width, yy), lw * 0.6)
    if turn:
        (alpha, lines), boxes = _turned([alpha, lines], boxes, turn)
        page = _paper(*alpha.shape, rng)
    _print_lines(page, lines, rng)
    _write(page, alpha, rng, faint)
    text = "".join(map(str, labels))
    return Sample(_encode(_degrade(page, rng), rng), text, f"number-{spacing}", tuple(boxes), stroke)


def _column(numbers: list[tuple[list[np.ndarray], list[int]]], rng: np.random.Generator) -> Sample:
    """Numbers written one above another with one pen (a column of a register, a list of meter
    readings or of amounts): lines 1.4-2.2 digit heights apart, lined up on the left or, as amounts
    are, on the right, maybe each on a ruled line. Its text is the lines' digits joined by newlines."""
    height = int(rng.integers(22, 70))
    stroke = rng.uniform(-1.0, 2.5)
    gap_range = GAPS[rng.choice(["wide", "normal", "tight", "touching"], p=[0.25, 0.4, 0.25, 0.1])]
    rows = []
    for digits, _ in numbers:
        alphas = _pen_digits(digits, height, stroke, rng)
        gaps = [int(rng.uniform(*gap_range) * height) for _ in alphas[1:]] + [0]
        rows.append((alphas, gaps, sum(a.shape[1] for a in alphas) + sum(gaps)))
    pitch = int(height * rng.uniform(1.4, 2.2))
    widest = max(w for _, _, w in rows)
    margin = int(height * rng.uniform(0.3, 1.0))
    right = rng.random() < 0.5
    top = int(height * rng.uniform(0.3, 0.9))
    h = top + pitch * (len(rows) - 1) + int(height * 1.15) + int(height * rng.uniform(0.3, 0.8))
    width = 2 * margin + widest
    page = _paper(h, width, rng)
    alpha = np.zeros((h, width), np.float32)
    lines = np.zeros_like(alpha)
    ruled = rng.random() < 0.3
    boxes = []
    for k, (alphas, gaps, w) in enumerate(rows):
        baseline = top + height + k * pitch
        x = margin + (widest - w if right else 0)
        for a, gap in zip(alphas, gaps, strict=True):
            boxes.append(_on_the_line(alpha, a, x, baseline, rng))
            x += a.shape[1] + gap
        if ruled:
            yy = baseline + rng.uniform(0.05, 0.2) * height
            _line(lines, (0, yy), (width, yy), max(1.0, rng.uniform(0.02, 0.05) * height))
    _print_lines(page, lines, rng)
    _write(page, alpha, rng)
    text = "\n".join("".join(map(str, labels)) for _, labels in numbers)
    return Sample(_encode(_degrade(page, rng), rng), text, f"column-{len(rows)}", tuple(boxes), stroke)


def _turned(layers: list[np.ndarray], boxes: list[tuple], degrees: float) -> tuple[list[np.ndarray], list[tuple]]:
    """Layers of one page (writing, printed lines) turned by ``degrees`` (positive: rising to the
    right) round their centre, on a picture as large as the turned page's bounding box: rules that
    ran to the page's sides run on to the new picture's sides (a photo of a larger sheet, turned),
    the writing is whole. Also the digits' boxes, as the boxes round their turned corners."""
    h, w = layers[0].shape
    angle = math.radians(degrees)
    c, s = math.cos(angle), abs(math.sin(angle))
    out_w, out_h = math.ceil(w * c + h * s), math.ceil(h * c + w * s)
    pad_y, pad_x = (out_h - h) // 2 + 2, max(out_w, w) // 2 + 2
    turned = []
    for layer in layers:
        # Rules run on sideways (the columns at the sides repeated), nothing above or below.
        big = np.pad(np.pad(layer, ((0, 0), (pad_x, pad_x)), mode="edge"), ((pad_y, pad_y), (0, 0)))
        image = Image.fromarray(big.astype(np.float32), mode="F").rotate(degrees, Image.Resampling.BILINEAR)
        cy, cx = big.shape[0] / 2, big.shape[1] / 2
        top, left = round(cy - out_h / 2), round(cx - out_w / 2)
        turned.append(np.clip(np.asarray(image)[top : top + out_h, left : left + out_w], 0, 1).astype(np.float32))
    sin = math.sin(angle)

    def moved(x: float, y: float) -> tuple[float, float]:  # PIL turns anticlockwise on screen
        dx, dy = x - w / 2, y - h / 2
        return out_w / 2 + dx * c + dy * sin, out_h / 2 - dx * sin + dy * c

    new_boxes = []
    for x0, y0, x1, y1 in boxes:
        corners = [moved(x, y) for x in (x0, x1) for y in (y0, y1)]
        xs, ys = [p[0] for p in corners], [p[1] for p in corners]
        new_boxes.append((int(min(xs)), int(min(ys)), math.ceil(max(xs)), math.ceil(max(ys))))
    return turned, new_boxes


def _amount(digits: list[np.ndarray], labels: list[int], rng: np.random.Generator) -> Sample:
    """A cheque's amount in figures: the digits with their thousands and cents separators (1,250.50,
    1.250,50 or 1'250.50) and a delimiter before and after, all written with one pen, maybe in the
    cheque's printed box."""
    height = int(rng.integers(22, 90))
    stroke = rng.uniform(-1.0, 2.5)
    # MNIST's stroke, widened as the digits are (short of a marker's, which blots a small mark into a disc)
    lw = max(1.5, min(0.18, 0.12 + 0.07 * stroke) * height)
    alphas = _pen_digits(digits, height, stroke, rng)
    marks: list[str | None] = [None] * (2 * len(digits) + 1)  # marks[2k]: what is written before digit k
    n = len(digits)
    cents = n >= 3 and rng.random() < 0.5
    convention = rng.random()  # 1,250.50 / 1.250,50 / 1'250.50 (Swiss)
    point, comma = (".", ",") if convention < 0.5 else (",", ".") if convention < 0.8 else ("'", ".")
    if cents:
        marks[2 * (n - 2)] = comma
    if rng.random() < 0.5:  # thousands
        for k in range(n - (2 if cents else 0) - 3, 0, -3):
            marks[2 * k] = point
    marks[0] = rng.choice(["", "$", "#", "*", "="], p=[0.3, 0.2, 0.2, 0.15, 0.15])
    marks[-1] = rng.choice(["", "#", "*", "=", "/-", ".-", "/", "-"], p=[0.3, 0.15, 0.1, 0.1, 0.1, 0.1, 0.075, 0.075])
    gap_range = GAPS[rng.choice(["wide", "normal", "tight", "touching"], p=[0.25, 0.4, 0.25, 0.1])]
    slant = rng.uniform(-0.05, 0.25)
    x = int(height * rng.uniform(0.3, 1.0))
    top = int(height * rng.uniform(0.3, 0.9))
    placed: list[tuple[int, np.ndarray | list]] = []
    for k, mark in enumerate(marks):
        if k % 2:
            placed.append((x, alphas[k // 2]))
            x += alphas[k // 2].shape[1] + int(rng.uniform(*gap_range) * height)
        elif mark:
            x += int(0.1 * height)
            placed.append((x, AMOUNT_MARKS[mark][0]))
            x += int((AMOUNT_MARKS[mark][1] + 0.15) * height)
    page, alpha, boxes = _write_line(placed, x, top, height, slant, lw, rng)
    h, width = alpha.shape
    if rng.random() < 0.3:  # the cheque's printed box round the amount
        lines = np.zeros_like(alpha)
        x0, y0, x1, y1 = int(0.15 * height), int(0.15 * height), width - int(0.15 * height), h - int(0.15 * height)
        for p0, p1 in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))):
            _line(lines, p0, p1, max(1.0, 0.03 * height))
        _print_lines(page, lines, rng)
    _write(page, alpha, rng)
    text = "".join(map(str, labels))
    return Sample(_encode(_degrade(page, rng), rng), text, f"amount{marks[0]}|{marks[-1]}", tuple(boxes), stroke)


def _write_line(
    placed: list[tuple[int, np.ndarray | list]],
    x: int,
    top: int,
    height: int,
    slant: float,
    lw: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, list[tuple]]:
    """Paper for one line of writing ending at ``x``, and the writing's ink: each of ``placed`` is a
    digit (its strokes as an array, see :func:`_digit_alpha`) or a mark (strokes as
    :data:`AMOUNT_MARKS` holds them) at its left edge, on the baseline ``top + height``. Returns the
    page, the ink and the digits' boxes."""
    width = x + int(height * rng.uniform(0.3, 1.0))
    h = top + int(height * 1.15) + int(height * rng.uniform(0.3, 0.8))
    page = _paper(h, width, rng)
    alpha = np.zeros((h, width), np.float32)
    boxes = []
    baseline = top + height
    for left, what in placed:
        if isinstance(what, list):
            _write_mark(alpha, what, left, baseline, height, slant, lw, rng)
        else:
            boxes.append(_on_the_line(alpha, what, left, baseline, rng))
    return page, alpha, boxes


def _write_mark(
    alpha: np.ndarray,
    strokes: list[list[tuple[float, float]]],
    left: float,
    baseline: float,
    height: float,
    slant: float,
    lw: float,
    rng: np.random.Generator,
) -> None:
    """Write a mark by hand: its strokes (points in digit heights, x from ``left``, y down from the
    top of the writing) slanted, each point a little off, with the pen width ``lw``."""
    for stroke_points in strokes:
        pts = [
            (
                left + (px + slant * (1 - py)) * height + rng.normal(0, 0.02 * height),
                baseline - (1 - py) * height + rng.normal(0, 0.02 * height),
            )
            for px, py in stroke_points
        ]
        for p0, p1 in itertools.pairwise(pts):
            _line(alpha, p0, p1, lw)


def _bracket(opening: bool, bow: float) -> tuple[list[list[tuple[float, float]]], float]:
    """A bracket as :data:`AMOUNT_MARKS` holds a mark: one arc a little taller than the digits, its
    middle ``bow`` digit heights out from its ends (left for an opening one), and its width."""
    ts = np.linspace(-1, 1, 11)
    xs = bow * ts**2 if opening else bow * (1 - ts**2)
    return [[(float(x), float(0.5 + 0.58 * t)) for x, t in zip(xs, ts, strict=True)]], bow + 0.1


def _ring(cx: float, cy: float, rx: float, ry: float) -> list[tuple[float, float]]:
    """A small closed loop, as a pen draws the circles of a percent sign."""
    return [(cx + rx * math.cos(t), cy + ry * math.sin(t)) for t in np.linspace(0, 2 * math.pi, 13)]


COLON = ([[(0.0, 0.38), (0.03, 0.38)], [(0.0, 0.9), (0.03, 0.9)]], 0.2)
# A percent sign: a small circle high on the left, a slash, a small circle low on the right.
PERCENT = ([_ring(0.13, 0.18, 0.11, 0.14), [(0.62, 0.0), (0.04, 1.0)], _ring(0.52, 0.82, 0.11, 0.14)], 0.66)
MARKED_PATTERNS = {
    "time": ["d:dd", "dd:dd"],
    "phone": ["(ddd) ddd-dddd", "(dd) dddd dddd", "(ddd) dddddd", "(dddd) ddddd"],
    "bracketed": ["(" + "d" * k + ")" for k in range(1, 9)],
}
# Fields of a printed form: a percentage, and a number after the field's printed label.
FIELD_PATTERNS = {
    "percent": ["d%", "dd%", "dd%", "d.d%", "ddd%"],
    "labelled": ["ddd", "dddd", "ddddd", "dddddd", "ddddddd"],
}
FIELD_LABELS = ["No.", "Nr.", "Tel", "ID:", "Ref.", "Qty", "Total", "Code", "Acct", "Zip"]


def _marked(
    digits: list[np.ndarray],
    labels: list[int],
    rng: np.random.Generator,
    pattern: str,
    kind: str,
    printed_label: str | None = None,
) -> Sample:
    """A number written with the marks people put in times, telephone numbers, bracketed figures and
    percentages: ``pattern`` holds a ``d`` for each digit, ``:``, ``(``, ``)``, ``%`` or a mark of
    :data:`AMOUNT_MARKS` (``-``, ``.``, ``,`` ...), and a space for a wider gap. ``printed_label`` is
    printed before it, as a form prints a field's name."""
    height = int(rng.integers(22, 90))
    stroke = rng.uniform(-1.0, 2.5)
    lw = max(1.5, min(0.18, 0.12 + 0.07 * stroke) * height)  # the digits' pen, as in _amount
    alphas = _pen_digits(digits, height, stroke, rng)
    gap_range = GAPS[rng.choice(["wide", "normal", "tight", "touching"], p=[0.25, 0.45, 0.2, 0.1])]
    slant = rng.uniform(-0.05, 0.25)
    bow = rng.uniform(0.1, 0.3)  # how round the writer's brackets are
    x = int(height * rng.uniform(0.3, 1.0))
    top = int(height * rng.uniform(0.3, 0.9))
    label_at, font = x, None
    if printed_label:  # in a printed font, its capitals 0.4-0.65 of the writing's height
        face = FONT_DIR / rng.choice(["DejaVuSans.ttf", "DejaVuSerif.ttf"])
        font = ImageFont.truetype(str(face), max(6, round(height * rng.uniform(0.4, 0.65) / 0.73)))
        x += int(font.getlength(printed_label) + rng.uniform(0.4, 2.0) * height)
    placed: list[tuple[int, np.ndarray | list]] = []
    written = iter(alphas)
    for char in pattern:
        if char == "d":
            a = next(written)
            placed.append((x, a))
            x += a.shape[1] + int(rng.uniform(*gap_range) * height)
        elif char == " ":
            x += int(rng.uniform(0.3, 0.7) * height)
        else:
            strokes, mark_width = (
                {":": COLON, "%": PERCENT}.get(char) or AMOUNT_MARKS.get(char) or _bracket(char == "(", bow)
            )
            x += int(0.1 * height)
            placed.append((x, strokes))
            x += int((mark_width + 0.15) * height)
    page, alpha, boxes = _write_line(placed, x, top, height, slant, lw, rng)
    width = alpha.shape[1]
    if rng.random() < 0.3:  # an underline or the form's ruled line under the writing
        lines = np.zeros_like(alpha)
        yy = top + height + rng.uniform(0.15, 0.3) * height
        _line(
            lines, (0, yy), (width, yy + rng.uniform(-0.01, 0.01) * width), max(1.0, rng.uniform(0.02, 0.05) * height)
        )
        _print_lines(page, lines, rng)
    if font is not None:
        printed = Image.new("L", (width, alpha.shape[0]), 0)
        ImageDraw.Draw(printed).text((label_at, top + height), printed_label, fill=255, font=font, anchor="ls")
        _apply_ink(page, np.asarray(printed, np.float32) / 255, np.full(3, rng.uniform(0.05, 0.35)), 1.0)
    _write(page, alpha, rng)
    text = "".join(map(str, labels))
    return Sample(_encode(_degrade(page, rng), rng), text, kind, tuple(boxes), stroke)


def _non_digit(kind: str, rng: np.random.Generator) -> Sample:
    size = int(rng.integers(40, 200))
    page = _paper(size, int(size * rng.uniform(0.8, 1.3)), rng)
    h, w = page.shape[:2]
    alpha = np.zeros((h, w), np.float32)
    if kind == "letter":
        fonts = sorted(FONT_DIR.glob("DejaVu*.ttf"))
        font = ImageFont.truetype(str(fonts[rng.integers(len(fonts))]), int(h * rng.uniform(0.4, 0.75)))
        letter = LETTERS[rng.integers(len(LETTERS))]
        img = Image.new("L", (w, h), 0)
        draw = ImageDraw.Draw(img)
        left, top, right, bottom = draw.textbbox((0, 0), letter, font=font)
        draw.text(((w - (right - left)) / 2 - left, (h - (bottom - top)) / 2 - top), letter, fill=255, font=font)
        alpha = np.asarray(img, np.float32) / 255
    elif kind == "scribble":
        points = [(rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h)]
        for _ in range(int(rng.integers(6, 20))):
            points.append(
                (
                    np.clip(points[-1][0] + rng.normal(0, 0.25 * w), 0.1 * w, 0.9 * w),
                    np.clip(points[-1][1] + rng.normal(0, 0.25 * h), 0.1 * h, 0.9 * h),
                )
            )
        lw = max(1.5, rng.uniform(0.02, 0.06) * h)
        for p0, p1 in itertools.pairwise(points):
            _line(alpha, p0, p1, lw)
    elif kind == "drawing":  # simple shapes people doodle: a star, a house, a smiley, a grid
        lw = max(1.5, rng.uniform(0.02, 0.05) * h)
        cx, cy, r = w / 2, h / 2, 0.35 * min(h, w)
        shape = rng.integers(4)
        if shape == 0:
            pts = [(cx + r * math.sin(k * 4 * math.pi / 5), cy - r * math.cos(k * 4 * math.pi / 5)) for k in range(6)]
        elif shape == 1:
            pts = [
                (cx - r, cy + r),
                (cx - r, cy),
                (cx, cy - r),
                (cx + r, cy),
                (cx + r, cy + r),
                (cx - r, cy + r),
                (cx + r, cy),
                (cx - r, cy),
                (cx + r, cy + r),
            ]
        elif shape == 2:
            pts = [(cx + r * math.cos(t), cy + r * math.sin(t)) for t in np.linspace(0, 2 * math.pi, 40)]
            for ex in (-0.35, 0.35):
                _line(alpha, (cx + ex * r, cy - 0.3 * r), (cx + ex * r, cy - 0.1 * r), lw * 1.5)
            smile = [
                (cx + 0.5 * r * math.cos(t), cy + 0.2 * r + 0.4 * r * math.sin(t)) for t in np.linspace(0.3, 2.8, 12)
            ]
            for p0, p1 in itertools.pairwise(smile):
                _line(alpha, p0, p1, lw)
        else:
            pts = []
            for k in range(4):
                _line(alpha, (cx - r, cy - r + k * 2 * r / 3), (cx + r, cy - r + k * 2 * r / 3), lw)
                _line(alpha, (cx - r + k * 2 * r / 3, cy - r), (cx - r + k * 2 * r / 3, cy + r), lw)
        for p0, p1 in itertools.pairwise(pts):
            _line(alpha, p0, p1, lw)
    elif kind == "blank" and rng.random() < 0.3:  # an empty form cell
        lw = max(1.0, 0.02 * h)
        for p0, p1 in (
            ((1, 1), (w - 2, 1)),
            ((w - 2, 1), (w - 2, h - 2)),
            ((w - 2, h - 2), (1, h - 2)),
            ((1, h - 2), (1, 1)),
        ):
            _line(alpha, p0, p1, lw)
        colour = np.array([0.5, 0.55, 0.75])
        _apply_ink(page, alpha, colour, 0.7)
        return Sample(_encode(_degrade(page, rng), rng), "", kind)
    _write(page, alpha, rng)
    return Sample(_encode(_degrade(page, rng), rng), "", kind)


def _rng(seed: int, stream: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream, index])


def single_digits(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[Sample]:
    """``n`` realistic single-digit pictures from MNIST test digits (each used at most once per set)."""
    order = np.random.default_rng([seed, 0]).permutation(len(images))[:n]
    return [_single(images[i], int(labels[i]), _rng(seed, 1, k)) for k, i in enumerate(order)]


def numbers(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0, max_digits: int = 10) -> list[Sample]:
    """``n`` realistic numbers of 1-``max_digits`` MNIST test digits, with their digit strings."""
    out = []
    for k in range(n):
        rng = _rng(seed, 2, k)
        length = int(rng.integers(1, max_digits + 1))
        idx = rng.choice(len(images), size=length, replace=False)
        out.append(_number([images[i] for i in idx], [int(labels[i]) for i in idx], rng))
    return out


def turned_numbers(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[Sample]:
    """``n`` numbers of 1-10 MNIST test digits as in :func:`numbers`, written on a line rising or
    falling by 1-12 degrees (a number written freehand, or a photo taken turned); their kind says
    by how much ("turned-1-4", "turned-4-8", "turned-8-12" degrees)."""
    out = []
    for k in range(n):
        rng = _rng(seed, 15, k)
        idx = rng.choice(len(images), size=int(rng.integers(1, 11)), replace=False)
        turn = float(rng.uniform(1, 12))
        sample = _number([images[i] for i in idx], [int(labels[i]) for i in idx], rng, turn=turn * rng.choice([-1, 1]))
        kind = "turned-1-4" if turn < 4 else "turned-4-8" if turn < 8 else "turned-8-12"
        out.append(dataclasses.replace(sample, kind=kind))
    return out


def columns_of_numbers(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[Sample]:
    """``n`` pictures of 2-4 numbers of 1-8 MNIST test digits written one above another (see
    :func:`_column`); their kind says how many lines ("column-2", "column-3", "column-4")."""
    out = []
    for k in range(n):
        rng = _rng(seed, 20, k)
        numbers = []
        for _ in range(int(rng.integers(2, 5))):
            idx = rng.choice(len(images), size=int(rng.integers(1, 9)), replace=False)
            numbers.append(([images[i] for i in idx], [int(labels[i]) for i in idx]))
        out.append(_column(numbers, rng))
    return out


def marked_numbers(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[Sample]:
    """``n`` numbers written with a colon, brackets or a dash among their digits: times ("9:45",
    "14:30"), telephone numbers ("(020) 794-6125", "(61) 2934 5670") and figures in brackets
    ("(1250)"); their kind says which ("marked-time", "marked-phone", "marked-bracketed")."""
    return _patterned(images, labels, n, (seed, 17), MARKED_PATTERNS, "marked-")


def form_fields(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[Sample]:
    """``n`` numbers as they are written in a printed form's fields: half percentages ("45%",
    "7.5%"), half after the field's printed label ("No. 20417", "Tel 5550123", "Qty 12"), the
    label 0.4-2 digit heights before the writing; their kind says which ("field-percent",
    "field-labelled")."""
    return _patterned(images, labels, n, (seed, 18), FIELD_PATTERNS, "field-", {"labelled": FIELD_LABELS})


def _patterned(
    images: np.ndarray,
    labels: np.ndarray,
    n: int,
    stream: tuple[int, int],
    patterns_by_kind: dict[str, list[str]],
    prefix: str,
    printed_by_kind: dict[str, list[str]] | None = None,
) -> list[Sample]:
    """``n`` numbers written as :func:`_marked` writes a pattern, the kinds of ``patterns_by_kind`` in
    turn, each after one of its kind's printed labels in ``printed_by_kind`` if it has any; the k-th
    drawn from ``_rng(seed, stream_number, k)`` for ``stream`` = (seed, stream number)."""
    out = []
    kinds = list(patterns_by_kind)
    for k in range(n):
        rng = _rng(*stream, k)
        kind = kinds[k % len(kinds)]
        patterns = patterns_by_kind[kind]
        pattern = patterns[rng.integers(len(patterns))]
        choices = (printed_by_kind or {}).get(kind)
        printed = choices[rng.integers(len(choices))] if choices else None
        idx = rng.choice(len(images), size=pattern.count("d"), replace=False)
        digits, values = [images[i] for i in idx], [int(labels[i]) for i in idx]
        out.append(_marked(digits, values, rng, pattern, prefix + kind, printed))
    return out


def cheque_amounts(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[Sample]:
    """``n`` cheque amounts in figures of 1-7 MNIST test digits, with separators and delimiters."""
    out = []
    for k in range(n):
        rng = _rng(seed, 13, k)
        idx = rng.choice(len(images), size=int(rng.integers(1, 8)), replace=False)
        out.append(_amount([images[i] for i in idx], [int(labels[i]) for i in idx], rng))
    return out


def underlined_numbers(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[Sample]:
    """``n`` numbers underlined by hand with the writing's own pen (stream 21): half a number of 1-8
    MNIST test digits with a stroke under all of it ("underlined-number"), half a cheque amount of
    1-6 digits whose two cents are written small and raised after it (125⁵⁰), underlined in 70% of
    them ("underlined-cents"). The stroke touches the writing or runs a little below it, a little
    tilted, and reaches past its ends by up to a quarter of a digit height."""
    out = []
    for k in range(n):
        rng = _rng(seed, 21, k)
        cents = k % 2 == 1
        count = int(rng.integers(1, 7 if cents else 9))
        idx = rng.choice(len(images), count + (2 if cents else 0), replace=False)
        height = int(rng.integers(22, 90))
        stroke = rng.uniform(-1.0, 2.5)
        lw = max(1.5, min(0.18, 0.12 + 0.07 * stroke) * height)  # the writing's pen, as in _amount
        main = _pen_digits([images[i] for i in idx[:count]], height, stroke, rng)
        # the same pen on digits half as tall: heavier for their size
        small = _pen_digits([images[i] for i in idx[count:]], int(height * rng.uniform(0.45, 0.65)), stroke + 1.0, rng)
        gap_range = GAPS[rng.choice(["wide", "normal", "tight"], p=[0.25, 0.5, 0.25])]
        top = int(height * rng.uniform(0.3, 0.9))
        baseline = top + height
        left = x = int(height * rng.uniform(0.4, 1.0))
        width = x + sum(a.shape[1] for a in main + small) + int(height * (0.3 * len(main + small) + 1.8))
        alpha = np.zeros((baseline + int(height * rng.uniform(0.5, 0.9)), width), np.float32)
        boxes = []
        for a in main:
            boxes.append(_on_the_line(alpha, a, x, baseline, rng))
            x += a.shape[1] + int(rng.uniform(*gap_range) * height)
        under = rng.random() < 0.7 if cents else True
        if cents:
            left = x = x + int(height * rng.uniform(0.0, 0.15))
            raised = top + int(height * rng.uniform(-0.05, 0.15))
            for a in small:
                _paste(alpha, a, raised, x)
                boxes.append((x, raised, x + a.shape[1], raised + a.shape[0]))
                x += a.shape[1] + int(rng.uniform(0.05, 0.25) * a.shape[0])
            y = raised + max(a.shape[0] for a in small) + rng.uniform(0.0, 0.15) * height
        else:
            x -= int(rng.uniform(*gap_range) * height)
            y = baseline + rng.uniform(0.0, 0.2) * height
        if under:
            reach = 0.25 * height
            start, end = left - rng.uniform(0, reach), x + rng.uniform(0, reach)
            _line(alpha, (start, y), (end, y + rng.uniform(-0.06, 0.06) * (end - start)), lw)
        page = _paper(*alpha.shape, rng)
        _write(page, alpha, rng)
        text = "".join(str(int(labels[i])) for i in idx)
        kind = "underlined-" + ("cents" if cents else "number") + ("" if under else "-bare")
        out.append(Sample(_encode(_degrade(page, rng), rng), text, kind, tuple(boxes), stroke))
    return out


def non_digits(n: int, seed: int = 0) -> list[Sample]:
    """``n`` pictures that are not digits: blank paper or an empty cell, letters, scribbles, drawings."""
    kinds = ["blank", "letter", "scribble", "drawing"]
    return [_non_digit(kinds[k % len(kinds)], _rng(seed, 3, k)) for k in range(n)]


def plain_renders(images: np.ndarray, n: int, seed: int = 0) -> list[np.ndarray]:
    """MNIST test digits as dark-on-light greyscale images at a random size (20-300 px), nothing else."""
    out = []
    for k in range(n):
        rng = _rng(seed, 4, k)
        size = int(rng.integers(20, 301))
        out.append(np.asarray(Image.fromarray(255 - images[k]).resize((size, size), Image.Resampling.BICUBIC)))
    return out


def tight_crops(images: np.ndarray, n: int, seed: int = 0) -> list[np.ndarray]:
    """MNIST test digits cut to their ink and scaled to fill a square of 16-64 px, keeping their
    aspect (as postal-code sets such as USPS and cells cut to the writing are), white on black or
    black on white at random: strokes run along the frame."""
    out = []
    for k in range(n):
        rng = _rng(seed, 5, k)
        digit = images[k]
        rows, cols = np.nonzero(digit > 30)
        ink = Image.fromarray(digit[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1])
        square = _fit_square(ink, int(rng.integers(16, 65)))
        out.append(square if rng.random() < 0.5 else 255 - square)
    return out


def _fit_square(ink: Image.Image, size: int) -> np.ndarray:
    """Ink (white on black, cut to itself) scaled to fill a ``size``-pixel square, keeping its aspect,
    centred: uint8 (size, size)."""
    scale = size / max(ink.size)
    ink = ink.resize((max(1, round(ink.width * scale)), max(1, round(ink.height * scale))), Image.Resampling.BILINEAR)
    square = Image.new("L", (size, size), 0)
    square.paste(ink, ((size - ink.width) // 2, (size - ink.height) // 2))
    return np.asarray(square)


def tight_numbers(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[tuple[np.ndarray, str]]:
    """1-10 MNIST test digits side by side (gaps of 0-8 px at MNIST's scale), cut to their ink and
    scaled to 24-64 px tall, white on black or black on white at random: a register number or an
    amount cropped tightly, with digits touching the frame. Returns (image, digits) pairs."""
    out = []
    for k in range(n):
        rng = _rng(seed, 6, k)
        picked = rng.choice(len(images), int(rng.integers(1, 11)), replace=False)
        strip: list[np.ndarray] = []
        for i in picked:
            cols = np.nonzero((images[i] > 30).any(axis=0))[0]
            strip += [images[i][:, cols[0] : cols[-1] + 1], np.zeros((28, int(rng.integers(0, 9))), np.uint8)]
        number = np.concatenate(strip[:-1], axis=1)
        rows = np.nonzero((number > 30).any(axis=1))[0]
        number = number[rows[0] : rows[-1] + 1]
        height = int(rng.integers(24, 65))
        width = max(1, round(number.shape[1] * height / number.shape[0]))
        picture = np.asarray(Image.fromarray(number).resize((width, height), Image.Resampling.BILINEAR))
        out.append((picture if rng.random() < 0.5 else 255 - picture, "".join(str(int(labels[i])) for i in picked)))
    return out


def continental_digits(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[Sample]:
    """MNIST test 1s and 7s written the continental way, as realistic single digits: every 1 given a
    flag (a stroke from the top of the stem down to the left), every 7 a bar across its stem. Drawn
    with Pillow at 28×28 before composing, with other bounds than ``digitocr.data.continental_forms``
    (flag 30-55° and 5-8 px, bar 8-12 px) so the set does not mirror training."""
    pool = np.nonzero((labels == 1) | (labels == 7))[0]
    order = np.random.default_rng([seed, 7]).permutation(pool)[:n]
    out = []
    for k, i in enumerate(order):
        rng = _rng(seed, 7, k)
        digit = images[i]
        rows = np.nonzero(digit.max(1) > 100)[0]
        img = Image.fromarray(digit.copy())
        draw = ImageDraw.Draw(img)
        width = int(rng.integers(2, 4))
        if labels[i] == 1:
            y = int(rows[0]) + 1
            x = float(np.nonzero(digit[y] > 100)[0].mean())
            angle, length = math.radians(rng.uniform(30, 55)), rng.uniform(5, 8)
            draw.line([(x, y), (x - length * math.cos(angle), y + length * math.sin(angle))], fill=255, width=width)
        else:
            y = int(rows[0] + rng.uniform(0.45, 0.6) * (rows[-1] - rows[0]) + 0.5)
            cols = np.nonzero(digit[y] > 100)[0]
            x = float(cols.mean()) if cols.size else 14.0
            half = rng.uniform(4, 6)
            draw.line([(x - half, y), (x + half, y)], fill=255, width=width)
        out.append(_single(np.asarray(img), int(labels[i]), rng))
    return out


def small_in_photo(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[Sample]:
    """One digit photographed on a page from further away: the digit 10-25% of the picture's height
    (a photo nobody cropped), on plain paper with its shadows, blur, noise and perspective."""
    order = np.random.default_rng([seed, 8]).permutation(len(images))[:n]
    out = []
    for k, i in enumerate(order):
        rng = _rng(seed, 8, k)
        pen = rng.uniform(-1.0, 2.5)
        alpha_digit = _digit_alpha(images[i], int(rng.integers(24, 120)), rng, stroke=pen)
        dh, dw = alpha_digit.shape
        h = int(dh / rng.uniform(0.1, 0.25))
        w = max(int(h * rng.uniform(0.75, 1.33)), 2 * dw)
        page = _paper(h, w, rng)
        alpha = np.zeros((h, w), np.float32)
        y = int(rng.integers(h // 10, h - dh - h // 10))
        x = int(rng.integers(w // 10, w - dw - w // 10))
        alpha[y : y + dh, x : x + dw] = alpha_digit
        _write(page, alpha, rng)
        out.append(
            Sample(_encode(_degrade(page, rng), rng), str(int(labels[i])), "small", ((x, y, x + dw, y + dh),), pen)
        )
    return out


def _sheets(
    images: np.ndarray, labels: np.ndarray, n: int, seed: int, stream: int, faint: tuple[float, float] | None = None
):
    """``n`` pictures of paper to photograph, each with the generator that made it (to go on with):
    a single digit (even ``k``) or a number of 2-7 digits (odd), composed as in
    :func:`single_digits` and :func:`numbers`, each test digit used once; written in faint pencil
    taking a share of the light drawn from ``faint`` when given."""
    order = np.random.default_rng([seed, stream]).permutation(len(images))
    used = 0
    for k in range(n):
        rng = _rng(seed, stream, k)
        count = 1 if k % 2 == 0 else int(rng.integers(2, 8))
        pencil = None if faint is None else float(rng.uniform(*faint))
        idx = order[used : used + count]
        used += count
        if count == 1:
            yield rng, _single(images[idx[0]], int(labels[idx[0]]), rng, pencil)
        else:
            yield rng, _number([images[i] for i in idx], [int(labels[i]) for i in idx], rng, faint=pencil)


def _sheet_kind(prefix: str, sheet: Sample) -> str:
    """The kind of a set's picture made from ``sheet``: "<prefix>-single" or "<prefix>-number"."""
    return f"{prefix}-" + ("single" if sheet.kind == "single" else "number")


def _photographed(sheet: Sample, img: Image.Image, rng: np.random.Generator, prefix: str) -> Sample:
    """``sheet`` as ``img`` shows it (photographed again: dim, glare, blur), saved as JPEG or PNG;
    its label and pen, no boxes, its kind from ``prefix`` (see :func:`_sheet_kind`)."""
    return Sample(_encode(img, rng), sheet.label, _sheet_kind(prefix, sheet), (), sheet.pen)


def on_a_desk(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[Sample]:
    """A slip of paper photographed lying on a desk: a single digit (even ``k``) or a number (odd),
    composed as in :func:`single_digits` and :func:`numbers`, turned up to 20°, on a dark or
    mid-grey desk with a wood-like grain, covering 4-60% of the picture, lit unevenly."""
    out = []
    for rng, sheet in _sheets(images, labels, n, seed, 12):
        paper = Image.open(io.BytesIO(sheet.data)).convert("RGB")
        angle = rng.uniform(-20, 20)
        cover = Image.new("L", paper.size, 255).rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
        paper = paper.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
        pw, ph = paper.size
        share = rng.uniform(0.04, 0.6)
        w = max(int(pw * 1.15), int(math.sqrt(pw * ph / share * rng.uniform(1.0, 1.6))))
        h = max(int(ph * 1.15), int(pw * ph / share / w))
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        grain = np.sin(xx / rng.uniform(3, 20) + 2 * np.sin(yy / rng.uniform(20, 80))) * rng.uniform(0, 0.06)
        desk = (rng.uniform(0.05, 0.4) + grain)[..., None] * rng.uniform(0.7, 1.0, 3)  # a brown or grey desk
        picture = Image.fromarray((np.clip(desk, 0, 1) * 255).astype(np.uint8))
        x, y = int(rng.integers(0, w - pw + 1)), int(rng.integers(0, h - ph + 1))
        picture.paste(paper, (x, y), cover)
        light = 1 - rng.uniform(0, 0.35) * (xx / w if rng.random() < 0.5 else yy / h)
        arr = np.asarray(picture, np.float32) / 255 * light[..., None]
        arr = arr + rng.normal(0, rng.uniform(0, 0.02), arr.shape).astype(np.float32)
        img = Image.fromarray((np.clip(arr, 0, 1) * 255).astype(np.uint8))
        out.append(Sample(_encode(img, rng), sheet.label, "desk-" + sheet.kind, (), sheet.pen))
    return out


def in_dim_light(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[Sample]:
    """A single digit (even ``k``) or a number of 2-7 digits (odd), composed as in
    :func:`single_digits` and :func:`numbers`, photographed in a dim room: 2 to 30 times too little
    light for the camera's exposure (white paper at 0.2-0.6 of full brightness), the light warm,
    neutral or cool, the sensor's noise amplified, then JPEG. Their kind is "dim-single" or
    "dim-number"."""
    out = []
    for rng, sheet in _sheets(images, labels, n, seed, 18):
        arr = np.asarray(Image.open(io.BytesIO(sheet.data)).convert("RGB"), np.float32) / 255
        # Exposure scales the light (linear), not the sRGB values: a factor e of the light is e^(1/2.2) of them.
        exposure = rng.uniform(0.03, 0.45) ** (1 / 2.2)
        cast = rng.choice([(1.0, 0.85, 0.6), (1.0, 1.0, 1.0), (0.8, 0.9, 1.0)])  # tungsten, neutral, daylight
        arr = arr * exposure * np.asarray(cast, np.float32) + rng.normal(0, rng.uniform(0.005, 0.025), arr.shape)
        img = Image.fromarray((np.clip(arr, 0, 1) * 255).astype(np.uint8))
        out.append(_photographed(sheet, img, rng, "dim"))
    return out


def under_glare(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[Sample]:
    """A single digit (even ``k``) or a number of 2-7 digits (odd), composed as in
    :func:`single_digits` and :func:`numbers`, photographed with a lamp's glare on the paper: a
    bright oval spot (its width 0.1-0.35 of the picture's long side) somewhere on the picture, adding
    0.2-1.0 times white paper's light at its centre (from a faint sheen to paper burnt out white), so
    the ink under it is lighter by the same amount of light as the paper. Then noise and JPEG. Their
    kind is "glare-single" or "glare-number"."""
    out = []
    for rng, sheet in _sheets(images, labels, n, seed, 20):
        arr = np.asarray(Image.open(io.BytesIO(sheet.data)).convert("RGB"), np.float32) / 255
        h, w = arr.shape[:2]
        sigma = rng.uniform(0.1, 0.35) * max(h, w) / 2
        aspect = rng.uniform(0.5, 2.0)
        cy, cx = rng.uniform(0.1, 0.9) * h, rng.uniform(0.1, 0.9) * w
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        spot = np.exp(-(((xx - cx) / (sigma * aspect)) ** 2 + ((yy - cy) * aspect / sigma) ** 2) / 2)
        # Glare adds light (linear, not sRGB values): a specular reflection of a white lamp.
        light = arr**2.2 + rng.uniform(0.2, 1.0) * spot[..., None]
        arr = np.clip(light, 0, 1) ** (1 / 2.2) + rng.normal(0, rng.uniform(0.0, 0.015), arr.shape)
        img = Image.fromarray((np.clip(arr, 0, 1) * 255).astype(np.uint8))
        out.append(_photographed(sheet, img, rng, "glare"))
    return out


def in_faint_pencil(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[Sample]:
    """A single digit (even ``k``) or a number of 2-7 digits (odd), composed as in
    :func:`single_digits` and :func:`numbers` but written in pencil pressed lightly: grey, grainy
    graphite taking at most 12-40% of the paper's light (a pen takes 50-95%), then blurred, noisy
    and compressed like the rest. Their kind is "faint-single" or "faint-number"."""
    out = []
    for _, sheet in _sheets(images, labels, n, seed, 21, faint=(0.12, 0.4)):
        out.append(dataclasses.replace(sheet, kind=_sheet_kind("faint", sheet)))
    return out


def on_old_paper(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[Sample]:
    """A single digit (even ``k``) or a number of 2-7 digits (odd), composed as in
    :func:`single_digits` and :func:`numbers`, on a page of an old register as it is scanned or
    photographed: the paper yellowed (none to strongly), foxed with up to a dozen brown spots, a
    water stain's darker rim across three pictures in ten, and in seven in ten the writing on the
    other side of the page showing through, mirrored, blurred and faint (MNIST test digits 0.4-0.9 of
    the picture tall, taking 6-22% of the light). Then JPEG. Their kind is "old-single" or
    "old-number"."""
    out = []
    for rng, sheet in _sheets(images, labels, n, seed, 23):
        arr = np.asarray(Image.open(io.BytesIO(sheet.data)).convert("RGB"), np.float32) / 255
        arr = _aged(arr, images, rng)
        out.append(_photographed(sheet, Image.fromarray((arr * 255).astype(np.uint8)), rng, "old"))
    return out


def _aged(arr: np.ndarray, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The picture ``arr`` (H, W, 3) in [0, 1] on aged paper (see :func:`on_old_paper`): the
    stains and the show-through take light from the paper and the writing alike."""
    h, w = arr.shape[:2]
    yellow = rng.uniform(0.0, 1.0)
    arr = arr * np.array([1.0, 1 - 0.1 * yellow, 1 - 0.3 * yellow], np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    spots = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(0, 12))):  # foxing
        radius = rng.uniform(0.005, 0.04) * max(h, w) + 0.5
        d = np.hypot(yy - rng.uniform(0, h), xx - rng.uniform(0, w)) / radius
        spots = np.maximum(spots, np.clip(1 - d, 0, 1) ** 0.5 * rng.uniform(0.1, 0.35))
    if rng.random() < 0.3:  # a water stain: a faint patch with a darker rim
        d = np.hypot(yy - rng.uniform(0, h), xx - rng.uniform(0, w)) / (rng.uniform(0.2, 0.6) * max(h, w))
        rim = np.where(d < 1, 0.05 + 0.15 * np.exp(-(((1 - d) * 12) ** 2)), 0) * rng.uniform(0.5, 1.5)
        spots = np.maximum(spots, rim.astype(np.float32))
    arr = arr * (1 - ndi.gaussian_filter(spots, 1.0)[..., None] * np.array([0.5, 0.7, 0.95], np.float32))
    if rng.random() < 0.7:  # the other side's writing, mirrored
        back = np.zeros((h, w), np.float32)
        height = max(10, int(rng.uniform(0.4, 0.9) * h))
        x = int(rng.uniform(-0.2, 0.2) * w)
        while x < w:
            a = _digit_alpha(images[int(rng.integers(len(images)))], height, rng, rng.uniform(-0.5, 1.5))
            y = int(rng.integers(-height // 4, max(1, h - height // 2)))
            top, left = max(0, y), max(0, x)
            part = a[top - y :, left - x :][: h - top, : w - left]
            _paste(back, part, top, left)
            x += a.shape[1] + int(rng.uniform(0.05, 0.4) * height)
        back = ndi.gaussian_filter(back[:, ::-1], rng.uniform(0.8, 2.0))
        arr = arr * (1 - back[..., None] * rng.uniform(0.06, 0.22) * np.array([0.8, 0.85, 0.9], np.float32))
    return np.clip(arr, 0, 1)


def out_of_focus(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[Sample]:
    """A single digit (even ``k``) or a number of 2-7 digits (odd), composed as in
    :func:`single_digits` and :func:`numbers`, photographed out of focus (or shaken): blurred by a
    Gaussian of 1-4% of the picture's short side (a digit a third of a single's picture tall loses
    detail of 3-12% of its height), then JPEG. Still easy for people to read. Their kind is
    "focus-single" or "focus-number"."""
    out = []
    for rng, sheet in _sheets(images, labels, n, seed, 22):
        img = Image.open(io.BytesIO(sheet.data)).convert("RGB")
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.01, 0.04) * min(img.size)))
        out.append(_photographed(sheet, img, rng, "focus"))
    return out


def at_an_angle(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[Sample]:
    """``n`` numbers of 2-10 MNIST test digits as in :func:`numbers`, photographed from one side: the
    camera turned 15-50 degrees about the upright, so that the far end of the number is smaller (its
    height 0.9-0.6 of the near end's) and drawn together; the far end is the left or the right.
    Their kind says how much smaller ("angle-0.8-0.9", "angle-0.7-0.8", "angle-0.6-0.7")."""
    out = []
    for k in range(n):
        rng = _rng(seed, 19, k)
        idx = rng.choice(len(images), size=int(rng.integers(2, 11)), replace=False)
        sample = _number([images[i] for i in idx], [int(labels[i]) for i in idx], rng)
        picture = Image.open(io.BytesIO(sample.data)).convert("RGB")
        w, h = picture.size
        far = float(rng.uniform(0.6, 0.9))  # the far end's height, as a share of the near end's
        d = (1 - far) * h / 2
        # The far side drawn in towards the near one as well (foreshortening), by up to a fifth.
        squeeze = (1 - far) * 0.5 * w
        if rng.random() < 0.5:  # the far end on the right: its corners pulled in
            corners = [(0, 0), (w - squeeze, d), (w - squeeze, h - d), (0, h)]
        else:
            corners = [(squeeze, d), (w, 0), (w, h), (squeeze, h - d)]
        coeffs = _perspective_coeffs(corners, [(0, 0), (w, 0), (w, h), (0, h)])
        fill = tuple(int(v) for v in np.median(np.asarray(picture).reshape(-1, 3), axis=0))
        picture = picture.transform(
            (w, h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR, fillcolor=fill
        )
        band = "0.8-0.9" if far >= 0.8 else "0.7-0.8" if far >= 0.7 else "0.6-0.7"
        out.append(Sample(_encode(picture, rng), sample.label, f"angle-{band}", (), sample.pen))
    return out


def dataset_crops(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[tuple[np.ndarray, int]]:
    """Digits stored the way other handwriting datasets store them: drawn with a varied pen, cut to
    the ink and fitted into a 16-32 px square keeping the aspect (USPS 16×16, Semeion 16×16, cells
    scanned at low resolution), grey or binary (1-bit, as NIST SD19 and Semeion), white on black or
    black on white. A heavy pen in a small square is more ink than paper: the picture's median is
    the ink's colour and only its frame shows the paper. Returns (image, digit) pairs."""
    order = np.random.default_rng([seed, 9]).permutation(len(images))[:n]
    out = []
    for k, i in enumerate(order):
        rng = _rng(seed, 9, k)
        alpha = _digit_alpha(images[i], 60, rng, stroke=rng.uniform(-0.5, 1.5))
        picture = _fit_square(Image.fromarray((alpha * 255).astype(np.uint8)), int(rng.integers(16, 33)))
        if rng.random() < 0.5:
            picture = np.where(picture >= 128, 255, 0).astype(np.uint8)
        out.append((picture if rng.random() < 0.5 else 255 - picture, int(labels[i])))
    return out


def real_digits() -> tuple[list[np.ndarray], np.ndarray] | None:
    """Real handwriting that is not MNIST: UCI optdigits (Alpaydin & Kaynak, 1998), the 1,797 digits
    of 43 writers that scikit-learn ships (``sklearn.datasets.load_digits``), 8×8 with 17 grey
    levels, dark ink on light paper, as uint8 pictures. ``None`` without scikit-learn
    (``pip install -e '.[bench]'``)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        return None
    data = load_digits()
    pictures = [255 - np.round(image * 255 / 16).astype(np.uint8) for image in data.images]
    return pictures, data.target


def real_numbers(pictures: list[np.ndarray], labels: np.ndarray, n: int, seed: int = 0) -> list[tuple[np.ndarray, str]]:
    """Numbers of 2-6 real digits (:func:`real_digits`) written side by side 0-2 px apart on a strip
    12 px tall: a register number or a form scanned at low resolution. Returns (picture, text)."""
    rng = np.random.default_rng([seed, 13])
    out = []
    for _ in range(n):
        chosen = rng.choice(len(pictures), int(rng.integers(2, 7)), replace=False)
        row = [np.full((8, 2), 255, np.uint8)]
        for i in chosen:
            row += [pictures[i], np.full((8, int(rng.integers(0, 3))), 255, np.uint8)]
        strip = np.pad(np.concatenate(row, axis=1), ((2, 2), (0, 0)), constant_values=255)
        out.append((strip, "".join(str(labels[i]) for i in chosen)))
    return out


def _form_grid(
    images: np.ndarray,
    chosen: dict[tuple[int, int], int],
    rows: int,
    cols: int,
    rng: np.random.Generator,
    turn: float = 0.0,
) -> tuple[np.ndarray, int]:
    """A form's grid of ``rows`` × ``cols`` cells with a digit in every one (the same pen, as one
    writer's): MNIST test digit ``chosen[row, col]`` where given, a random one elsewhere; the form
    photographed turned by ``turn`` degrees round its centre when given. Returns the page (float
    (H, W, 3)) and the cell's side in pixels."""
    height, pen = int(rng.integers(30, 90)), rng.uniform(-0.5, 1.5)
    cell = int(height * rng.uniform(1.2, 1.5))
    page = _paper(rows * cell + 2, cols * cell + 2, rng)
    alpha = np.zeros(page.shape[:2], np.float32)
    lines = np.zeros_like(alpha)
    for row, col in itertools.product(range(rows), range(cols)):
        index = chosen.get((row, col), int(rng.integers(len(images))))
        a = _digit_alpha(images[index], int(height * rng.uniform(0.9, 1.1)), rng, stroke=pen)
        ah, aw = a.shape[0], min(a.shape[1], cell)
        y = row * cell + max(0, (cell - ah) // 2 + int(rng.integers(-3, 4)))
        x = col * cell + max(0, (cell - aw) // 2 + int(rng.integers(-3, 4)))
        _paste(alpha, a[:, :aw], y, x)
    width = max(1.0, rng.uniform(0.02, 0.04) * height)
    for k in range(rows + 1):
        _line(lines, (0, k * cell), (cols * cell, k * cell), width)
    for k in range(cols + 1):
        _line(lines, (k * cell, 0), (k * cell, rows * cell), width)
    _print_lines(page, lines, rng)
    _write(page, alpha, rng)
    if turn:  # the corners it leaves are filled with paper; a 3×3 form's middle cell never reaches them
        page = np.stack(
            [
                np.asarray(
                    Image.fromarray(page[..., c].astype(np.float32), mode="F").rotate(
                        turn, Image.Resampling.BILINEAR, fillcolor=float(np.median(page[..., c]))
                    )
                )
                for c in range(3)
            ],
            axis=-1,
        )
    return page, cell


def _cell_picture(images: np.ndarray, index: int, rng: np.random.Generator, turn: float = 0.0) -> bytes:
    """The middle cell of a 3×3 form (see :func:`_form_grid`) holding MNIST test digit ``index``,
    cut out with 3-30% of a cell more on each side, photographed (blur, noise, perspective) and
    encoded."""
    page, cell = _form_grid(images, {(1, 1): index}, 3, 3, rng, turn=turn)
    left, top, right, bottom = (int(cell * rng.uniform(0.03, 0.3)) for _ in range(4))
    crop = np.ascontiguousarray(page[cell - top : 2 * cell + bottom, cell - left : 2 * cell + right])
    return _encode(_degrade(crop, rng), rng)


def grid_cells(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[Sample]:
    """One cell cut from a form's grid with a margin: the middle cell of a 3×3 grid (see
    :func:`_form_grid`) cut out with 3-30% of a cell more on each side, so that pieces of the
    neighbours' digits and the grid lines show at the frame; then blur, noise, perspective, JPEG."""
    order = np.random.default_rng([seed, 10]).permutation(len(images))[:n]
    out = []
    for k, i in enumerate(order):
        rng = _rng(seed, 10, k)
        out.append(Sample(_cell_picture(images, int(i), rng), str(int(labels[i])), "cell", (), 0.0))
    return out


def turned_cells(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[Sample]:
    """Cells cut as in :func:`grid_cells` from a form photographed turned by 2-12 degrees either way
    (the cut stays level: a phone held askew over a form), so that the cell's borders run slanted
    through the picture; their kind says by how much ("cell-turned-2-6", "cell-turned-6-12")."""
    order = np.random.default_rng([seed, 16]).permutation(len(images))[:n]
    out = []
    for k, i in enumerate(order):
        rng = _rng(seed, 16, k)
        turn = float(rng.uniform(2, 12))
        picture = _cell_picture(images, int(i), rng, turn=turn * rng.choice([-1, 1]))
        kind = "cell-turned-2-6" if turn < 6 else "cell-turned-6-12"
        out.append(Sample(picture, str(int(labels[i])), kind, (), 0.0))
    return out


def grid_rows(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[Sample]:
    """A number in a row of comb cells cut from a form or a ledger with a margin: the middle row of a
    3-row grid of 3-8 cells (see :func:`_form_grid`) cut out with 3-30% of a row more above and
    below, so that the digits of the rows above and below show at the frame."""
    out = []
    for k in range(n):
        rng = _rng(seed, 11, k)
        cols = int(rng.integers(3, 9))
        picked = rng.choice(len(images), cols, replace=False)
        page, cell = _form_grid(images, {(1, c): int(i) for c, i in enumerate(picked)}, 3, cols, rng)
        top, bottom = (int(cell * rng.uniform(0.03, 0.3)) for _ in range(2))
        crop = np.ascontiguousarray(page[cell - top : 2 * cell + bottom])
        text = "".join(str(int(labels[i])) for i in picked)
        out.append(Sample(_encode(_degrade(crop, rng), rng), text, "row", (), 0.0))
    return out


def squared_paper(images: np.ndarray, labels: np.ndarray, n: int, seed: int = 0) -> list[Sample]:
    """A number of 1-8 digits written on squared paper (a school exercise book, graph paper): a grid
    of thin printed lines in both directions, 0.5-1.3 digit heights apart, running across the whole
    picture and through the digits, at any offset from the writing and turned by up to a degree; a
    third of the writers put one digit in each square. Spacing, pen, paper and photograph as in
    :func:`numbers`."""
    out = []
    for k in range(n):
        rng = _rng(seed, 14, k)
        idx = rng.choice(len(images), size=int(rng.integers(1, 9)), replace=False)
        height = int(rng.integers(22, 90))
        stroke = rng.uniform(-1.0, 2.5)
        alphas = [_digit_alpha(images[i], int(height * rng.uniform(0.9, 1.1)), rng, stroke) for i in idx]
        one_per_square = rng.random() < 1 / 3
        square = height * (rng.uniform(1.1, 1.4) if one_per_square else rng.uniform(0.5, 1.3))
        spacing = rng.choice(["wide", "normal", "tight", "touching"], p=[0.2, 0.35, 0.25, 0.2])
        x = square * rng.uniform(0.5, 1.5)
        top = int(height * rng.uniform(0.3, 0.9))
        h = top + int(height * 1.15) + int(height * rng.uniform(0.3, 0.8))
        origin = (x, rng.uniform(0, square)) if one_per_square else (rng.uniform(0, square), rng.uniform(0, square))
        if one_per_square:  # the digits' squares start at `origin`; the grid rows are fitted round them
            top = int(origin[1] + (square - height) / 2) + int(square * int(rng.integers(0, 2)))
            h = int(top + square * rng.uniform(1.3, 2.5))
        lefts = []
        for a in alphas:
            if one_per_square:
                lefts.append(int(x + (square - a.shape[1]) / 2) if a.shape[1] < square else int(x))
                x += square
            else:
                lefts.append(int(x))
                x += a.shape[1] + rng.uniform(*GAPS[spacing]) * height
        width = int(x + square * rng.uniform(0.5, 1.5))
        page = _paper(h, width, rng)
        alpha = np.zeros((h, width), np.float32)
        boxes = tuple(_on_the_line(alpha, a, left, top + height, rng) for a, left in zip(alphas, lefts, strict=True))
        lines = np.zeros_like(alpha)
        lw = max(1.0, rng.uniform(0.01, 0.035) * height)
        tilt = math.tan(math.radians(rng.uniform(-1, 1)))
        for j in range(-2, int(width / square) + 3):  # columns, then rows, over the whole picture
            cx = origin[0] + j * square
            _line(lines, (cx, 0), (cx - tilt * h, h), lw)
        for j in range(-2, int(h / square) + 3):
            cy = origin[1] + j * square
            _line(lines, (0, cy), (width, cy + tilt * width), lw)
        _print_lines(page, lines, rng)
        _write(page, alpha, rng)
        text = "".join(str(int(labels[i])) for i in idx)
        kind = "squared-one-per-square" if one_per_square else f"squared-{spacing}"
        out.append(Sample(_encode(_degrade(page, rng), rng), text, kind, boxes, stroke))
    return out


# ---------------------------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------------------------


def measure(model: str | None, root: str | None, n: int, seed: int) -> dict:
    import torch

    from digitocr.predict import Recognizer

    torch.set_num_threads(1)
    images, labels = load_test_digits(root)
    recognizer = Recognizer(model)
    results: dict = {"model": str(model or "pretrained"), "n": n, "seed": seed}
    if recognizer.ood_threshold is None:  # an uncalibrated checkpoint: calibrate on the validation split
        from digitocr.data import load_splits

        splits = load_splits(root)
        recognizer.calibrate(splits.val_images, splits.val_labels)
        results["calibrated_here"] = True
    results["temperature"] = recognizer.temperature

    singles = single_digits(images, labels, n, seed)
    start = time.perf_counter()
    preds = recognizer.predict([s.data for s in singles])
    predict_seconds = time.perf_counter() - start
    correct = [p.digit == int(s.label) for p, s in zip(preds, singles, strict=True)]
    refused = [p.digit is None for p in preds]
    forced = [int(np.argmax(p.probabilities)) == int(s.label) for p, s in zip(preds, singles, strict=True)]
    results["single_accuracy"] = float(np.mean(correct))
    results["single_accuracy_if_forced"] = float(np.mean(forced))
    results["single_wrongly_refused"] = float(np.mean(refused))
    results["single_accuracy_by_pen"] = _by_pen(correct, singles)
    results["predict_images_per_second"] = len(singles) / predict_seconds

    nums = numbers(images, labels, n, seed)
    start = time.perf_counter()
    readings = [recognizer.read(s.data) for s in nums]
    read_seconds = time.perf_counter() - start
    exact = [r.text == s.label for r, s in zip(readings, nums, strict=True)]
    results["number_exact"] = float(np.mean(exact))
    results["number_digit_accuracy"] = _digit_accuracy([r.text for r in readings], [s.label for s in nums])
    results["read_images_per_second"] = len(nums) / read_seconds
    by_kind: dict[str, list[bool]] = {}
    for ok, s in zip(exact, nums, strict=True):
        by_kind.setdefault(s.kind, []).append(ok)
    results["number_exact_by_spacing"] = {k: float(np.mean(v)) for k, v in sorted(by_kind.items())}
    results["number_exact_by_pen"] = _by_pen(exact, nums)
    amounts = cheque_amounts(images, labels, n, seed)
    readings = [recognizer.read(s.data) for s in amounts]
    exact = [r.text == s.label for r, s in zip(readings, amounts, strict=True)]
    results["amount_exact"] = float(np.mean(exact))
    results["amount_digit_accuracy"] = _digit_accuracy([r.text for r in readings], [s.label for s in amounts])
    by_mark: dict[str, list[bool]] = {}
    for ok, s in zip(exact, amounts, strict=True):
        before, after = s.kind.removeprefix("amount").split("|")
        by_mark.setdefault(f"before {before or 'nothing'}", []).append(ok)
        by_mark.setdefault(f"after {after or 'nothing'}", []).append(ok)
    results["amount_exact_by_mark"] = {k: float(np.mean(v)) for k, v in sorted(by_mark.items())}

    plain = plain_renders(images, n, seed)
    preds = recognizer.predict(plain)
    results["roundtrip_accuracy"] = float(np.mean([p.digit == labels[k] for k, p in enumerate(preds)]))
    results["roundtrip_accuracy_if_forced"] = float(
        np.mean([int(np.argmax(p.probabilities)) == labels[k] for k, p in enumerate(preds)])
    )
    preds = recognizer.predict(tight_crops(images, n, seed))
    results["tight_crop_accuracy"] = float(np.mean([p.digit == labels[k] for k, p in enumerate(preds)]))
    results["tight_number_exact"] = float(
        np.mean([recognizer.read(picture).text == text for picture, text in tight_numbers(images, labels, n, seed)])
    )
    written = continental_digits(images, labels, n, seed)
    preds = recognizer.predict([s.data for s in written])
    for digit in (1, 7):
        results[f"continental_{digit}_accuracy"] = float(
            np.mean([str(p.digit) == s.label for p, s in zip(preds, written, strict=True) if s.label == str(digit)])
        )
    crops = dataset_crops(images, labels, n, seed)
    preds = recognizer.predict([picture for picture, _ in crops])
    results["dataset_crop_accuracy"] = float(
        np.mean([p.digit == label for p, (_, label) in zip(preds, crops, strict=True)])
    )
    cells = grid_cells(images, labels, n, seed)
    preds = recognizer.predict([s.data for s in cells])
    results["grid_cell_accuracy"] = float(np.mean([str(p.digit) == s.label for p, s in zip(preds, cells, strict=True)]))
    turned = turned_cells(images, labels, n, seed)
    preds = recognizer.predict([s.data for s in turned])
    right = [str(p.digit) == s.label for p, s in zip(preds, turned, strict=True)]
    results["turned_cell_accuracy"] = float(np.mean(right))
    results["turned_cell_accuracy_by_turn"] = _by_kind(right, turned, "cell-turned-", " degrees")
    rows = grid_rows(images, labels, n, seed)
    results["grid_row_exact"] = float(np.mean([recognizer.read(s.data).text == s.label for s in rows]))
    squared = squared_paper(images, labels, n, seed)
    results.update(_number_figures(recognizer, squared, "squared_paper", "squared-"))
    turned = turned_numbers(images, labels, n, seed)
    results.update(_number_figures(recognizer, turned, "turned", "turned-", "turn", " degrees"))
    results.update(_number_figures(recognizer, marked_numbers(images, labels, n, seed), "marked", "marked-"))
    results.update(_number_figures(recognizer, form_fields(images, labels, n, seed), "field", "field-"))
    underlined = underlined_numbers(images, labels, n, seed)
    results.update(_number_figures(recognizer, underlined, "underlined", "underlined-"))
    columns = columns_of_numbers(images, labels, n, seed)
    results.update(_number_figures(recognizer, columns, "column", "column-", "lines", " lines"))
    small = small_in_photo(images, labels, n, seed)
    preds = recognizer.predict([s.data for s in small])
    results["small_in_photo_accuracy"] = float(
        np.mean([str(p.digit) == s.label for p, s in zip(preds, small, strict=True)])
    )
    results.update(_singles_and_numbers(recognizer, on_a_desk(images, labels, n, seed), "desk"))
    angled = at_an_angle(images, labels, n, seed)
    results.update(_number_figures(recognizer, angled, "angle", "angle-", "far_end_height"))
    results.update(_singles_and_numbers(recognizer, in_dim_light(images, labels, n, seed), "dim"))
    results.update(_singles_and_numbers(recognizer, under_glare(images, labels, n, seed), "glare"))
    results.update(_singles_and_numbers(recognizer, in_faint_pencil(images, labels, n, seed), "faint"))
    results.update(_singles_and_numbers(recognizer, out_of_focus(images, labels, n, seed), "focus"))
    results.update(_singles_and_numbers(recognizer, on_old_paper(images, labels, n, seed), "old"))
    real = real_digits()
    if real is None:
        results["real_optdigits"] = "not measured: needs scikit-learn (pip install -e '.[bench]')"
    else:  # all 1,797, whatever n: the set is fixed
        preds = recognizer.predict(real[0])
        results["real_optdigits_accuracy"] = float(np.mean([p.digit == y for p, y in zip(preds, real[1], strict=True)]))
        results["real_optdigits_wrongly_refused"] = float(np.mean([p.digit is None for p in preds]))
        results["real_optdigits_number_exact"] = float(
            np.mean([recognizer.read(strip).text == text for strip, text in real_numbers(*real, n // 2, seed)])
        )
    probs, _ = recognizer.classify(images[:n] / 255.0)
    results["model_test_accuracy_same_digits"] = float(np.mean(probs.argmax(1) == labels[:n]))

    others = non_digits(n, seed)
    preds = recognizer.predict([s.data for s in others])
    by_kind = {}
    for p, s in zip(preds, others, strict=True):
        by_kind.setdefault(s.kind, []).append(p.digit is None)
    results["refused"] = float(np.mean([p.digit is None for p in preds]))
    results["refused_by_kind"] = {k: float(np.mean(v)) for k, v in sorted(by_kind.items())}
    results["machine"] = f"{platform.machine()} {os.cpu_count()} CPUs, torch threads 1"
    return results


def _singles_and_numbers(recognizer, samples: list[Sample], name: str) -> dict[str, float]:
    """Pictures of a single digit (kind ``{name}-single``), read with ``predict``, and of a number,
    read with ``read``: ``{name}_single_accuracy`` and ``{name}_number_exact``."""
    singles = [s for s in samples if s.kind == f"{name}-single"]
    preds = recognizer.predict([s.data for s in singles])
    return {
        f"{name}_single_accuracy": float(
            np.mean([str(p.digit) == s.label for p, s in zip(preds, singles, strict=True)])
        ),
        f"{name}_number_exact": float(
            np.mean([recognizer.read(s.data).text == s.label for s in samples if s.kind != f"{name}-single"])
        ),
    }


def _read_numbers(recognizer, samples: list[Sample]) -> tuple[list[bool], float]:
    """Read each picture as a number: whether each was read exactly, and the share of digits read."""
    readings = [recognizer.read(s.data).text for s in samples]
    exact = [text == s.label for text, s in zip(readings, samples, strict=True)]
    return exact, _digit_accuracy(readings, [s.label for s in samples])


def _number_figures(
    recognizer, samples: list[Sample], name: str, prefix: str, by: str = "kind", suffix: str = ""
) -> dict[str, Any]:
    """Pictures read as numbers: ``{name}_digit_accuracy``, ``{name}_exact`` and ``{name}_exact_by_{by}``
    (by the samples' kind less ``prefix``, plus ``suffix``: see :func:`_by_kind`)."""
    exact, digits = _read_numbers(recognizer, samples)
    return {
        f"{name}_digit_accuracy": digits,
        f"{name}_exact": float(np.mean(exact)),
        f"{name}_exact_by_{by}": _by_kind(exact, samples, prefix, suffix),
    }


def _by_kind(outcomes: list[bool], samples: list[Sample], prefix: str, suffix: str = "") -> dict[str, float]:
    """The share of ``outcomes`` that are right, by the samples' kind (less ``prefix``, plus ``suffix``)."""
    groups: dict[str, list[bool]] = {}
    for ok, s in zip(outcomes, samples, strict=True):
        groups.setdefault(s.kind.removeprefix(prefix) + suffix, []).append(ok)
    return {k: float(np.mean(v)) for k, v in sorted(groups.items())}


def _by_pen(outcomes: list[bool], samples: list[Sample]) -> dict[str, float]:
    """Share of successes by the pen the digits were drawn with: thinned (strokes break at the
    threshold), about MNIST's width, or thickened (loops fill)."""
    bands: dict[str, list[bool]] = {f"thin (< {PEN_THIN})": [], "mnist": [], f"thick (>= {PEN_THICK})": []}
    names = list(bands)
    for ok, s in zip(outcomes, samples, strict=True):
        bands[names[0] if s.pen < PEN_THIN else names[2] if s.pen >= PEN_THICK else names[1]].append(ok)
    return {k: float(np.mean(v)) for k, v in bands.items() if v}


def _digit_accuracy(predicted: list[str], truth: list[str]) -> float:
    """Share of true digits read correctly, by edit-distance alignment (insertions count as errors)."""
    errors, total = 0, 0
    for p, t in zip(predicted, truth, strict=True):
        d = np.arange(len(p) + 1)
        for i, tc in enumerate(t, start=1):
            prev, d[0] = d.copy(), i
            for j, pc in enumerate(p, start=1):
                d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (tc != pc))
        errors += int(d[len(p)])
        total += len(t)
    return max(0.0, 1 - errors / max(total, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="checkpoint (default: the packaged pretrained model)")
    parser.add_argument("--data-dir", default=os.environ.get("DIGITOCR_DATA"), help="MNIST root")
    parser.add_argument("--n", type=int, default=500, help="images per set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", type=Path, help="also write a few samples of each set as files here")
    args = parser.parse_args()
    if args.save:
        images, labels = load_test_digits(args.data_dir)
        args.save.mkdir(parents=True, exist_ok=True)
        sets = {
            "single": single_digits(images, labels, 12, args.seed),
            "number": numbers(images, labels, 12, args.seed),
            "amount": cheque_amounts(images, labels, 12, args.seed),
            "other": non_digits(12, args.seed),
            "desk": on_a_desk(images, labels, 12, args.seed),
            "dim": in_dim_light(images, labels, 12, args.seed),
            "glare": under_glare(images, labels, 12, args.seed),
            "faint": in_faint_pencil(images, labels, 12, args.seed),
            "focus": out_of_focus(images, labels, 12, args.seed),
            "old": on_old_paper(images, labels, 12, args.seed),
            "angle": at_an_angle(images, labels, 12, args.seed),
            "squared": squared_paper(images, labels, 12, args.seed),
            "turned": turned_numbers(images, labels, 12, args.seed),
            "turned-cell": turned_cells(images, labels, 12, args.seed),
            "marked": marked_numbers(images, labels, 12, args.seed),
            "field": form_fields(images, labels, 12, args.seed),
            "column": columns_of_numbers(images, labels, 12, args.seed),
            "underlined": underlined_numbers(images, labels, 12, args.seed),
        }
        for name, samples in sets.items():
            for k, s in enumerate(samples):
                (args.save / f"{name}-{k:02d}-{s.label.replace(chr(10), '_') or s.kind}.img").write_bytes(s.data)
    print(json.dumps(measure(args.model, args.data_dir, args.n, args.seed), indent=2))


if __name__ == "__main__":
    main()
