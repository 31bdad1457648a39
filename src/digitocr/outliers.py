"""Synthetic non-digits for outlier exposure (Hendrycks, Mazeika & Dietterich, "Deep anomaly
detection with outlier exposure", 2019).

Owns: :func:`synthetic_outliers`, images that are *not* digits in the MNIST convention (uint8
(N, 28, 28), white ink on black, fitted to 20×20 and centred by centre of mass by the very
:func:`digitocr.preprocess.ink_to_mnist` that ``predict`` uses), for training a model to give them
a flat prediction. Kinds: handwritten-looking letters from a jittered stroke font, printed letters
and symbols (Pillow's built-in font, Greek/Cyrillic/symbols from any TrueType font found on the
machine), currency signs ($ € £ ¥, written and printed: they stand before amounts on cheques and
bills), scribbles, spirals and knots, doodled shapes (crossed boxes, stars, grids, zigzags), blobs,
speckle, and two letters side by side.

Anything that *is* or closely resembles a digit is left out: a single straight stroke (1, 7's bar,
a dash), a single loop (0), O/o/D/Q, I/l/i/j/L/T, Z/z, S/s, B/b/G/g/q, y, and Cyrillic З/б/Ч.
The realistic benchmark (``benchmarks/realistic.py``) draws its non-digits differently (DejaVu Latin
letters, random-walk scribbles, four doodles), so its refusal figures are not measured on the
training distribution. Deterministic given ``(n, seed)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage as ndi

from digitocr.preprocess import ink_to_mnist

CANVAS = 64  # drawing size in pixels; ink_to_mnist scales it to the 20×20 box
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".fonts"))
# Printed with Pillow's built-in font (Aileron, not DejaVu, which the benchmark uses).
LATIN = "ACEFHKMNPRUVWXYacefhkmnprtuvwx"
# Printed with TrueType fonts when present: letters and symbols far from any digit.
SYMBOLS = "$€£¥ΔΛΞΠΣΦΨΩαηλμπφχψωЖИЙЛФЦШЩЫЮЯжийлмфцшщыюя#%&@*+×÷±¶†‡※✓✗★☆♠♣♥♦☺♫∞≈≠∑∏√∇"

Polyline = list[tuple[float, float]]


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, steps: int = 12) -> Polyline:
    """Points on an elliptic arc, angles in degrees (0 = right, 90 = down: image coordinates)."""
    t = np.radians(np.linspace(a0, a1, steps))
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in t]


# A small stroke font in a unit box (x right, y down), written the way people write letters.
STROKES: dict[str, list[Polyline]] = {
    "A": [[(0.1, 1), (0.5, 0), (0.9, 1)], [(0.25, 0.62), (0.75, 0.62)]],
    "E": [[(0.85, 0), (0.15, 0), (0.15, 1), (0.85, 1)], [(0.15, 0.5), (0.7, 0.5)]],
    "F": [[(0.85, 0), (0.15, 0), (0.15, 1)], [(0.15, 0.48), (0.7, 0.48)]],
    "H": [[(0.15, 0), (0.15, 1)], [(0.85, 0), (0.85, 1)], [(0.15, 0.5), (0.85, 0.5)]],
    "K": [[(0.15, 0), (0.15, 1)], [(0.85, 0), (0.15, 0.55)], [(0.35, 0.42), (0.9, 1)]],
    "M": [[(0.05, 1), (0.15, 0), (0.5, 0.65), (0.85, 0), (0.95, 1)]],
    "N": [[(0.15, 1), (0.15, 0), (0.85, 1), (0.85, 0)]],
    "R": [[(0.15, 1), (0.15, 0), *_arc(0.45, 0.25, 0.35, 0.25, -90, 90), (0.15, 0.5), (0.85, 1)]],
    "P": [[(0.15, 1), (0.15, 0), *_arc(0.45, 0.25, 0.35, 0.25, -90, 90), (0.15, 0.5)]],
    "U": [[(0.15, 0), *_arc(0.5, 0.6, 0.35, 0.4, 180, 0), (0.85, 0)]],
    "V": [[(0.1, 0), (0.5, 1), (0.9, 0)]],
    "W": [[(0.0, 0), (0.25, 1), (0.5, 0.35), (0.75, 1), (1.0, 0)]],
    "X": [[(0.1, 0), (0.9, 1)], [(0.9, 0), (0.1, 1)]],
    "Y": [[(0.1, 0), (0.5, 0.5), (0.9, 0)], [(0.5, 0.5), (0.5, 1)]],
    "C": [_arc(0.55, 0.5, 0.45, 0.5, -50, -310, 16)],
    "a": [[*_arc(0.45, 0.68, 0.33, 0.3, -20, -340, 16)], [(0.8, 0.35), (0.8, 1), (0.95, 1)]],
    "c": [_arc(0.55, 0.68, 0.38, 0.32, -40, -320, 14)],
    "e": [[(0.15, 0.65), (0.85, 0.65), *_arc(0.5, 0.65, 0.35, 0.33, 0, -300, 14)]],
    "h": [[(0.15, 0), (0.15, 1)], [(0.15, 0.6), *_arc(0.5, 0.65, 0.35, 0.3, 180, 360, 8), (0.85, 1)]],
    "k": [[(0.15, 0), (0.15, 1)], [(0.8, 0.35), (0.15, 0.72), (0.85, 1)]],
    "m": [
        [(0.05, 0.35), (0.05, 1)],
        [(0.05, 0.5), *_arc(0.27, 0.55, 0.22, 0.2, 180, 360, 6), (0.49, 1)],
        [(0.49, 0.55), *_arc(0.72, 0.55, 0.23, 0.2, 180, 360, 6), (0.95, 1)],
    ],
    "n": [[(0.15, 0.35), (0.15, 1)], [(0.15, 0.55), *_arc(0.5, 0.6, 0.35, 0.25, 180, 360, 8), (0.85, 1)]],
    "r": [[(0.2, 0.35), (0.2, 1)], [(0.2, 0.6), *_arc(0.55, 0.6, 0.35, 0.22, 180, 300, 6)]],
    "u": [[(0.15, 0.35), *_arc(0.5, 0.7, 0.35, 0.3, 180, 0, 8), (0.85, 0.35), (0.85, 1)]],
    "v": [[(0.1, 0.35), (0.5, 1), (0.9, 0.35)]],
    "w": [[(0.0, 0.35), (0.25, 1), (0.5, 0.5), (0.75, 1), (1.0, 0.35)]],
    "x": [[(0.1, 0.35), (0.9, 1)], [(0.9, 0.35), (0.1, 1)]],
    "f": [[*_arc(0.65, 0.15, 0.25, 0.15, -10, -180, 6), (0.4, 1)], [(0.1, 0.42), (0.75, 0.42)]],
    "t": [[(0.4, 0), (0.4, 0.85), *_arc(0.6, 0.85, 0.2, 0.15, 180, 90, 4)], [(0.1, 0.35), (0.8, 0.35)]],
    "p": [[(0.15, 0.35), (0.15, 1.2)], [*_arc(0.45, 0.6, 0.32, 0.25, 180, -180, 16)]],
    "#": [[(0.35, 0), (0.25, 1)], [(0.75, 0), (0.65, 1)], [(0, 0.33), (1, 0.33)], [(0, 0.67), (1, 0.67)]],
    "+": [[(0.5, 0.05), (0.5, 0.95)], [(0.05, 0.5), (0.95, 0.5)]],
    "*": [[(0.5, 0), (0.5, 1)], [(0.07, 0.25), (0.93, 0.75)], [(0.93, 0.25), (0.07, 0.75)]],
    "%": [_arc(0.2, 0.2, 0.15, 0.18, 0, 360, 12), [(0.85, 0), (0.15, 1)], _arc(0.8, 0.8, 0.15, 0.18, 0, 360, 12)],
    "&": [
        [(0.9, 1), *_arc(0.4, 0.25, 0.2, 0.22, 60, -240, 10), *_arc(0.4, 0.72, 0.3, 0.27, -60, -300, 10), (0.9, 0.5)]
    ],
    "@": [[*_arc(0.52, 0.55, 0.18, 0.18, 0, 360, 12), *_arc(0.5, 0.5, 0.45, 0.45, 0, -320, 16)]],
    # Currency signs written before an amount on a cheque or a bill (read as 5 or 6 otherwise).
    "$": [[*_arc(0.5, 0.3, 0.3, 0.2, -20, -270, 10), *_arc(0.5, 0.7, 0.3, 0.2, -90, 160, 10)], [(0.5, 0), (0.5, 1)]],
    "€": [_arc(0.62, 0.5, 0.38, 0.5, -50, -310, 16), [(0.0, 0.4), (0.65, 0.4)], [(0.0, 0.6), (0.6, 0.6)]],
}


def _find_fonts() -> list[str]:
    found: list[str] = []
    for root in FONT_DIRS:
        base = Path(root)
        if base.is_dir():
            found += sorted(str(p) for p in base.rglob("*.ttf"))
    return found


@lru_cache(maxsize=1)
def _fonts() -> tuple[str, ...]:
    return tuple(_find_fonts())


@lru_cache(maxsize=64)
def _truetype(path: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if path is None:
        try:
            return ImageFont.load_default(size=size)
        except TypeError:  # Pillow < 10.1: only the fixed bitmap font
            return ImageFont.load_default()
    return ImageFont.truetype(path, size)


@lru_cache(maxsize=4096)
def _missing(path: str, char: str) -> bool:
    """Whether the font lacks ``char`` (it renders the same bitmap as an unassigned code point)."""
    font = _truetype(path, 24)

    def bitmap(text: str) -> bytes:
        mask = font.getmask(text)
        return str(mask.size).encode() + Image.Image()._new(mask).tobytes()

    return bitmap(char) == bitmap("\ue000")


def _affine(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A handwriting-like random transform of unit-box points: slant, rotation, aspect, into the canvas."""
    slant = rng.uniform(-0.35, 0.35)
    angle = math.radians(rng.uniform(-15, 15))
    aspect = rng.uniform(0.6, 1.4)
    x = (points[:, 0] - 0.5) * aspect - slant * (points[:, 1] - 0.5)
    y = points[:, 1] - 0.5
    c, s = math.cos(angle), math.sin(angle)
    x, y = c * x - s * y, s * x + c * y
    scale = 0.6 * CANVAS / max(1.0, aspect)
    return np.stack([CANVAS / 2 + x * scale, CANVAS / 2 + y * scale], 1)


