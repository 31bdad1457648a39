"""Recognizing digits in images, and knowing when not to answer.

Owns: :class:`Recognizer` (a checkpoint loaded once; :meth:`~Recognizer.predict` for images of one
digit, :meth:`~Recognizer.read` for a number), calibrated probabilities (temperature scaling,
Guo et al., "On calibration of modern neural networks", 2017: :func:`fit_temperature`), and
refusal: a blank image, too much or too scattered ink, an out-of-distribution image (Mahalanobis
distance of the model's penultimate features to the class means, Lee et al., "A simple unified
framework for detecting out-of-distribution samples", 2018), or low calibrated confidence gives
``digit=None`` with the reason. :func:`calibrate` fits both on the validation split so training can
store them in the checkpoint's ``extra``. Knows no HTTP and no argv.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torch import nn

from digitocr.data import MNIST_MEAN, MNIST_STD
from digitocr.errors import CheckpointError
from digitocr.models import Ensemble, last_layer
from digitocr.preprocess import (
    MAX_PIECES,
    LoadedImage,
    Preprocessed,
    _frame_margin,
    box_area,
    box_intersection,
    load_image,
    open_image,
    preprocess,
)
from digitocr.segment import DigitCrop, find_digits

# Calibrated top probability below which the recognizer refuses to name a digit; ``None`` means
# "chosen for the checkpoint": a model trained with outlier exposure (config ``outlier_batch`` > 0)
# gives non-digits a flat prediction, so a low threshold refuses them while keeping real digits.
# Tuned with the "handwriting" model on benchmarks/realistic.py seeds 1-4 (figures are reported on
# seed 0): the highest threshold that refuses no more real digits than the previous release did at
# 0.4. 0.4 / 0.45 / 0.5 / 0.6 refuse 9 / 10 / 12 / 26 of 1,600 real single digits and 1,448 / 1,462 /
# 1,477 / 1,500 of 1,600 non-digits (the previous release at 0.4: 13 and 1,447).
# A model that never saw a non-digit keeps 0.6, where its overconfidence on scribbles is cut.
DEFAULT_REJECT_THRESHOLD: float | None = None
REJECT_THRESHOLD_EXPOSED = 0.45
REJECT_THRESHOLD_PLAIN = 0.6
# MNIST digits cover 3-28% of the 28×28 image with ink (>0.5), 0.1th-99.9th percentile; a scribble
# or a filled shape covers more.
MAX_INK_FRACTION = 0.36
# Share of MNIST validation digits whose Mahalanobis score may exceed the refusal threshold.
OOD_QUANTILE = 0.995
# In `predict`, an image is refused as out of distribution when its score passes this many times the
# threshold (the 99.5% quantile of MNIST validation digits): photographed digits are less typical
# than MNIST's, and at 1× the score refused 2% of real digits that confidence accepts. A model trained
# with outlier exposure maps non-digits near its flat prediction, whose score is low (0.2-0.9× on
# shapes, noise and scribbles drawn by hand; at most 1.4× on the non-digits of the tuning seeds of
# benchmarks/realistic.py), while real digits reached 1.66×: at 1.5× it refused 3 real digits of
# 3,300 and no non-digit, at 2× neither. It stays for what no generator makes.
PREDICT_OOD_FACTOR = 2.0
# In `read`, a piece is dropped as "not a digit" only when its OOD score is this many times the
# threshold and the model is unsure of it (confidence under READ_OOD_CONFIDENCE): cut pieces of real
# digits are less typical than whole digits, and dropping a digit costs the whole string. On the
# tuning seeds 1-2 of benchmarks/realistic.py, 17 of the 18 pieces the score alone dropped were
# digits, most read with confidence 0.8-1.0 (a 1 with a base or a flag, a 2 on a grid line): with
# this rule 8 strings of 3,000 are read right that were wrong, none lost.
READ_OOD_FACTOR = 1.5
READ_OOD_CONFIDENCE = 0.5
# A piece at either end of a number read with less confidence than this is left out: a currency sign,
# an asterisk or a plus before an amount (€ £ * + were read as digits, at 0.1-0.2 confidence).
# Tuning seeds of benchmarks/realistic.py: +2 and -1 of 800 numbers at 0.3 and at 0.4.
READ_END_CONFIDENCE = 0.3
# ... and so is one whose two likeliest digits together hold less than this: a real digit the model
# is unsure of is torn between two readings (a 4 or a 9), a mark beside an amount ($ * #) between
# many. Tuning seeds 1-2 (600 pictures each): cheque amounts 370 -> 426 read exactly; numbers -3,
# grid rows -2, optdigits numbers -1, where a digit read right but torn three ways was left out.
READ_END_TOP_TWO = 0.75
# ... unless its two likeliest digits hold READ_END_TORN or more and it stands at least READ_END_TALL
# of the line's median piece height tall and READ_END_WIDE of it wide: a mark written beside an
# amount is torn between many readings (median confidence 0.1, near a flat guess), a digit of odd
# shape at an end between two; a thin piece (a slash, a comb's border) or a short one (a star, an
# equals sign) is a mark however it is read. Of the 623 end pieces left out on ten read sets of
# tuning seeds 1-2, 30 were digits (the string right with them) and 448 marks; this keeps 19 of the
# digits and 3 of the marks (a dollar sign read as a 5, its two likeliest 0.61, and two percent
# signs the rule for them missed). Most dollar signs as tall as the digits hold 0.42-0.52 (at 0.5:
# 22 digits and 5 marks, too near them). See benchmarks/README.md, the fifty-first pass.
READ_END_TORN = 0.55
READ_END_TALL = 0.6
READ_END_WIDE = 0.4
# Two brackets of a pair are written alike: their heights differ by at most this share. A stroke
# under BRACKET_MIN_HEIGHT pixels tall in the picture is too small for its bow to tell (a 1 of UCI
# optdigits, 8 px tall, bowed like a bracket).
BRACKET_ALIKE = 0.2
BRACKET_MIN_HEIGHT = 12
# A closing bracket written with a wobble (a brace's kink) reads as a 7 or a 2, unsure: after an
# opening bracket, a piece bowing the other way and as tall is the closing one when it reads as a 1
# or its reading's confidence is under this (0.6 until the fifty-second pass, which found a closing
# bracket read as a 7 at 0.66: tuning seeds +1 / -0 at 0.7 and at 0.8, every read set).
BRACKET_UNSURE = 0.7
# `read` on a form's cell cut from its grid (see Recognizer._cell): a picture narrower than
# CELL_ASPECT times its height may be one; a piece read beside the cell's digit is what shows of a
# neighbour when it comes within CELL_EDGE of the picture's short side to a side of the frame (a
# neighbour's stroke cut by the frame may end a pixel or two inside it) or is under CELL_FRAGMENT of
# the digit's height. A read digit is the one `predict` found when CELL_OVERLAP of the smaller box
# lies in both.
# Tuning seeds 1 / 2 of benchmarks/realistic.py, `read` on the pictures of single digits: grid cells
# 259 -> 288 / 264 -> 296 of 300, turned cells 212 -> 282 / 220 -> 273, single digits
# 1,435 -> 1,449 / 1,446 -> 1,460 of 1,500; the 17 read sets +5 / -0 and +6 / -0 (benchmarks/README.md,
# the fifty-fourth pass).
CELL_ASPECT = 1.5
CELL_FRAGMENT = 0.6
CELL_OVERLAP = 0.5
CELL_EDGE = 0.03


@dataclass(frozen=True)
class Prediction:
    """The answer for one image of one digit.

    ``digit`` is ``None`` when the recognizer refuses, with ``reason`` saying why. ``confidence``
    is the calibrated probability of the most likely digit (reported even when refused);
    ``probabilities`` the 10 calibrated probabilities; ``image28`` what the model saw;
    ``ood_score`` the out-of-distribution score (``None`` when the checkpoint has no OOD statistics).
    """

    digit: int | None
    confidence: float
    probabilities: list[float]
    reason: str | None
    image28: np.ndarray = field(repr=False)
    ood_score: float | None = None
    box: tuple[int, int, int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "digit": self.digit,
            "confidence": round(self.confidence, 6),
            "probabilities": [round(p, 6) for p in self.probabilities],
            "reason": self.reason,
        }


@dataclass(frozen=True)
class DigitReading:
    """One digit of a number: its value, calibrated confidence, box (x0, y0, x1, y1) in the picture,
    and the line of writing it is on (0 for the first, top one)."""

    digit: int
    confidence: float
    box: tuple[int, int, int, int]
    line: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"digit": self.digit, "confidence": round(self.confidence, 6), "box": list(self.box), "line": self.line}


@dataclass(frozen=True)
class Reading:
    """A number read from a picture: ``text`` ("" when no digit), its digits left to right, and the
    pieces of ink that were found but are not digits (``rejected``: box and reason).

    A picture of several lines of writing one above another is read line by line, top to bottom:
    ``lines`` holds each line's digits and ``text`` joins them with newlines ("120\n4537")."""

    text: str
    digits: list[DigitReading]
    rejected: list[tuple[tuple[int, int, int, int], str]] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n") if self.text else []

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "lines": self.lines, "digits": [d.to_dict() for d in self.digits]}


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, max_iter: int = 100) -> float:
    """The temperature T minimizing the NLL of ``softmax(logits / T)`` (Guo et al., 2017).

    ``logits`` (N, 10) and ``labels`` (N,) should come from the validation split, not the test set.
    Optimized over log T with L-BFGS, so T stays positive.
    """
    logits = logits.detach().double()
    labels = labels.detach().long()
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp().clamp(0.05, 20.0))


