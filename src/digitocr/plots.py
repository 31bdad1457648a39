"""Figures from arrays and :class:`~digitocr.evaluate.Metrics`: the dataset, training, errors, calibration, saliency.

Every function takes tensors or arrays already in memory and returns a ``matplotlib.figure.Figure``;
nothing here trains, loads files or touches pyplot's global state (figures are built with
``Figure()`` directly, so they are rendered by Agg and never opened in a window). Save one with
:func:`figure_png` (PNG bytes) or :func:`save_figure`. Classes are always shown in order 0–9;
digits are drawn with the grey colormap and nearest-neighbour interpolation, so pixels stay pixels.

Needs the ``plots`` extra (matplotlib).
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from digitocr.data import MNIST_MEAN, MNIST_STD, NUM_CLASSES, normalize
from digitocr.evaluate import Metrics
from digitocr.models import last_layer

CLASSES = tuple(range(NUM_CLASSES))
DPI = 100
# One colour per split, the same in every figure.
SPLIT_COLORS = {"train": "#1f77b4", "val": "#ff7f0e", "test": "#2ca02c"}
DIGIT_STYLE = {"cmap": "gray", "interpolation": "nearest", "vmin": 0.0, "vmax": 1.0}

ArrayLike = torch.Tensor | np.ndarray | Sequence[Any]


def _np(values: ArrayLike) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def _raw(images: ArrayLike) -> np.ndarray:
    """Images (N, 28, 28), (N, 1, 28, 28) or one (28, 28) → an array (N, 28, 28) of the same dtype."""
    arr = _np(images)
    if arr.ndim == 4:
        arr = arr[:, 0]
    if arr.ndim == 2:
        arr = arr[None]
    return arr


def _pixels(images: ArrayLike, index: ArrayLike | None = None) -> np.ndarray:
    """Images (uint8, or floats in [0, 1]) → float32 (N, 28, 28) in [0, 1]; only ``index`` if given, so a
    60k-image uint8 array is never converted whole."""
    arr = _raw(images)
    if index is not None:
        arr = arr[np.asarray(index, dtype=np.int64)]
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    return arr.astype(np.float32)


def pixel_levels(images: ArrayLike, chunk: int = 4096) -> np.ndarray:
    """How many pixels take each of the 256 levels of uint8 images, counted in chunks (a 60k-image set
    would need 376 MB as one int64 copy)."""
    raw = _raw(images)
    flat = torch.as_tensor(raw).reshape(len(raw), -1)
    if flat.dtype != torch.uint8:
        raise ValueError(f"pixel_levels needs uint8 images, got {flat.dtype}")
    counts = torch.zeros(256, dtype=torch.int64)
    for start in range(0, len(flat), chunk):
        counts += torch.bincount(flat[start : start + chunk].flatten().long(), minlength=256)
    return counts.numpy()


def _hide_ticks(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def figure_png(fig: Figure, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes (Agg)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = DPI) -> Path:
    """Write the figure to ``path`` as PNG and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(figure_png(fig, dpi))
    return path


# ---------------------------------------------------------------------------------------------
# The dataset


def sample_grid(images: ArrayLike, labels: ArrayLike, per_class: int = 10, seed: int = 0) -> Figure:
    """A grid of sample digits: one row per class 0–9, ``per_class`` random examples in each."""
    raw, labels_np = _raw(images), _np(labels)
    rng = np.random.default_rng(seed)
    fig = Figure(figsize=(per_class * 0.8 + 0.6, NUM_CLASSES * 0.8 + 0.6), dpi=DPI)
    axes = fig.subplots(NUM_CLASSES, per_class, squeeze=False)
    for c in CLASSES:
        idx = np.flatnonzero(labels_np == c)
        chosen = np.sort(rng.choice(idx, size=min(per_class, len(idx)), replace=False)) if len(idx) else idx
        pixels = _pixels(raw, chosen)
        for j in range(per_class):
            ax = axes[c, j]
            _hide_ticks(ax)
            if j < len(chosen):
                ax.imshow(pixels[j], **DIGIT_STYLE)
        axes[c, 0].set_ylabel(str(c), rotation=0, fontsize=12, labelpad=12, va="center")
    fig.suptitle(f"Sample digits, {per_class} per class (rows: class 0–9)")
    fig.subplots_adjust(wspace=0.05, hspace=0.05)
    return fig


