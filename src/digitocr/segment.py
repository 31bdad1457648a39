"""A picture of a number written on one line → one crop per digit, left to right.

Owns: finding the digits of a number. The ink comes from :func:`digitocr.preprocess.extract_ink`;
ruled lines, underlines and cell borders are removed; connected components are the starting point;
pieces of one digit (a broken 5, a 7 whose bar lifted off) are merged; specks and separators
(``. , - = /``) are dropped; groups too wide for one digit are cut into several, choosing the cut
points by the vertical ink projection, or — when a ``score`` function is passed — by how much a
classifier believes each piece is a digit (the segmentation-by-recognition of Casey & Lecolinet,
"A survey of methods and strategies in character segmentation", 1996). Does not classify itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from digitocr.preprocess import (
    SPECK_FRACTION,
    InkMap,
    _drop_frame_fragments,
    _drop_specks,
    _line_policy,
    erase_lines,
    extract_ink,
    find_lines,
    ink_to_mnist,
    open_image,
)

Score = Callable[[list[np.ndarray]], list[float]]

# A group wider than this many digit heights is certainly more than one digit (MNIST widths are at
# most 1.25 heights for 99% of digits); narrower groups are only split when a classifier says so.
MAX_DIGIT_ASPECT = 1.1
# With a classifier, groups at least this wide (in digit heights) are tried for a split.
MIN_SPLIT_ASPECT = 0.7
# Narrowest piece a cut may leave, in digit heights (a 1 is about 0.2 of its height wide).
MIN_PIECE_ASPECT = 0.18
# Each extra cut costs this much log-probability, so a digit is not cut into two plausible halves.
CUT_PENALTY = 0.7
MAX_CUT_CANDIDATES = 8


@dataclass(frozen=True)
class DigitCrop:
    """One digit found in a picture.

    ``image``: its ink, float32 (h, w) in [0, 1], white on black, nothing else on it.
    ``image28``: the same in the MNIST convention, float32 (28, 28), ready for a model.
    ``box``: (x0, y0, x1, y1) in the original picture's pixels (x1, y1 exclusive).
    """

    image: np.ndarray
    image28: np.ndarray
    box: tuple[int, int, int, int]


@dataclass
class _Group:
    mask: np.ndarray  # bool, full working-image size
    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def width(self) -> int:
        return self.x1 - self.x0


def _group(mask: np.ndarray) -> _Group | None:
    rows = np.nonzero(mask.any(axis=1))[0]
    cols = np.nonzero(mask.any(axis=0))[0]
    if rows.size == 0:
        return None
    return _Group(mask, int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)


def _remove_number_lines(mask: np.ndarray) -> np.ndarray:
    """Underlines, ruled lines, box edges and cell borders of a line of digits.

    A horizontal run longer than 1.5 image heights (or 60% of a narrow image) cannot be a stroke of
    a digit. A vertical run is a cell border when it is clearly taller than the digits, or spans
    the box between two horizontal lines.
    """
    height, width = mask.shape
    if width < 2 * height:
        return _line_policy(mask)  # about square: one digit in a cell, or two
    hlines = find_lines(mask, True, max(3, int(min(0.6 * width, 1.5 * height))), max(1.5, 0.1 * height))
    cleaned = erase_lines(mask, hlines)
    vlines = find_lines(cleaned, False, max(3, int(0.5 * height)), max(1.5, 0.1 * height))
    if not vlines:
        return cleaned
    labels, _ = ndi.label(cleaned, structure=np.ones((3, 3)))
    objects = ndi.find_objects(labels)
    heights = [sl[0].stop - sl[0].start for sl in objects]
    tall = [h for h in heights if h >= 0.5 * max(heights)] if heights else []
    typical = float(np.median(tall)) if tall else 0.0
    positions = sorted(line.position for line in hlines)
    box_span = positions[-1] - positions[0] if len(positions) >= 2 else 0.0

    def standalone(line) -> bool:
        # A border is a piece of its own once the horizontal box lines are gone; the side of a 0 or
        # the stem of a 4 belongs to a piece much wider than the line.
        index = int(np.bincount(labels[line.pixels]).argmax())
        sl = objects[index - 1]
        return (sl[1].stop - sl[1].start) <= 3 * line.thickness + 2

    borders = [
        line
        for line in vlines
        if standalone(line)
        and (
            (typical and (line.stop - line.start) >= 1.25 * typical)
            or (box_span and (line.stop - line.start) >= 0.85 * box_span)
        )
    ]
    return erase_lines(cleaned, borders)


def _components(mask: np.ndarray) -> list[_Group]:
    labels, _count = ndi.label(mask, structure=np.ones((3, 3)))
    groups = []
    for index, sl in enumerate(ndi.find_objects(labels), start=1):
        piece = np.zeros_like(mask)
        piece[sl] = labels[sl] == index
        groups.append(_Group(piece, sl[0].start, sl[0].stop, sl[1].start, sl[1].stop))
    return groups


def _merge(a: _Group, b: _Group) -> _Group:
    return _Group(a.mask | b.mask, min(a.y0, b.y0), max(a.y1, b.y1), min(a.x0, b.x0), max(a.x1, b.x1))


def _belongs_together(a: _Group, b: _Group, digit_height: float) -> bool:
    """Pieces of one digit: stacked (they share columns but hardly any rows), or one inside the other."""
    x_overlap = min(a.x1, b.x1) - max(a.x0, b.x0)
    y_overlap = min(a.y1, b.y1) - max(a.y0, b.y0)
    narrow = min(a.width, b.width)
    if x_overlap >= 0.5 * narrow and y_overlap <= 0.3 * min(a.height, b.height):
        merged_height = max(a.y1, b.y1) - min(a.y0, b.y0)
        return merged_height <= 1.6 * digit_height  # the height itself may come from broken pieces
    inside = (a.x0 <= b.x0 and b.x1 <= a.x1 and a.y0 <= b.y0 and b.y1 <= a.y1) or (
        b.x0 <= a.x0 and a.x1 <= b.x1 and b.y0 <= a.y0 and a.y1 <= b.y1
    )
    return inside


def _digit_height(groups: list[_Group]) -> float:
    heights = np.array([g.height for g in groups], dtype=float)
    tall = heights[heights >= 0.5 * heights.max()]
    return float(np.median(tall))


def _is_separator(group: _Group, digit_height: float, baseline: float) -> bool:
    """A dot, comma, dash, equals sign or slash rather than a digit."""
    h, w = group.height, group.width
    if max(h, w) < 0.3 * digit_height:
        return True  # a dot, a comma, a speck
    if h < 0.35 * digit_height and w >= 1.3 * h:
        return True  # a dash or an equals sign (its two bars merged as a stacked pair)
    if h < 0.45 * digit_height and group.y0 > baseline - 0.5 * digit_height and w < 0.5 * digit_height:
        return True  # a comma hanging from the baseline
    if h >= 0.6 * digit_height:
        # A slash: one thin straight stroke leaning more than 40° from vertical. Slanted 1s lean
        # up to about 30° (MNIST test digit 2 leans 30°), so a steeper slash is read as a 1.
        ys, xs = np.nonzero(group.mask[group.y0 : group.y1, group.x0 : group.x1])
        if ys.size < 5:
            return False
        cov = np.cov(np.stack([xs, ys]).astype(float))
        evals, evecs = np.linalg.eigh(cov)
        straight = evals[0] < 0.04 * evals[1]
        angle = math.degrees(math.atan2(abs(evecs[0, 1]), abs(evecs[1, 1])))  # of the main axis from vertical
        return bool(straight and angle > 40 and evecs[0, 1] * evecs[1, 1] < 0)
    return False


def _cut_candidates(mask: np.ndarray, group: _Group, digit_height: float) -> list[int]:
    """Columns where a vertical cut crosses little ink: smoothed projection minima, best first."""
    columns = mask[group.y0 : group.y1, group.x0 : group.x1].sum(axis=0).astype(float)
    smooth = ndi.uniform_filter1d(columns, size=3, mode="nearest")
    margin = max(1, int(MIN_PIECE_ASPECT * digit_height))
    inner = np.arange(margin, group.width - margin)
    if inner.size == 0:
        return []
    minima = [
        int(c) for c in inner if smooth[c] <= smooth[max(c - 1, 0)] and smooth[c] <= smooth[min(c + 1, group.width - 1)]
    ]
    minima.sort(key=lambda c: smooth[c])
    chosen: list[int] = []
    spacing = max(2, int(0.15 * digit_height))
    for c in minima:
        if all(abs(c - other) >= spacing for other in chosen):
            chosen.append(c)
        if len(chosen) >= MAX_CUT_CANDIDATES:
            break
    return sorted(group.x0 + c for c in chosen)


def _piece(group: _Group, start: int, stop: int) -> _Group | None:
    mask = np.zeros_like(group.mask)
    mask[:, start:stop] = group.mask[:, start:stop]
    # A straight cut through a slanted neighbour leaves slivers of it behind; drop them.
    labels, count = ndi.label(mask, structure=np.ones((3, 3)))
    if count > 1:
        areas = ndi.sum(mask, labels, index=np.arange(1, count + 1))
        keep = np.concatenate([[False], areas >= 0.1 * areas.max()])
        mask = keep[labels]
    return _group(mask)


def _width_prior(width: float, digit_height: float) -> float:
    """Log-prior of a piece's width: a piece wider than a digit is unlikely to be one digit."""
    aspect = width / digit_height
    return -4.0 * max(0.0, aspect - MAX_DIGIT_ASPECT)