def _draw(polylines: list[np.ndarray], width: float, closed: bool = False) -> np.ndarray:
    """Draw polylines (canvas coordinates) at 2× and reduce: anti-aliased ink, float (H, W) in [0, 1]."""
    img = Image.new("L", (2 * CANVAS, 2 * CANVAS), 0)
    draw = ImageDraw.Draw(img)
    w = max(2, round(2 * width))
    for line in polylines:
        pts = [(float(2 * x), float(2 * y)) for x, y in line]
        if len(pts) == 1:
            x, y = pts[0]
            draw.ellipse([x - w / 2, y - w / 2, x + w / 2, y + w / 2], fill=255)
        else:
            draw.line(pts + ([pts[0]] if closed else []), fill=255, width=w, joint="curve")
            for x, y in (pts[0], pts[-1]):  # round caps
                draw.ellipse([x - w / 2, y - w / 2, x + w / 2, y + w / 2], fill=255)
    return np.asarray(img.resize((CANVAS, CANVAS), Image.Resampling.BOX), np.float32) / 255.0


def _stroke_width(rng: np.random.Generator) -> float:
    return rng.uniform(2.0, 6.5)


def _smooth(points: np.ndarray, steps: int = 6) -> np.ndarray:
    """A Catmull-Rom curve through the points: pen strokes are curves, not polygons."""
    if len(points) < 3:
        return points
    p = np.concatenate([points[:1], points, points[-1:]])
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        for t in np.linspace(0, 1, steps, endpoint=False):
            t2, t3 = t * t, t * t * t
            out.append(
                0.5
                * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2 + (-p0 + 3 * p1 - 3 * p2 + p3) * t3)
            )
    out.append(p[-2])
    return np.array(out)