def class_counts(labels_by_split: Mapping[str, ArrayLike] | ArrayLike) -> Figure:
    """Bars of how many examples of each class every split holds (grouped by class 0–9)."""
    if not isinstance(labels_by_split, Mapping):
        labels_by_split = {"all": labels_by_split}
    fig = Figure(figsize=(9, 4.5), dpi=DPI)
    ax = fig.subplots()
    n_splits = len(labels_by_split)
    width = 0.8 / n_splits
    x = np.arange(NUM_CLASSES)
    for i, (name, labels) in enumerate(labels_by_split.items()):
        counts = np.bincount(_np(labels).astype(np.int64), minlength=NUM_CLASSES)[:NUM_CLASSES]
        ax.bar(
            x + (i - (n_splits - 1) / 2) * width,
            counts,
            width,
            label=f"{name} (n={counts.sum():,})",
            color=SPLIT_COLORS.get(name),
        )
    ax.set_xticks(x, [str(c) for c in CLASSES])
    ax.set_xlabel("class")
    ax.set_ylabel("number of images")
    ax.set_title("Class balance per split")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.15)  # room for the legend above the bars
    ax.legend(loc="upper center", ncol=n_splits)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def mean_images(images: ArrayLike, labels: ArrayLike) -> Figure:
    """The average image of each class 0–9: where the ink usually is."""
    raw, labels_np = _raw(images), _np(labels)
    scale = 255.0 if raw.dtype == np.uint8 else 1.0
    fig = Figure(figsize=(12, 2.2), dpi=DPI)
    axes = fig.subplots(1, NUM_CLASSES)
    for c, ax in zip(CLASSES, axes, strict=True):
        mask = labels_np == c
        mean = raw[mask].mean(0, dtype=np.float64) / scale if mask.any() else np.zeros(raw.shape[1:])
        ax.imshow(mean, cmap="gray", interpolation="nearest", vmin=0.0, vmax=max(float(mean.max()), 1e-6))
        ax.set_title(f"{c} (n={int(mask.sum())})", fontsize=9)
        _hide_ticks(ax)
    fig.suptitle("Mean image per class")
    fig.tight_layout()
    return fig


def pixel_histogram(images: ArrayLike, bins: int = 64) -> Figure:
    """Histogram of pixel intensities (log scale: most pixels are background), with mean and std."""
    raw = _raw(images)
    if raw.dtype == np.uint8:  # exact statistics from the 256 levels, without a float copy of every pixel
        levels = pixel_levels(raw).astype(np.float64)
        values = np.arange(256) / 255.0
        total = levels.sum()
        mean = float((levels * values).sum() / total)
        std = float(np.sqrt((levels * (values - mean) ** 2).sum() / total))
        zero = float(levels[0] / total)
        counts, edges = np.histogram(values, bins=bins, range=(0.0, 1.0), weights=levels)
        size = int(total)
    else:
        pixels = raw.astype(np.float64).ravel()
        mean, std, zero, size = float(pixels.mean()), float(pixels.std()), float((pixels == 0).mean()), pixels.size
        counts, edges = np.histogram(pixels, bins=bins, range=(0.0, 1.0))
    fig = Figure(figsize=(8, 4.5), dpi=DPI)
    ax = fig.subplots()
    ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="#555555")
    ax.set_yscale("log")
    ax.axvline(mean, color="#d62728", linestyle="--", label=f"mean {mean:.4f}")
    ax.axvspan(max(mean - std, 0.0), min(mean + std, 1.0), color="#d62728", alpha=0.1, label=f"± std {std:.4f}")
    ax.set_xlabel("pixel intensity (0 = background, 1 = ink)")
    ax.set_ylabel("number of pixels (log scale)")
    ax.set_title(f"Pixel intensities ({size:,} pixels, {zero:.1%} exactly 0)")
    ax.set_xlim(0, 1)
    ax.legend()
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# Training


