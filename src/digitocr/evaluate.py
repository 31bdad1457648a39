"""Judging a model: accuracy, loss, per-class precision/recall/F1, the confusion matrix and calibration.

Everything runs under ``torch.inference_mode()`` and returns a :class:`Metrics`; nothing prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from digitocr.data import NUM_CLASSES, normalize

CALIBRATION_BINS = 15
# Test-time augmentation: the image itself plus one-pixel shifts, probabilities averaged.
TTA_SHIFTS: tuple[tuple[int, int], ...] = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))


@dataclass
class Metrics:
    """What :func:`evaluate` measures. ``to_dict()`` is the JSON written beside a checkpoint; the
    per-image arrays (``probabilities``, ``labels``) stay in memory for plots and are not serialized."""

    accuracy: float
    loss: float
    n: int
    per_class: list[dict[str, float]]
    confusion: list[list[int]]
    ece: float
    calibration: dict[str, list[float]]
    probabilities: torch.Tensor | None = field(default=None, repr=False)
    labels: torch.Tensor | None = field(default=None, repr=False)

    @property
    def error_rate(self) -> float:
        return 1.0 - self.accuracy

    @property
    def predictions(self) -> torch.Tensor | None:
        return None if self.probabilities is None else self.probabilities.argmax(1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "loss": self.loss,
            "n": self.n,
            "ece": self.ece,
            "per_class": self.per_class,
            "confusion": self.confusion,
            "calibration": self.calibration,
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Metrics:
        keys = ("accuracy", "loss", "n", "per_class", "confusion", "ece", "calibration")
        return cls(**{k: values[k] for k in keys})


def _shift(x: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """Shift a (B, 1, H, W) batch by whole pixels, filling with the background value."""
    if dx == 0 and dy == 0:
        return x
    background = x.amin()
    out = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
    if dy > 0:
        out[:, :, :dy] = background
    elif dy < 0:
        out[:, :, dy:] = background
    if dx > 0:
        out[:, :, :, :dx] = background
    elif dx < 0:
        out[:, :, :, dx:] = background
    return out


@torch.inference_mode()
def predict_proba(
    models: nn.Module | Sequence[nn.Module],
    images: torch.Tensor,
    *,
    batch_size: int = 1000,
    device: torch.device | str | None = None,
    tta: bool = False,
) -> torch.Tensor:
    """Softmax probabilities ``(N, 10)`` on the CPU for uint8 images ``(N, 28, 28)`` or already
    normalized floats ``(N, 1, 28, 28)``. Several models: their probabilities are averaged (an
    ensemble). ``tta``: also averaged over the one-pixel shifts in ``TTA_SHIFTS``."""
    members = list(models) if isinstance(models, Sequence) else [models]
    device = torch.device(device) if device is not None else next(members[0].parameters()).device
    was_training = [m.training for m in members]
    for m in members:
        m.eval()
    shifts = TTA_SHIFTS if tta else ((0, 0),)
    out = []
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size].to(device)
        x = normalize(chunk).unsqueeze(1) if chunk.dtype == torch.uint8 else chunk.float()  # (B, 1, 28, 28)
        probs = torch.zeros(len(x), NUM_CLASSES, device=device)
        for m in members:
            for dx, dy in shifts:
                probs += F.softmax(m(_shift(x, dx, dy)).float(), dim=1)
        out.append((probs / (len(members) * len(shifts))).cpu())
    for m, flag in zip(members, was_training, strict=True):
        m.train(flag)
    return torch.cat(out) if out else torch.zeros(0, NUM_CLASSES)


def calibration_bins(confidence: torch.Tensor, correct: torch.Tensor, bins: int = CALIBRATION_BINS):
    """Reliability-diagram data and the expected calibration error (Guo et al., 2017)."""
    edges = torch.linspace(0, 1, bins + 1)
    which = torch.bucketize(confidence, edges[1:-1], right=True)  # (N,) bin of each prediction
    count = torch.bincount(which, minlength=bins).float()
    conf_sum = torch.zeros(bins).index_add_(0, which, confidence)
    acc_sum = torch.zeros(bins).index_add_(0, which, correct.float())
    safe = count.clamp(min=1)
    ece = float(((acc_sum - conf_sum).abs()).sum() / max(len(confidence), 1))
    table = {
        "edges": edges.tolist(),
        "count": count.tolist(),
        "accuracy": (acc_sum / safe).tolist(),
        "confidence": (conf_sum / safe).tolist(),
    }
    return ece, table


def metrics_from_probabilities(probabilities: torch.Tensor, labels: torch.Tensor) -> Metrics:
    """All metrics from predicted probabilities ``(N, 10)`` and true labels ``(N,)``."""
    labels = labels.cpu().long()
    n = len(labels)
    confidence, predicted = probabilities.max(1)
    correct = predicted == labels
    loss = float(F.nll_loss(probabilities.clamp_min(1e-12).log(), labels)) if n else 0.0
    confusion = torch.bincount(labels * NUM_CLASSES + predicted, minlength=NUM_CLASSES**2).reshape(
        NUM_CLASSES, NUM_CLASSES
    )  # rows: true class, columns: predicted class
    true_pos = confusion.diag().float()
    support = confusion.sum(1).float()
    predicted_count = confusion.sum(0).float()
    precision = true_pos / predicted_count.clamp(min=1)
    recall = true_pos / support.clamp(min=1)
    f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    per_class = [
        {
            "class": c,
            "precision": float(precision[c]),
            "recall": float(recall[c]),
            "f1": float(f1[c]),
            "support": int(support[c]),
        }
        for c in range(NUM_CLASSES)
    ]
    ece, table = calibration_bins(confidence, correct)
    return Metrics(
        accuracy=float(correct.float().mean()) if n else 0.0,
        loss=loss,
        n=n,
        per_class=per_class,
        confusion=confusion.tolist(),
        ece=ece,
        calibration=table,
        probabilities=probabilities,
        labels=labels,
    )


def evaluate(
    model: nn.Module | Sequence[nn.Module],
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    batch_size: int = 1000,
    device: torch.device | str | None = None,
    tta: bool = False,
) -> Metrics:
    """Evaluate one model, or an ensemble of them, on uint8 images ``(N, 28, 28)`` with labels ``(N,)``."""
    probabilities = predict_proba(model, images, batch_size=batch_size, device=device, tta=tta)
    return metrics_from_probabilities(probabilities, labels)