def _written_letter(rng: np.random.Generator, letter: str | None = None) -> list[np.ndarray]:
    letter = letter or list(STROKES)[rng.integers(len(STROKES))]
    jitter = rng.uniform(0.01, 0.05)
    lines = [np.array(line, float) + rng.normal(0, jitter, (len(line), 2)) for line in STROKES[letter]]
    return lines


def _affine_lines(lines: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """One random affine transform (:func:`_affine`) applied to all the polylines of a drawing together."""
    moved = _affine(np.concatenate(lines), rng)
    return np.split(moved, np.cumsum([len(line) for line in lines])[:-1])


def kind_written(rng: np.random.Generator) -> np.ndarray:
    """One letter or symbol of the stroke font, jittered, slanted, rotated, stretched."""
    return _draw(_affine_lines(_written_letter(rng), rng), _stroke_width(rng))


def kind_two_letters(rng: np.random.Generator) -> np.ndarray:
    """Two written letters side by side (a word fragment: wider than any digit)."""
    a, b = _written_letter(rng), _written_letter(rng)
    lines = [line * [0.5, 1.0] for line in a] + [line * [0.5, 1.0] + [0.55, 0] for line in b]
    return _draw(_affine_lines(lines, rng), _stroke_width(rng) * 0.8)


def kind_printed(rng: np.random.Generator) -> np.ndarray:
    """A printed letter or symbol, rotated a little: Latin in Pillow's font, the rest in TrueType fonts."""
    fonts = _fonts()
    if fonts and rng.random() < 0.6:
        text, path = SYMBOLS[rng.integers(len(SYMBOLS))], fonts[rng.integers(len(fonts))]
    else:
        text, path = LATIN[rng.integers(len(LATIN))], None
    size = int(rng.integers(32, 48))
    font = _truetype(path, size)
    img = Image.new("L", (2 * CANVAS, 2 * CANVAS), 0)
    draw = ImageDraw.Draw(img)
    if path is not None and _missing(path, text):
        return kind_written(rng)  # the font would draw its "missing glyph" box, which looks like a 0
    try:
        draw.text((CANVAS / 2, CANVAS / 2), text, fill=255, font=font)
    except (OSError, ValueError):  # a font without this glyph's table
        return kind_written(rng)
    img = img.rotate(rng.uniform(-15, 15), resample=Image.Resampling.BILINEAR)
    shear = rng.uniform(-0.3, 0.3)
    img = img.transform(
        img.size, Image.Transform.AFFINE, (1, shear, -shear * CANVAS, 0, 1, 0), Image.Resampling.BILINEAR
    )
    ink = np.asarray(img, np.float32) / 255.0
    if ink.max() < 0.5 or (ink > 0.5).sum() < 20:  # a glyph the font lacks renders as nothing or a box
        return kind_written(rng)
    return ink


def kind_scribble(rng: np.random.Generator) -> np.ndarray:
    """A smooth random pen path that turns a lot (a scribble, a crossed-out word)."""
    # Enough sharp turns that it is no digit: a path of 3-4 gentle strokes can be a 2, 4, 5 or 7.
    count = int(rng.integers(9, 18))
    step = rng.uniform(0.25, 0.45)
    points = [rng.uniform(0.3, 0.7, 2)]
    heading = rng.uniform(0, 2 * math.pi)
    for _ in range(count):
        heading += rng.choice([-1, 1]) * rng.uniform(1.0, 2.6)
        nxt = points[-1] + step * np.array([math.cos(heading), math.sin(heading)])
        points.append(np.clip(nxt, 0.0, 1.0))
    curve = _smooth(np.array(points)) * CANVAS * 0.8 + CANVAS * 0.1
    return _draw([curve], _stroke_width(rng))


def kind_spiral(rng: np.random.Generator) -> np.ndarray:
    """A spiral of loose turns, or a chain of loops along a line (never one closed loop: a 0).

    Tight spirals drawn with a thick pen merge into a ring, i.e. a 0, so spirals are thin and loose."""
    if rng.random() < 0.3:
        turns = rng.uniform(2.5, 3.5)
        t = np.linspace(0, 2 * math.pi * turns, int(40 * turns))
        r = np.linspace(0.04, 0.45, len(t))
        sign = rng.choice([-1, 1])
        pts = np.stack([0.5 + r * np.cos(sign * t), 0.5 + r * np.sin(sign * t) * rng.uniform(0.8, 1.2)], 1)
        return _draw([_affine(pts, rng)], rng.uniform(1.5, 2.5))
    else:  # loops along a horizontal line, like a handwritten "eee" or a telephone cord
        loops = int(rng.integers(3, 6))
        t = np.linspace(0, 2 * math.pi * loops, 30 * loops)
        r = rng.uniform(0.12, 0.2)
        pts = np.stack([0.05 + 0.9 * t / t[-1] + r * np.cos(t + math.pi), 0.5 + r * 1.3 * np.sin(t)], 1)
    return _draw([_affine(pts, rng)], _stroke_width(rng))


def _polygon(cx: float, cy: float, r: float, sides: int, rot: float) -> np.ndarray:
    a = rot + np.arange(sides + 1) * 2 * math.pi / sides
    return np.stack([cx + r * np.cos(a), cy + r * np.sin(a)], 1)


def kind_shape(rng: np.random.Generator) -> np.ndarray:
    """Doodled shapes: crossed box, triangle, star, grid, zigzag, wave, arrow, house, hatching, smiley."""
    shape = int(rng.integers(11))
    jitter = rng.uniform(0.0, 0.03)
    lines: list[np.ndarray]
    if shape == 0:  # a box with one or both diagonals
        box = np.array([(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9), (0.1, 0.1)])
        lines = [box, np.array([(0.1, 0.1), (0.9, 0.9)])]
        if rng.random() < 0.6:
            lines.append(np.array([(0.9, 0.1), (0.1, 0.9)]))
    elif shape == 1:  # a triangle, maybe with a line through it
        lines = [_polygon(0.5, 0.55, 0.45, 3, -math.pi / 2)]
        if rng.random() < 0.5:
            lines.append(np.array([(0.0, 0.6), (1.0, 0.6)]))
    elif shape == 2:  # a five- or six-pointed star
        if rng.random() < 0.5:
            k = np.arange(6) * 4 * math.pi / 5
            lines = [np.stack([0.5 + 0.45 * np.sin(k), 0.5 - 0.45 * np.cos(k)], 1)]
        else:
            lines = [_polygon(0.5, 0.5, 0.45, 3, -math.pi / 2), _polygon(0.5, 0.5, 0.45, 3, math.pi / 2)]
    elif shape == 3:  # a grid or tic-tac-toe board
        k = int(rng.integers(3, 5))
        pos = np.linspace(0.05, 0.95, k)
        lines = [np.array([(p, 0.0), (p, 1.0)]) for p in pos[1:-1]] + [
            np.array([(0.0, p), (1.0, p)]) for p in pos[1:-1]
        ]
        if k == 3 or rng.random() < 0.5:
            lines += [np.array([(0.0, p), (1.0, p)]) for p in (0.3, 0.7)]
    elif shape == 4:  # a zigzag (horizontal or vertical)
        k = int(rng.integers(4, 8))
        xs = np.linspace(0, 1, k)
        ys = np.where(np.arange(k) % 2 == 0, 0.2, 0.8)
        pts = np.stack([xs, ys], 1)
        lines = [pts if rng.random() < 0.6 else pts[:, ::-1]]
    elif shape == 5:  # a wave
        t = np.linspace(0, 1, 40)
        lines = [np.stack([t, 0.5 + 0.3 * np.sin(t * 2 * math.pi * rng.uniform(1.5, 3))], 1)]
    elif shape == 6:  # an arrow, any direction
        lines = [np.array([(0.05, 0.5), (0.95, 0.5)]), np.array([(0.65, 0.2), (0.95, 0.5), (0.65, 0.8)])]
        turn = rng.integers(4) * math.pi / 2
        c, s = math.cos(turn), math.sin(turn)
        lines = [
            np.stack(
                [0.5 + c * (ln[:, 0] - 0.5) - s * (ln[:, 1] - 0.5), 0.5 + s * (ln[:, 0] - 0.5) + c * (ln[:, 1] - 0.5)],
                1,
            )
            for ln in lines
        ]
    elif shape == 7:  # a house
        lines = [np.array([(0.1, 0.45), (0.5, 0.05), (0.9, 0.45), (0.9, 0.95), (0.1, 0.95), (0.1, 0.45), (0.9, 0.45)])]
        if rng.random() < 0.5:
            lines.append(np.array([(0.4, 0.95), (0.4, 0.65), (0.6, 0.65), (0.6, 0.95)]))
    elif shape == 8:  # hatching: parallel slanted strokes
        k = int(rng.integers(3, 7))
        lines = [np.array([(x, 0.9), (x + 0.3, 0.1)]) for x in np.linspace(0.0, 0.7, k)]
    elif shape == 9:  # a smiley (a face is a loop with marks inside: not a 0)
        lines = [_polygon(0.5, 0.5, 0.45, 24, 0), np.array([(0.35, 0.35)]), np.array([(0.65, 0.35)])]
        lines.append(np.array(_arc(0.5, 0.55, 0.22, 0.18, 20, 160, 8)))
    else:  # a cross-hatched or crossed-out patch
        lines = [np.array([(0.1, y), (0.9, y + 0.15)]) for y in np.linspace(0.1, 0.7, int(rng.integers(3, 6)))]
        lines.append(np.array([(0.1, 0.9), (0.9, 0.05)]))
    lines = [ln + rng.normal(0, jitter, ln.shape) for ln in lines]
    return _draw(_affine_lines(lines, rng), _stroke_width(rng))


def kind_blob(rng: np.random.Generator) -> np.ndarray:
    """A filled smudge, a thumbprint, a coffee stain: smoothed noise above a threshold."""
    noise = ndi.gaussian_filter(rng.normal(0, 1, (CANVAS, CANVAS)), rng.uniform(3, 9))
    yy, xx = np.mgrid[0:CANVAS, 0:CANVAS] / CANVAS - 0.5
    noise = noise / (noise.std() + 1e-6) - 12 * (xx**2 + yy**2) * rng.uniform(0.5, 2) + 1.0
    ink = np.clip((noise - rng.uniform(-0.5, 0.5)) * 3, 0, 1)
    if ink.max() < 0.5:
        return kind_scribble(rng)
    return ink.astype(np.float32)


def kind_speckle(rng: np.random.Generator) -> np.ndarray:
    """Scattered dots and short dashes: dust, pencil grain, dotted texture."""
    count = int(rng.integers(6, 30))
    lines = []
    for _ in range(count):
        p = rng.uniform(0.1, 0.9, 2) * CANVAS
        d = rng.normal(0, 3, 2) if rng.random() < 0.5 else np.zeros(2)
        lines.append(np.array([p, p + d]) if d.any() else np.array([p]))
    return _draw(lines, rng.uniform(2.0, 5.0))


KINDS: dict[str, tuple[float, Callable[[np.random.Generator], np.ndarray]]] = {
    # name: (share of the images, generator)
    "written": (0.28, kind_written),
    "two-letters": (0.08, kind_two_letters),
    "printed": (0.16, kind_printed),
    "scribble": (0.14, kind_scribble),
    "spiral": (0.07, kind_spiral),
    "shape": (0.17, kind_shape),
    "blob": (0.05, kind_blob),
    "speckle": (0.05, kind_speckle),
}


def outlier_image(kind: str, rng: np.random.Generator) -> np.ndarray:
    """One non-digit of ``kind`` (a key of :data:`KINDS`) as float32 (28, 28) in [0, 1], MNIST-style."""
    ink = KINDS[kind][1](rng)
    if rng.random() < 0.3:  # a softer pen or a blurry photo
        ink = ndi.gaussian_filter(ink, rng.uniform(0.5, 1.2))
        ink = np.clip(ink / max(float(ink.max()), 1e-3), 0, 1)
    return ink_to_mnist(ink.astype(np.float32))


_CACHE: dict[tuple[int, int], torch.Tensor] = {}


def synthetic_outliers(n: int, seed: int = 0) -> torch.Tensor:
    """``n`` synthetic non-digits, uint8 (n, 28, 28), white ink on black, in the MNIST convention.

    Image ``k`` depends only on ``(seed, k)``; the kinds are mixed in the shares of :data:`KINDS`.
    Results are cached in memory per ``(n, seed)``; a fresh tensor is returned each time.
    """
    key = (int(n), int(seed))
    if key not in _CACHE:
        names = list(KINDS)
        shares = np.array([KINDS[name][0] for name in names])
        kinds = np.random.default_rng([seed, 7919]).choice(len(names), size=n, p=shares / shares.sum())
        out = np.zeros((n, 28, 28), np.uint8)
        for k in range(n):
            image = outlier_image(names[kinds[k]], np.random.default_rng([seed, k]))
            out[k] = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
        _CACHE.clear()  # keep one bank: training asks for one (n, seed) per run
        _CACHE[key] = torch.from_numpy(out)
    return _CACHE[key].clone()


def touching_pairs(digits: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` images of two digits side by side, touching or overlapping, uint8 (n, 28, 28) in the
    MNIST convention: what a cut in the wrong place hands the classifier when a number is read.

    ``digits`` are MNIST-style uint8 (N, 28, 28) images (the training split). Each pair is cropped
    to its ink, brought to one height, and placed with a gap of -20% to +3% of that height
    (overlapping to barely apart), as touching handwritten digits are; then fitted to 20×20 by
    :func:`digitocr.preprocess.ink_to_mnist` like every piece ``read`` scores. Image ``k`` depends
    only on ``(seed, k)`` and ``digits``.
    """
    source = digits.numpy() if isinstance(digits, torch.Tensor) else np.asarray(digits)
    out = np.zeros((n, 28, 28), np.uint8)
    height = 40
    for k in range(n):
        rng = np.random.default_rng([seed, k, 31])
        parts = []
        for index in rng.integers(0, len(source), size=2):
            digit = source[index]
            rows = np.nonzero(digit.max(axis=1) > 30)[0]
            cols = np.nonzero(digit.max(axis=0) > 30)[0]
            if rows.size == 0:
                continue
            crop = Image.fromarray(digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
            width = max(2, round(crop.width * height / crop.height))
            parts.append(np.asarray(crop.resize((width, height), Image.Resampling.BILINEAR), np.float32) / 255)
        if len(parts) < 2:
            continue
        gap = round(rng.uniform(-0.2, 0.03) * height)
        left, right = parts
        x = max(left.shape[1] + gap, 1)
        # a right-hand digit thinner than the overlap ends inside the left one
        canvas = np.zeros((height, max(x + right.shape[1], left.shape[1])), np.float32)
        canvas[:, : left.shape[1]] = left
        end = x + right.shape[1]
        canvas[:, x:end] = np.maximum(canvas[:, x:end], right)
        out[k] = np.round(np.clip(ink_to_mnist(canvas), 0, 1) * 255).astype(np.uint8)
    return torch.from_numpy(out)