def training_curves(history: Sequence[Mapping[str, float]], best_epoch: int | None = None) -> Figure:
    """Loss and accuracy per epoch, train and validation, with the learning rate on a second axis."""
    from matplotlib.ticker import FormatStrFormatter, MaxNLocator

    fig = Figure(figsize=(12, 5), dpi=DPI)
    ax_loss, ax_acc = fig.subplots(1, 2)
    epochs = [h["epoch"] for h in history]
    marker = "o" if len(epochs) <= 30 else None
    has_lr = bool(history) and "lr" in history[0]
    handles: list[Any] = []
    for ax, key in ((ax_loss, "loss"), (ax_acc, "accuracy")):
        (train_line,) = ax.plot(
            epochs, [h[f"train_{key}"] for h in history], marker=marker, color=SPLIT_COLORS["train"], label="train"
        )
        (val_line,) = ax.plot(
            epochs, [h[f"val_{key}"] for h in history], marker=marker, color=SPLIT_COLORS["val"], label="validation"
        )
        handles = [train_line, val_line]
        if best_epoch:
            handles.append(ax.axvline(best_epoch, color="#888888", linestyle=":", label=f"best epoch ({best_epoch})"))
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        if epochs:
            ax.set_xlim(min(epochs) - 0.5, max(epochs) + 0.5)
        if 0 < len(epochs) <= 20:
            ax.set_xticks(epochs)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if has_lr:
            lr_ax = ax.twinx()
            (lr_line,) = lr_ax.plot(
                epochs,
                [h["lr"] for h in history],
                color="#9467bd",
                linestyle="--",
                marker="." if marker else None,
                alpha=0.8,
                label="learning rate",
            )
            handles.append(lr_line)
            lr_ax.set_ylabel("learning rate (end of epoch)", color="#9467bd")
            lr_ax.tick_params(axis="y", colors="#9467bd")
            lr_ax.yaxis.set_major_formatter(FormatStrFormatter("%.1e"))
            lr_ax.set_ylim(bottom=0)
    ax_loss.set_title("Loss per epoch")
    ax_acc.set_title("Accuracy per epoch")
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


# ---------------------------------------------------------------------------------------------
# Errors


def _confusion(source: Metrics | ArrayLike) -> np.ndarray:
    matrix = source.confusion if isinstance(source, Metrics) else source
    return _np(matrix).astype(np.int64)


def confusion_matrix(source: Metrics | ArrayLike, title: str = "Confusion matrix") -> Figure:
    """The confusion matrix as a heat map with counts in every cell (rows: true class, columns: predicted)."""
    matrix = _confusion(source)
    fig = Figure(figsize=(7.5, 6.5), dpi=DPI)
    ax = fig.subplots()
    # Colour the off-diagonal errors on a log scale so they show beside the large diagonal.
    shown = np.log1p(matrix.astype(np.float64))
    image = ax.imshow(shown, cmap="Blues", interpolation="nearest")
    threshold = shown.max() / 2 if shown.size else 0
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            if matrix[i, j] == 0 and i != j:
                continue
            ax.text(
                j,
                i,
                str(matrix[i, j]),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if shown[i, j] > threshold else "black",
            )
    ticks = range(matrix.shape[0])
    ax.set_xticks(ticks, [str(c) for c in ticks])
    ax.set_yticks(ticks, [str(c) for c in ticks])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    total = matrix.sum()
    accuracy = np.trace(matrix) / total if total else 0.0
    ax.set_title(f"{title} (accuracy {accuracy:.2%}, n={total:,})")
    bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    bar.set_label("count (log scale)")
    tick_values = [v for v in (0, 1, 10, 100, 1000, 10000) if v <= max(int(matrix.max()), 1)]
    bar.set_ticks(np.log1p(tick_values), labels=[str(v) for v in tick_values])
    fig.tight_layout()
    return fig


def most_confused(source: Metrics | ArrayLike, top: int = 10) -> list[tuple[int, int, int]]:
    """The ``top`` most frequent errors as ``(true, predicted, count)``, most frequent first."""
    matrix = _confusion(source).copy()
    np.fill_diagonal(matrix, 0)
    order = np.argsort(-matrix, axis=None, kind="stable")[:top]
    pairs = [(int(i), int(j), int(matrix[i, j])) for i, j in zip(*np.unravel_index(order, matrix.shape), strict=True)]
    return [p for p in pairs if p[2] > 0]


def confused_pairs(source: Metrics | ArrayLike, top: int = 10) -> Figure:
    """Horizontal bars of the most frequent (true → predicted) mistakes."""
    pairs = most_confused(source, top)
    fig = Figure(figsize=(7, max(2.5, 0.4 * len(pairs) + 1.2)), dpi=DPI)
    ax = fig.subplots()
    names = [f"true {t} → predicted {p}" for t, p, _ in pairs]
    counts = [c for _, _, c in pairs]
    ax.barh(range(len(pairs)), counts, color="#d62728")
    ax.set_yticks(range(len(pairs)), names)
    ax.invert_yaxis()
    for k, c in enumerate(counts):
        ax.text(c, k, f" {c}", va="center", fontsize=9)
    ax.set_xlabel("number of test images")
    ax.set_title(f"Most confused pairs (top {len(pairs)})" if pairs else "Most confused pairs (no mistakes)")
    ax.grid(axis="x", alpha=0.3)
    if counts:
        ax.set_xlim(0, max(counts) * 1.15)
    fig.tight_layout()
    return fig