@torch.inference_mode()
def _forward(model: nn.Module, x: torch.Tensor, batch_size: int = 512) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Logits (N, 10) and penultimate features (N, D) (the input of the last Linear layer; for an
    ensemble, every member's, side by side: its out-of-distribution score looks at all of them)."""
    parts = model.members if isinstance(model, Ensemble) else [model]
    heads = [last_layer(part, nn.Linear) for part in parts]
    if any(head is None for head in heads):
        heads = []
    captured: list[list[torch.Tensor]] = [[] for _ in heads]
    handles = [
        head.register_forward_hook(lambda m, inputs, out, store=store: store.append(inputs[0].flatten(1)))
        for head, store in zip(heads, captured, strict=True)
    ]
    try:
        logits = torch.cat([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
    finally:
        for handle in handles:
            handle.remove()
    if not heads:
        return logits.float(), None
    return logits.float(), torch.cat([torch.cat(store) for store in captured], dim=1).float()


def _mahalanobis(features: torch.Tensor, means: torch.Tensor, precision: torch.Tensor) -> torch.Tensor:
    """Smallest squared Mahalanobis distance to a class mean, divided by the feature dimension."""
    diff = features[:, None, :] - means[None, :, :]  # (N, 10, D)
    dist = torch.einsum("ncd,de,nce->nc", diff, precision, diff)
    return dist.min(dim=1).values / features.shape[1]


def calibrate(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    mean: float = MNIST_MEAN,
    std: float = MNIST_STD,
) -> dict[str, Any]:
    """Temperature and OOD statistics of ``model`` from held-out MNIST (the validation split).

    ``images`` uint8 (N, 28, 28) or float in [0, 1]; returns a dict to store as
    ``checkpoint["extra"]["calibration"]`` (plain types and tensors, loads with ``weights_only``):
    ``temperature``, ``ood_means`` (10, D), ``ood_precision`` (D, D), ``ood_threshold``.
    """
    x = images.float()
    if images.dtype == torch.uint8:
        x = x / 255.0
    x = ((x - mean) / std).unsqueeze(1)  # (N, 1, 28, 28)
    model = model.eval()
    logits, features = _forward(model, x)
    result: dict[str, Any] = {"temperature": fit_temperature(logits, labels)}
    if features is not None:
        labels = labels.long()
        means = torch.stack([features[labels == c].mean(0) for c in range(logits.shape[1])])
        centred = features - means[labels]
        cov = centred.T @ centred / len(features)
        # Shrink towards the diagonal: D can be close to N per class, and ReLU features have dead units.
        shrink = 0.1
        cov = (1 - shrink) * cov + shrink * torch.diag(cov.diagonal()).clamp_min(1e-6) + 1e-6 * torch.eye(len(cov))
        precision = torch.linalg.inv(cov.double()).float()
        scores = _mahalanobis(features, means, precision)
        result.update(
            ood_means=means.contiguous(),
            ood_precision=precision.contiguous(),
            ood_threshold=float(torch.quantile(scores, OOD_QUANTILE)),
        )
    return result


class Recognizer:
    """A model loaded once, with its calibration, for single digits (:meth:`predict`) and numbers (:meth:`read`).

    ``checkpoint``: a path or a loaded checkpoint dict; ``None`` for the pretrained model.
    ``reject_threshold``: calibrated confidence below which no digit is given (0 never refuses for
    confidence; ``None``: the checkpoint's ``extra["reject_threshold"]`` when its release chose one,
    else 0.45 for a model (or an ensemble whose every member was) trained with outlier exposure, and
    0.6 otherwise). ``calibration``: overrides the checkpoint's ``extra["calibration"]`` (see
    :func:`calibrate`); without either, T = 1 and no OOD score, so only confidence and shape refuse.
    """

    def __init__(
        self,
        checkpoint: str | os.PathLike | dict[str, Any] | None = None,
        device: str | torch.device = "cpu",
        reject_threshold: float | None = DEFAULT_REJECT_THRESHOLD,
        calibration: dict[str, Any] | None = None,
    ) -> None:
        from digitocr.checkpoint import load_checkpoint, model_from_checkpoint, pretrained_path

        if checkpoint is None:
            checkpoint = pretrained_path()
        ckpt = checkpoint if isinstance(checkpoint, dict) else load_checkpoint(checkpoint)
        self.device = torch.device(device)
        self.model = model_from_checkpoint(ckpt).to(self.device).eval()
        norm = ckpt.get("normalization") or {}
        self.mean = float(norm.get("mean", MNIST_MEAN))
        self.std = float(norm.get("std", MNIST_STD))
        extra = ckpt.get("extra") or {}
        cal = dict(calibration if calibration is not None else extra.get("calibration") or {})
        if "temperature" in extra and "temperature" not in cal:
            cal["temperature"] = extra["temperature"]
        if reject_threshold is None:  # chosen for this checkpoint when it was released, else by how it was trained
            reject_threshold = extra.get("reject_threshold")
        if reject_threshold is None:
            configs = extra.get("member_configs") or [ckpt.get("config") or {}]  # an ensemble: every member
            exposed = all(int(c.get("outlier_batch") or 0) > 0 for c in configs)
            reject_threshold = REJECT_THRESHOLD_EXPOSED if exposed else REJECT_THRESHOLD_PLAIN
        self.reject_threshold = float(reject_threshold)
        self.set_calibration(cal)

    def set_calibration(self, calibration: dict[str, Any]) -> None:
        """Use these calibration values (from :func:`calibrate`) from now on."""
        self.temperature = float(calibration.get("temperature", 1.0))
        self.ood_threshold = calibration.get("ood_threshold")
        self._ood_means = calibration.get("ood_means")
        self._ood_precision = calibration.get("ood_precision")
        if self._ood_means is not None:
            self._ood_means = torch.as_tensor(self._ood_means, dtype=torch.float32, device=self.device)
            self._ood_precision = torch.as_tensor(self._ood_precision, dtype=torch.float32, device=self.device)

    def calibrate(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
        """Fit temperature and OOD statistics on held-out MNIST (validation split), use and return them."""
        result = calibrate(self.model, images.to(self.device), labels.to(self.device), self.mean, self.std)
        self.set_calibration(result)
        return result

    # -- the model on 28×28 images ---------------------------------------------------------------

    def classify(self, images28: np.ndarray | Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
        """Calibrated probabilities (N, 10) and OOD scores (N,) (or ``None``) for 28×28 images in [0, 1]."""
        batch = np.asarray(images28, dtype=np.float32).reshape(-1, 28, 28)
        if len(batch) == 0:
            return np.zeros((0, 10), np.float32), None
        x = torch.from_numpy(batch).to(self.device)
        x = ((x - self.mean) / self.std).unsqueeze(1)  # (N, 1, 28, 28)
        logits, features = _forward(self.model, x)
        probs = torch.softmax(logits / self.temperature, dim=1).cpu().numpy()
        scores = None
        if self._ood_means is not None and features is not None:
            if features.shape[1] != self._ood_means.shape[1]:
                raise CheckpointError(
                    f"The checkpoint's out-of-distribution statistics are for {self._ood_means.shape[1]} features "
                    f"but its model gives {features.shape[1]} (an ensemble calibrated before digitocr looked at "
                    "every member's features). Calibrate it again: python scripts/train_release.py "
                    "--from-checkpoint MEMBER.pt ... --out ENSEMBLE.pt"
                )
            scores = _mahalanobis(features, self._ood_means, self._ood_precision).cpu().numpy()
        return probs, scores

    def _confidences(self, images28: list[np.ndarray]) -> np.ndarray:
        """The ``score`` function for segmentation (``segment.Score``), one row per image: the top
        calibrated probability, lowered for OOD pieces, and the two likeliest digits' probabilities
        together (what `read` judges a piece at an end of a line by)."""
        probs, scores = self.classify(images28)
        conf = probs.max(axis=1)
        if scores is not None and self.ood_threshold:
            # A piece far from every digit class is not a believable digit however peaked its softmax.
            excess = np.clip(scores / self.ood_threshold - 1.0, 0.0, None)
            conf = conf * np.exp(-excess)
        return np.stack([conf, np.sort(probs, axis=1)[:, -2:].sum(axis=1)], axis=1).astype(float)

    def _decide(self, pre: Preprocessed, probs: np.ndarray, score: float | None) -> Prediction:
        probabilities = [float(p) for p in probs]
        top = int(np.argmax(probs))
        confidence = probabilities[top]
        reason = None
        if pre.ink_fraction > MAX_INK_FRACTION:
            reason = f"not a digit: too much ink ({pre.ink_fraction:.0%} of the image; digits use at most ~30%)"
        elif pre.pieces > MAX_PIECES:
            reason = f"not a digit: {pre.pieces} separate strokes (a digit has at most {MAX_PIECES})"
        elif score is not None and self.ood_threshold and score > PREDICT_OOD_FACTOR * self.ood_threshold:
            reason = (
                f"not a digit: unlike any digit the model knows (out-of-distribution score "
                f"{score:.2f} > {PREDICT_OOD_FACTOR * self.ood_threshold:.2f})"
            )
        elif confidence < self.reject_threshold:
            reason = f"not sure: confidence {confidence:.2f} is below the threshold {self.reject_threshold:.2f}"
        return Prediction(None if reason else top, confidence, probabilities, reason, pre.image, score, pre.box)

    # -- images ----------------------------------------------------------------------------------

    def predict(self, images: Any) -> list[Prediction]:
        """One :class:`Prediction` per image of one digit (a path, bytes, PIL image or array, or a list).

        A picture whose polarity is unsure (:func:`~digitocr.preprocess.polarity`) is read both ways
        round and the more believable answer kept (a digit before a refusal, then confidence).
        Raises :class:`~digitocr.errors.ImageError` for an image that cannot be read.
        """
        items = list(images) if isinstance(images, list | tuple) else [images]
        return self._predict([open_image(image) for image in items])

    def _predict(self, loaded: list[LoadedImage]) -> list[Prediction]:
        """:meth:`predict` of images already opened."""
        # Each image read as its picture says, and the other way round too where the picture does
        # not settle the polarity (a heavy digit cut tightly, a page filling most of a dark desk).
        options = []
        for image in loaded:
            pre = preprocess(image)
            options.append([pre] if pre.polarity_sure else [pre, preprocess(image, not pre.dark_on_light)])
        todo = [(i, j) for i, pres in enumerate(options) for j, pre in enumerate(pres) if not pre.blank]
        probs, scores = self.classify([options[i][j].image for i, j in todo])
        found: list[list[Prediction]] = [[] for _ in options]
        for k, (i, j) in enumerate(todo):
            found[i].append(self._decide(options[i][j], probs[k], None if scores is None else float(scores[k])))
        blank = "blank image: no writing found"
        return [
            max(predictions, key=_believability)
            if predictions
            else Prediction(None, 0.0, [0.1] * 10, blank, pres[0].image, None, None)
            for pres, predictions in zip(options, found, strict=True)
        ]

    def read(self, image: Any) -> Reading:
        """Read the number written on one line of ``image``: the digits left to right, with boxes.
        Several lines one above another are read one by one, top to bottom (see :class:`Reading`).

        Touching digits are cut where the model finds the pieces most believable. Pieces of ink that
        are clearly not digits (far out of distribution and unsure, unsure at either end of the
        number, such as a currency sign: see :data:`READ_END_TOP_TWO`, or a pair of brackets round
        the number or its first part: see :func:`_brackets`) are left out of ``text`` and
        listed in ``rejected``; every other piece gives its most likely digit, however unsure (see its
        confidence). A picture whose polarity is unsure is read both ways round, as in :meth:`predict`.
        A form's cell cut from its grid, showing pieces of its neighbours at its edges, reads as
        :meth:`predict` reads it (see :meth:`_cell`).
        """
        loaded = open_image(image)
        crops, ink = find_digits(loaded, score=self._confidences)
        reading = self._reading(crops)
        if not ink.polarity_sure:
            crops, _ = find_digits(loaded, score=self._confidences, dark_on_light=not ink.dark_on_light)
            reading = max(reading, self._reading(crops), key=_believability)
        return self._cell(loaded, reading)

    def _cell(self, loaded: LoadedImage, reading: Reading) -> Reading:
        """``reading`` of a picture about square (see :data:`CELL_ASPECT`), or the one digit
        :meth:`predict` finds there when the picture is a form's cell: everything else read lies at
        the frame or is small beside the digit (what shows of the neighbouring cells),
        or the reading took the cell's borders, photographed turned, for a 0 round the digit. The
        number path keeps the pieces a cell cut from its grid shows of its neighbours (they are digits
        on a line of writing); `predict`'s line rules drop what lies beyond the cell's borders.

        Left as it is: a picture of several lines, or of two digits or more clear of the frame
        (a short number photographed about square), or where the digit beside the pieces at the
        frame touches it too (a number cut tightly, '91': a cell's digit stands clear of its borders).
        """
        width, height = loaded.original_size
        if width >= CELL_ASPECT * height or "\n" in reading.text:
            return reading
        margin = _frame_margin((height, width), CELL_EDGE)

        def sides(box: tuple[int, int, int, int]) -> tuple[bool, bool, bool, bool]:
            x0, y0, x1, y1 = box
            return x0 <= margin, y0 <= margin, x1 >= width - margin, y1 >= height - margin

        found = self._predict([loaded])[0]
        if found.digit is None or found.box is None:
            return reading
        on_it = [_share_of_smaller(d.box, found.box) >= CELL_OVERLAP for d in reading.digits]
        mine = [d for d, on in zip(reading.digits, on_it, strict=True) if on]
        others = [d for d, on in zip(reading.digits, on_it, strict=True) if not on]
        # The cell's digit stands clear of the frame, boxed as the reading or as `predict` boxes it
        # (a line's remnant read with it may reach a side; a neighbour's crumb may join `predict`'s).
        clear = bool(mine) and not (any(sides(mine[0].box)) and any(sides(found.box)))
        if len(mine) > 1 or (others and not clear):
            return reading
        tall = found.box[3] - found.box[1]

        def neighbours(box: tuple[int, int, int, int]) -> bool:
            return any(sides(box)) or box[3] - box[1] < CELL_FRAGMENT * tall

        if not all(neighbours(d.box) for d in others):
            return reading
        why = "not a digit: what shows of a neighbouring cell"
        return Reading(
            str(found.digit),
            [DigitReading(found.digit, found.confidence, found.box)],
            reading.rejected + [(d.box, why) for d in others],
        )

    def _reading(self, crops: list[DigitCrop]) -> Reading:
        if not crops:
            return Reading("", [])
        probs, scores = self.classify([c.image28 for c in crops])
        digits: list[DigitReading] = []
        rejected: list[tuple[tuple[int, int, int, int], str]] = []
        lines: list[str] = []
        for line in range(max(crop.line for crop in crops) + 1):
            ks = [k for k, crop in enumerate(crops) if crop.line == line]
            if not ks:  # every piece of the line was left out (marks, a grid's crumbs)
                continue
            read = self._line([crops[k] for k in ks], probs[ks], None if scores is None else scores[ks])
            rejected += read.rejected
            if read.text:  # a line of marks only (a grid's crumbs, a rule's remnants) is no line of digits
                digits += [replace(d, line=len(lines)) for d in read.digits]
                lines.append(read.text)
        return Reading("\n".join(lines), digits, rejected)

    def _line(self, crops: list[DigitCrop], probs: np.ndarray, scores: np.ndarray | None) -> Reading:
        """One line of writing read from its pieces and their classifier outputs."""
        digits, rejected = [], []
        brackets = _brackets(crops, probs)
        height = float(np.median([crop.box[3] - crop.box[1] for crop in crops]))
        for k, crop in enumerate(crops):
            if k in brackets:
                rejected.append((crop.box, "not a digit: a bracket"))
                continue
            score = None if scores is None else float(scores[k])
            top = int(np.argmax(probs[k]))
            confidence = float(probs[k][top])
            far = score is not None and self.ood_threshold and score > READ_OOD_FACTOR * self.ood_threshold
            if far and confidence < READ_OOD_CONFIDENCE:
                rejected.append((crop.box, f"not a digit (out-of-distribution score {score:.2f})"))
                continue
            top_two = float(np.sort(probs[k])[-2:].sum())
            torn = top_two < READ_END_TOP_TWO
            if torn and top_two >= READ_END_TORN:  # between two readings: a digit, if it is digit-sized
                x0, y0, x1, y1 = crop.box
                torn = y1 - y0 < READ_END_TALL * height or x1 - x0 < READ_END_WIDE * height
            unsure = confidence < READ_END_CONFIDENCE or torn
            if len(crops) > 1 and k in (0, len(crops) - 1) and unsure:
                why = f"confidence {confidence:.2f}, two likeliest digits {top_two:.2f}"
                rejected.append((crop.box, f"not a digit: an unsure piece at an end ({why})"))
                continue
            digits.append(DigitReading(top, confidence, crop.box))
        return Reading("".join(str(d.digit) for d in digits), digits, rejected)


def _brackets(crops: list[DigitCrop], probs: np.ndarray) -> set[int]:
    """The pieces that are a pair of brackets ("(0161) 496 0000", "(1250)"): the first piece, shaped
    like an opening bracket, and the piece after it shaped most like a closing one among those about
    as tall (:data:`BRACKET_ALIKE`), each read as a 1 (a 4, a 3 or a 9 may bow as much; a 1 written
    with a curve bows less than a bracket; the closing one may instead be read unsure, see
    :data:`BRACKET_UNSURE`) and tall enough in the picture for its bow to tell."""
    ones = probs.argmax(axis=1) == 1
    height = crops[0].box[3] - crops[0].box[1]
    if len(crops) < 3 or crops[0].bow <= 0 or not ones[0] or height < BRACKET_MIN_HEIGHT:
        return set()

    def alike(crop: DigitCrop) -> bool:
        other = crop.box[3] - crop.box[1]
        return abs(other - height) <= BRACKET_ALIKE * max(other, height)

    unsure = probs.max(axis=1) < BRACKET_UNSURE
    closing = [k for k in range(1, len(crops)) if crops[k].bow < 0 and (ones[k] or unsure[k]) and alike(crops[k])]
    return {0, min(closing, key=lambda k: crops[k].bow)} if closing else set()


def _believability(answer: Prediction | Reading) -> tuple[bool, float]:
    """How to choose between readings of one picture in both polarities: an answer before none
    (a digit before a refusal, digits read before nothing), then the classifier's confidence
    (for a number, the mean over its pieces, the rejected ones counting as 0)."""
    if isinstance(answer, Prediction):
        return answer.digit is not None, answer.confidence
    pieces = len(answer.digits) + len(answer.rejected)
    return bool(answer.digits), sum(d.confidence for d in answer.digits) / max(pieces, 1)


def confidence_interval(p: float, n: int) -> tuple[float, float]:
    """Wilson 95% interval of a proportion ``p`` measured on ``n`` samples (for reporting figures)."""
    if n == 0:
        return (0.0, 1.0)
    z = 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def annotate(image: Any, reading: Reading) -> Image.Image:
    """A copy of ``image`` (anything :func:`~digitocr.preprocess.load_image` reads) with each digit's
    box and value drawn in red, and rejected pieces in grey."""
    grey = load_image(image)
    picture = Image.fromarray((grey * 255).astype(np.uint8)).convert("RGB")
    draw = ImageDraw.Draw(picture)
    size = max(10, picture.height // 12)
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        font = ImageFont.load_default()
    width = max(1, picture.height // 150)
    for box, _reason in reading.rejected:
        draw.rectangle([box[0], box[1], box[2] - 1, box[3] - 1], outline=(150, 150, 150), width=width)
    for d in reading.digits:
        x0, y0, x1, y1 = d.box
        draw.rectangle([x0, y0, x1 - 1, y1 - 1], outline=(220, 0, 0), width=width)
        draw.text((x0, max(0, y0 - size - 2)), str(d.digit), fill=(220, 0, 0), font=font)
    return picture


def _share_of_smaller(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """The share of the smaller of two boxes (x0, y0, x1, y1) that lies in both."""
    return box_intersection(a, b) / max(min(box_area(a), box_area(b)), 1)