def _split(ink: InkMap, mask: np.ndarray, group: _Group, digit_height: float, score: Score | None) -> list[_Group]:
    """Cut a group into the digits it holds (itself when it is one digit)."""
    aspect = group.width / digit_height
    if aspect < (MIN_SPLIT_ASPECT if score else MAX_DIGIT_ASPECT):
        return [group]
    cuts = _cut_candidates(mask & group.mask, group, digit_height)
    if not cuts:
        return [group]
    points = [group.x0, *cuts, group.x1]
    min_width = MIN_PIECE_ASPECT * digit_height
    max_width = 1.6 * digit_height
    spans = [
        (i, j)
        for i in range(len(points))
        for j in range(i + 1, len(points))
        if min_width <= points[j] - points[i] <= max_width or (i == 0 and j == len(points) - 1)
    ]
    pieces = {span: _piece(group, points[span[0]], points[span[1]]) for span in spans}
    spans = [span for span in spans if pieces[span] is not None]
    if score is not None:
        images = [ink_to_mnist(_soft(ink, pieces[span])) for span in spans]
        confidences = score(images)
        value = {
            span: math.log(max(float(c), 1e-6)) + _width_prior(pieces[span].width, digit_height)
            for span, c in zip(spans, confidences, strict=True)
        }
    else:
        # Without a classifier: prefer pieces of typical digit width (0.7 heights) and cuts
        # through little ink.
        value = {
            span: -abs(pieces[span].width / digit_height - 0.7) + _width_prior(pieces[span].width, digit_height)
            for span in spans
        }
    # Best path from the first point to the last through the cut points (dynamic programming).
    best: dict[int, tuple[float, list[tuple[int, int]]]] = {0: (0.0, [])}
    for j in range(1, len(points)):
        options = [
            (best[i][0] + value[(i, j)] - (CUT_PENALTY if i > 0 else 0.0), [*best[i][1], (i, j)])
            for i in range(j)
            if i in best and (i, j) in value
        ]
        if options:
            best[j] = max(options, key=lambda option: option[0])
    last = len(points) - 1
    if last not in best:
        return [group]
    return [pieces[span] for span in best[last][1]]