def misclassified_indices(metrics: Metrics, limit: int | None = None) -> np.ndarray:
    """Indices of the wrongly classified images, the most confidently wrong first."""
    if metrics.probabilities is None or metrics.labels is None:
        raise ValueError(
            "these Metrics hold no per-image probabilities; use the result of evaluate(), not from_dict()."
        )
    probs = _np(metrics.probabilities)
    labels = _np(metrics.labels)
    predicted = probs.argmax(1)
    wrong = np.flatnonzero(predicted != labels)
    wrong = wrong[np.argsort(-probs[wrong, predicted[wrong]], kind="stable")]
    return wrong[:limit] if limit is not None else wrong


def misclassified_gallery(images: ArrayLike, metrics: Metrics, n: int = 24, columns: int = 8) -> Figure:
    """The ``n`` most confidently wrong images with their true label, prediction and confidence.

    ``images`` are the ones ``metrics`` was computed on, in the same order.
    """
    wrong = misclassified_indices(metrics, n)
    pixels = _pixels(images, wrong)
    probs = _np(metrics.probabilities)
    labels = _np(metrics.labels)
    rows = max(1, int(np.ceil(len(wrong) / columns)))
    fig = Figure(figsize=(columns * 1.35, rows * 1.6 + 0.6), dpi=DPI)
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
    for ax in axes:
        _hide_ticks(ax)
    for k, (ax, i) in enumerate(zip(axes, wrong, strict=False)):
        p = int(probs[i].argmax())
        ax.imshow(pixels[k], **DIGIT_STYLE)
        ax.set_title(f"true {int(labels[i])} → {p}\n{probs[i, p]:.1%} sure", fontsize=8, color="#b00000")
    total = int((probs.argmax(1) != labels).sum())
    fig.suptitle(f"Misclassified digits, most confident first ({len(wrong)} of {total} errors)")
    fig.tight_layout()
    return fig


def reliability_diagram(metrics: Metrics) -> Figure:
    """Accuracy against confidence per bin (a perfectly calibrated model lies on the diagonal), with the ECE
    and, beneath, how many predictions fall into each bin."""
    table = metrics.calibration
    edges = np.asarray(table["edges"], dtype=np.float64)
    count = np.asarray(table["count"], dtype=np.float64)
    accuracy = np.asarray(table["accuracy"], dtype=np.float64)
    confidence = np.asarray(table["confidence"], dtype=np.float64)
    lefts, widths = edges[:-1], np.diff(edges)
    used = count > 0
    fig = Figure(figsize=(6.5, 7), dpi=DPI)
    ax, ax_count = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax.bar(
        lefts[used], accuracy[used], widths[used], align="edge", color="#9ecae1", edgecolor="black", label="accuracy"
    )
    gap_bottom = np.minimum(accuracy, confidence)[used]
    ax.bar(
        lefts[used],
        np.abs(confidence - accuracy)[used],
        widths[used],
        bottom=gap_bottom,
        align="edge",
        fill=False,
        edgecolor="#d62728",
        hatch="///",
        label="gap between accuracy and mean confidence",
    )
    ax.plot([0, 1], [0, 1], linestyle="--", color="#555555", label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.set_title(f"Reliability diagram (ECE {metrics.ece:.4f}, n={metrics.n:,})")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    ax_count.bar(lefts, np.maximum(count, 0), widths, align="edge", color="#555555", edgecolor="black")
    if count.max() > 0:
        ax_count.set_yscale("log")
    ax_count.set_xlabel("confidence (probability of the predicted class)")
    ax_count.set_ylabel("predictions")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# What the model looks at


SALIENCY_METHODS = ("gradient", "input-gradient", "gradcam")
SALIENCY_NAMES = {
    "gradient": "|∂ logit / ∂ pixel|",
    "input-gradient": "|pixel × ∂ logit / ∂ pixel|",
    "gradcam": "Grad-CAM on the last convolution",
}


def _saliency_method(model: nn.Module, method: str) -> str:
    if method == "auto":
        return "gradcam" if last_layer(model, nn.Conv2d) is not None else "input-gradient"
    if method not in SALIENCY_METHODS:
        raise ValueError(f"method must be auto or one of {SALIENCY_METHODS}, got {method!r}")
    return method


def saliency(
    model: nn.Module, images: torch.Tensor, targets: torch.Tensor | None = None, method: str = "auto"
) -> torch.Tensor:
    """Where the model looks: maps ``(N, 28, 28)`` in [0, 1] for uint8 images ``(N, 28, 28)``.

    ``gradient``: the absolute gradient of the target logit with respect to the input pixels
    (Simonyan et al., 2014). ``input-gradient``: the absolute gradient times the pixel value in [0, 1]
    (Shrikumar et al., 2016), i.e. each pixel's first-order contribution against a blank image; unlike
    the plain gradient it is zero on the background, whose MLP weights never see ink and stay noisy.
    ``gradcam``: Grad-CAM on the last convolution (Selvaraju et al., 2017), upsampled to 28×28.
    ``auto``: Grad-CAM when the model has a convolution, else ``input-gradient``. ``targets``
    defaults to the predicted classes.
    """
    method = _saliency_method(model, method)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    x = (normalize(images) if images.dtype == torch.uint8 else images.float()).reshape(-1, 1, 28, 28).to(device)
    x = x.clone().requires_grad_(True)
    captured: dict[str, torch.Tensor] = {}
    handle = None
    if method == "gradcam":
        conv = last_layer(model, nn.Conv2d)
        if conv is None:
            raise ValueError("gradcam needs a model with a convolution; use method='gradient'.")

        def keep(module, inputs, output):
            output.retain_grad()
            captured["activation"] = output

        handle = conv.register_forward_hook(keep)
    try:
        with torch.enable_grad():
            logits = model(x)  # (N, 10)
            chosen = logits.argmax(1) if targets is None else targets.to(device).long()
            logits.gather(1, chosen[:, None]).sum().backward()
    finally:
        if handle is not None:
            handle.remove()
        model.train(was_training)
    if method == "gradient":
        maps = x.grad.detach().abs()[:, 0]  # (N, 28, 28)
    elif method == "input-gradient":
        pixels = x.detach() * MNIST_STD + MNIST_MEAN  # back to [0, 1]; d/d(pixel) = d/dx / std
        maps = (x.grad.detach() / MNIST_STD * pixels).abs()[:, 0]
    else:
        act = captured["activation"]
        weights = act.grad.mean(dim=(2, 3), keepdim=True)  # (N, C, 1, 1)
        cam = torch.relu((weights * act).sum(1, keepdim=True)).detach()  # (N, 1, h, w)
        maps = torch.nn.functional.interpolate(cam, size=(28, 28), mode="bilinear", align_corners=False)[:, 0]
    peak = maps.flatten(1).amax(1).clamp_min(1e-12)[:, None, None]
    return (maps / peak).cpu()


def saliency_maps(model: nn.Module, images: ArrayLike, labels: ArrayLike | None = None, method: str = "auto") -> Figure:
    """A few digits (top row) and where the model looks to classify them (bottom row, overlaid in colour)."""
    batch = torch.as_tensor(_np(images))
    if batch.dim() == 2:
        batch = batch[None]
    chosen_method = _saliency_method(model, method)
    maps = saliency(model, batch, None, chosen_method).numpy()
    with torch.inference_mode():
        from digitocr.evaluate import predict_proba

        probs = predict_proba(model, batch if batch.dtype == torch.uint8 else batch.float()).numpy()
    pixels = _pixels(batch)
    labels_np = _np(labels) if labels is not None else None
    n = len(pixels)
    fig = Figure(figsize=(max(1.5 * n, 6), 3.9), dpi=DPI)
    axes = fig.subplots(2, n, squeeze=False)
    for k in range(n):
        pred = int(probs[k].argmax())
        top, bottom = axes[0, k], axes[1, k]
        top.imshow(pixels[k], **DIGIT_STYLE)
        truth = f"true {int(labels_np[k])} · " if labels_np is not None else ""
        wrong = labels_np is not None and int(labels_np[k]) != pred
        top.set_title(f"{truth}pred {pred}\n{probs[k, pred]:.0%}", fontsize=8, color="#b00000" if wrong else "black")
        bottom.imshow(pixels[k], **DIGIT_STYLE)
        bottom.imshow(maps[k], cmap="inferno", interpolation="nearest", alpha=0.6, vmin=0, vmax=1)
        _hide_ticks(top)
        _hide_ticks(bottom)
    axes[0, 0].set_ylabel("input", fontsize=9)
    axes[1, 0].set_ylabel("saliency", fontsize=9)
    fig.suptitle(f"Saliency of the predicted class ({SALIENCY_NAMES[chosen_method]})")
    fig.tight_layout()
    return fig