def _soft(ink: InkMap, group: _Group) -> np.ndarray:
    """The anti-aliased ink of one group (with a one-pixel rim for soft edges), cropped to it."""
    y0, y1 = max(0, group.y0 - 1), group.y1 + 1
    x0, x1 = max(0, group.x0 - 1), group.x1 + 1
    rim = ndi.binary_dilation(group.mask[y0:y1, x0:x1], structure=np.ones((3, 3), dtype=bool))
    return np.where(rim, ink.ink[y0:y1, x0:x1], 0.0).astype(np.float32)


def split_digits(image: Any, score: Score | None = None) -> list[DigitCrop]:
    """Find the digits of a number written on one line, left to right.

    ``image``: anything :func:`digitocr.preprocess.open_image` reads. ``score``: optional function
    from a list of 28×28 MNIST-style images to a confidence in [0, 1] for each (e.g. the top
    calibrated probability of a classifier); with it, touching digits are cut where the pieces are
    most believable as digits. Returns an empty list for a blank image.
    """
    loaded = open_image(image)
    ink = extract_ink(loaded.grey)
    if ink.blank:
        return []
    height, width = ink.mask.shape
    mask = _remove_number_lines(ink.mask)
    mask = _drop_frame_fragments(mask)
    mask = _drop_specks(mask, max(2.0, SPECK_FRACTION * min(height, width)))
    groups = _components(mask)
    if not groups:
        return []
    digit_height = _digit_height(groups)
    # Specks relative to the writing (the frame-relative rule above cannot know the digit size).
    groups = [g for g in groups if max(g.height, g.width) >= 0.12 * digit_height]
    groups.sort(key=lambda g: g.x0)
    merged = True
    while merged:  # merge pairs until nothing changes (pieces can chain: a 5 broken in three)
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if _belongs_together(groups[i], groups[j], digit_height):
                    groups[i] = _merge(groups[i], groups[j])
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    digit_height = _digit_height(groups)
    tall = [g for g in groups if g.height >= 0.5 * digit_height]
    baseline = float(np.median([g.y1 for g in tall])) if tall else float(height)
    groups = [g for g in groups if not _is_separator(g, digit_height, baseline)]
    digits: list[_Group] = []
    for group in groups:
        digits.extend(_split(ink, mask, group, digit_height, score))
    digits.sort(key=lambda g: (g.x0 + g.x1) / 2)
    crops = []
    s = loaded.scale
    for group in digits:
        soft = _soft(ink, group)
        box = (
            int(group.x0 * s),
            int(group.y0 * s),
            min(loaded.original_size[0], math.ceil(group.x1 * s)),
            min(loaded.original_size[1], math.ceil(group.y1 * s)),
        )
        crops.append(DigitCrop(soft, ink_to_mnist(soft), box))
    return crops
