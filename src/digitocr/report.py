"""The model report and the dataset exploration: figures from :mod:`digitocr.plots` collected into files.

``report.html`` is one self-contained page (figures embedded as base64 PNG, inline CSS, no script,
nothing fetched from the network) and ``report.json`` holds the same numbers for machines. Both
come from one function, :func:`build_report`, whether the caller is ``digitocr train`` (with the
test metrics it already computed: :func:`write_run_report`) or ``digitocr report CHECKPOINT``
(which evaluates the checkpoint on the test set first: :func:`write_report`).

Needs the ``plots`` extra (matplotlib).
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from digitocr import plots
from digitocr.checkpoint import atomic_write_text, load_checkpoint, model_from_checkpoint, versions
from digitocr.data import MNISTSplits, load_mnist, load_splits
from digitocr.evaluate import Metrics, evaluate
from digitocr.models import count_parameters

REPORT_HTML = "report.html"
REPORT_JSON = "report.json"
REPORT_FORMAT = "digitocr-report"
REPORT_VERSION = 1
EXPLORE_JSON = "summary.json"
GALLERY_SIZE = 24
TOP_PAIRS = 10

# (id, heading) of every section of report.html, in order; tests check they are all there.
SECTIONS = (
    ("summary", "Summary"),
    ("per-class", "Per-class metrics"),
    ("confusion", "Confusion matrix"),
    ("confused-pairs", "Most confused pairs"),
    ("misclassified", "Misclassified test digits"),
    ("calibration", "Calibration"),
    ("saliency", "What the model looks at"),
    ("training", "Training curves"),
    ("config", "Training configuration"),
    ("history", "Training history"),
    ("versions", "Versions"),
)
# Figures embedded in report.html; "training_curves" only when the checkpoint has a history.
REPORT_FIGURES = (
    "confusion_matrix",
    "confused_pairs",
    "misclassified",
    "reliability",
    "saliency",
    "training_curves",
)
EXPLORE_FIGURES = ("samples", "class_counts", "mean_images", "pixel_histogram")


@dataclass
class Report:
    """What :func:`build_report` produced: the page, the JSON document and the figures as PNG bytes."""

    html: str
    data: dict[str, Any]
    figures: dict[str, bytes] = field(default_factory=dict)


def saliency_indices(labels: torch.Tensor) -> list[int]:
    """The first test image of each class 0–9: a fixed, readable handful for the saliency figure."""
    labels_np = labels.cpu().numpy()
    return [int(np.flatnonzero(labels_np == c)[0]) for c in plots.CLASSES if (labels_np == c).any()]


def build_report(
    model: nn.Module,
    test_images: torch.Tensor,
    test_metrics: Metrics,
    *,
    model_name: str,
    model_kwargs: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    best_epoch: int | None = None,
    val_metrics: dict[str, Any] | None = None,
    source: str = "",
    extra: dict[str, Any] | None = None,
    model_versions: dict[str, str] | None = None,
) -> Report:
    """Make every figure and table for ``model`` from metrics already computed on ``test_images``."""
    if test_metrics.probabilities is None or test_metrics.labels is None:
        raise ValueError("build_report needs the Metrics returned by evaluate() (with per-image probabilities).")
    history = list(history or [])
    config = dict(config or {})
    figures: dict[str, bytes] = {}

    def add(name: str, fig) -> None:
        figures[name] = plots.figure_png(fig)

    add("confusion_matrix", plots.confusion_matrix(test_metrics, title="Test confusion matrix"))
    add("confused_pairs", plots.confused_pairs(test_metrics, TOP_PAIRS))
    add("misclassified", plots.misclassified_gallery(test_images, test_metrics, GALLERY_SIZE))
    add("reliability", plots.reliability_diagram(test_metrics))
    chosen = saliency_indices(test_metrics.labels)
    add("saliency", plots.saliency_maps(model, test_images[chosen], test_metrics.labels[chosen]))
    if history:
        add("training_curves", plots.training_curves(history, best_epoch))

    pairs = [{"true": t, "predicted": p, "count": c} for t, p, c in plots.most_confused(test_metrics, TOP_PAIRS)]
    data = {
        "format": REPORT_FORMAT,
        "format_version": REPORT_VERSION,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "source": source,
        "model": model_name,
        "model_kwargs": dict(model_kwargs or {}),
        "parameters": count_parameters(model),
        "test": test_metrics.to_dict(),
        "val": val_metrics,
        "most_confused": pairs,
        "best_epoch": best_epoch,
        "history": history,
        "config": config,
        "extra": _jsonable(extra or {}),
        "versions": model_versions or {},
        "report_versions": versions(),
        "figures": list(figures),
    }
    return Report(_render_html(data, figures), data, figures)


def _jsonable(value: Any) -> Any:
    """Plain JSON types only (a checkpoint's ``extra`` may hold tensors or training state: dropped)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items() if k != "train_state"}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    return str(value)


def write_report_files(report: Report, out_dir: str | os.PathLike) -> Path:
    """Write ``report.html`` and ``report.json`` into ``out_dir``; return the HTML's path."""
    out = Path(out_dir)
    atomic_write_text(out / REPORT_JSON, json.dumps(report.data, indent=2) + "\n")
    path = out / REPORT_HTML
    atomic_write_text(path, report.html)
    return path


def write_run_report(result, images: torch.Tensor | None = None) -> Path:
    """The report of a finished ``fit_and_test`` run, written into its run folder from the test metrics
    it already holds (no second evaluation). ``images``: the test images, loaded from MNIST if omitted."""
    run_dir = Path(result.run_dir)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun only the main process writes files
        return run_dir / REPORT_HTML
    if images is None:
        images, labels = load_mnist(result.config.data_dir, train=False)
    else:
        labels = None
    metrics = result.test_metrics
    if metrics is None or metrics.probabilities is None:
        if labels is None:
            _, labels = load_mnist(result.config.data_dir, train=False)
        metrics = evaluate(result.model, images, labels, batch_size=result.config.eval_batch_size)
    report = build_report(
        result.model,
        images,
        metrics,
        model_name=result.config.model,
        model_kwargs=result.config.model_kwargs,
        config=result.config.to_dict(),
        history=result.history,
        best_epoch=result.best_epoch,
        val_metrics=result.val_metrics.to_dict() if result.val_metrics is not None else None,
        source=str(result.checkpoint_path),
        extra={**result.extra, "train_seconds": result.train_seconds},
        model_versions=versions(),
    )
    return write_report_files(report, run_dir)


def write_report(
    checkpoint: str | os.PathLike | dict[str, Any],
    out_dir: str | os.PathLike,
    data_dir: str | os.PathLike | None = None,
    *,
    device: torch.device | str = "cpu",
) -> Path:
    """Evaluate a checkpoint on the MNIST test set and write its report into ``out_dir``."""
    ckpt = checkpoint if isinstance(checkpoint, dict) else load_checkpoint(checkpoint)
    source = "" if isinstance(checkpoint, dict) else str(checkpoint)
    model = model_from_checkpoint(ckpt).to(device)
    images, labels = load_mnist(data_dir, train=False)
    metrics = evaluate(model, images, labels)
    stored = ckpt.get("metrics") or {}
    extra = ckpt.get("extra") or {}
    report = build_report(
        model,
        images,
        metrics,
        model_name=ckpt["model"],
        model_kwargs=ckpt.get("model_kwargs"),
        config=ckpt.get("config"),
        history=ckpt.get("history"),
        best_epoch=extra.get("best_epoch"),
        val_metrics=stored.get("val"),
        source=source,
        extra=extra,
        model_versions=ckpt.get("versions"),
    )
    return write_report_files(report, out_dir)


# ---------------------------------------------------------------------------------------------
# HTML

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1100px;
       padding: 1.5em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
nav a { margin-right: 0.9em; white-space: nowrap; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f4f4f4; } td.key { text-align: left; font-weight: 600; } td.text { text-align: left; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
.big { font-size: 1.6em; font-weight: 700; } .muted { color: #777; } .worst { background: #fde8e8; }
.best { background: #e6f4ea; }
code { background: #f4f4f4; padding: 0 0.3em; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


def _img(figures: dict[str, bytes], name: str, alt: str) -> str:
    encoded = base64.b64encode(figures[name]).decode("ascii")
    return f'<img src="data:image/png;base64,{encoded}" alt="{_e(alt)}" data-figure="{_e(name)}">'


def _kv_table(rows: list[tuple[str, Any]]) -> str:
    body = "".join(f'<tr><td class="key">{_e(k)}</td><td class="text">{_e(v)}</td></tr>' for k, v in rows)
    return f"<table>{body}</table>"


def _section(ident: str, content: str) -> str:
    heading = dict(SECTIONS)[ident]
    return f'<section id="{ident}"><h2>{_e(heading)}</h2>\n{content}\n</section>'


def _render_html(data: dict[str, Any], figures: dict[str, bytes]) -> str:
    test = data["test"]
    val = data.get("val") or {}
    history = data["history"]
    parts: list[str] = []

    summary_rows = [
        ("model", f"{data['model']} {json.dumps(data['model_kwargs'])}"),
        ("parameters", f"{data['parameters']:,}"),
        (
            "test accuracy",
            f"{_pct(test['accuracy'])} ({test['n']:,} images, {round((1 - test['accuracy']) * test['n'])} errors)",
        ),
        ("test loss (NLL)", f"{test['loss']:.4f}"),
        ("expected calibration error", f"{test['ece']:.4f}"),
        ("validation accuracy", _pct(val.get("accuracy")) if val else "—"),
        ("best epoch", data["best_epoch"] if data["best_epoch"] is not None else "—"),
        ("checkpoint", data["source"] or "—"),
    ]
    parts.append(
        _section(
            "summary",
            f'<p class="big">{_pct(test["accuracy"])} test accuracy</p>' + _kv_table(summary_rows),
        )
    )

    worst = min(range(len(test["per_class"])), key=lambda c: test["per_class"][c]["f1"])
    rows = "".join(
        f"<tr{' class=worst' if c == worst else ''}><td>{row['class']}</td><td>{row['precision']:.4f}</td>"
        f"<td>{row['recall']:.4f}</td><td>{row['f1']:.4f}</td><td>{row['support']}</td></tr>"
        for c, row in enumerate(test["per_class"])
    )
    parts.append(
        _section(
            "per-class",
            "<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>"
            f'{rows}</table><p class="muted">The class with the lowest F1 is shaded.</p>',
        )
    )
    parts.append(
        _section(
            "confusion",
            _img(figures, "confusion_matrix", "confusion matrix")
            + '<p class="muted">Rows: true class; columns: predicted class; colour on a log scale.</p>',
        )
    )
    pair_rows = "".join(
        f"<tr><td>{p['true']}</td><td>{p['predicted']}</td><td>{p['count']}</td></tr>" for p in data["most_confused"]
    )
    parts.append(
        _section(
            "confused-pairs",
            _img(figures, "confused_pairs", "most confused pairs")
            + f"<table><tr><th>true</th><th>predicted</th><th>count</th></tr>{pair_rows}</table>",
        )
    )
    parts.append(
        _section(
            "misclassified",
            _img(figures, "misclassified", "misclassified test digits")
            + '<p class="muted">The most confidently wrong predictions first.</p>',
        )
    )
    parts.append(
        _section(
            "calibration",
            _img(figures, "reliability", "reliability diagram")
            + f"<p>Expected calibration error (15 bins, Guo et al., 2017): <b>{test['ece']:.4f}</b>.</p>",
        )
    )
    parts.append(
        _section(
            "saliency",
            _img(figures, "saliency", "saliency maps")
            + '<p class="muted">The first test image of each class 0–9. Brighter overlay: pixels that move the '
            "predicted class's score the most (input × gradient; Grad-CAM for convolutional models).</p>",
        )
    )
    if "training_curves" in figures:
        training = _img(figures, "training_curves", "training curves")
    else:
        training = '<p class="muted">This checkpoint holds no training history.</p>'
    parts.append(_section("training", training))
    config_rows = [(k, json.dumps(v) if isinstance(v, dict | list) else v) for k, v in data["config"].items()]
    parts.append(
        _section("config", _kv_table(config_rows) if config_rows else '<p class="muted">No configuration stored.</p>')
    )
    if history:
        columns = [k for k in ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds")]
        head = "".join(f"<th>{_e(c)}</th>" for c in columns)

        def cell(key: str, value: Any) -> str:
            if value is None:
                return "—"
            if key.endswith("accuracy"):
                return _pct(value)
            if key == "lr":
                return f"{value:.3g}"
            if isinstance(value, float):
                return f"{value:.4f}" if key != "seconds" else f"{value:.1f}"
            return _e(value)

        body = "".join(
            ("<tr class=best>" if h.get("epoch") == data["best_epoch"] else "<tr>")
            + "".join(f"<td>{cell(c, h.get(c))}</td>" for c in columns)
            + "</tr>"
            for h in history
        )
        history_html = f'<table><tr>{head}</tr>{body}</table><p class="muted">The best epoch is shaded.</p>'
    else:
        history_html = '<p class="muted">This checkpoint holds no training history.</p>'
    parts.append(_section("history", history_html))
    version_rows = [(f"model trained with {k}", v) for k, v in data["versions"].items()]
    version_rows += [(f"report made with {k}", v) for k, v in data["report_versions"].items()]
    parts.append(_section("versions", _kv_table(version_rows) + f'<p class="muted">Created {_e(data["created"])}.</p>'))

    nav = " ".join(f'<a href="#{ident}">{_e(title)}</a>' for ident, title in SECTIONS)
    title = f"digitocr report: {data['model']} — {_pct(test['accuracy'])} on MNIST test"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{_e(title)}</h1>\n<nav>{nav}</nav>\n" + "\n".join(parts) + "\n</body>\n</html>\n"
    )


# ---------------------------------------------------------------------------------------------
# Exploring the dataset


@dataclass
class Exploration:
    """What :func:`explore` found and wrote: the dataset summary and the PNG file of each figure."""

    summary: dict[str, Any]
    figures: dict[str, Path]


def dataset_summary(splits: MNISTSplits) -> dict[str, Any]:
    """Sizes, shapes, dtypes, pixel statistics (in [0, 1]) and class balance of each split."""
    result: dict[str, Any] = {}
    for name in ("train", "val", "test"):
        images: torch.Tensor = getattr(splits, f"{name}_images")
        labels: torch.Tensor = getattr(splits, f"{name}_labels")
        levels = torch.from_numpy(plots.pixel_levels(images)).double()  # exact, without a float copy
        values = torch.arange(256, dtype=torch.float64) / 255.0
        total = levels.sum()
        mean = float((levels * values).sum() / total) if total else 0.0
        std = float(((levels * (values - mean) ** 2).sum() / total).sqrt()) if total else 0.0
        counts = torch.bincount(labels, minlength=plots.NUM_CLASSES).tolist()
        n = len(labels)
        result[name] = {
            "n": n,
            "images_shape": list(images.shape),
            "images_dtype": str(images.dtype).removeprefix("torch."),
            "labels_shape": list(labels.shape),
            "labels_dtype": str(labels.dtype).removeprefix("torch."),
            "pixel_mean": mean,
            "pixel_std": std,
            "class_counts": counts,
            "class_fraction_min": min(counts) / n if n else 0.0,
            "class_fraction_max": max(counts) / n if n else 0.0,
        }
    return result


def explore(
    data_dir: str | os.PathLike | None,
    out_dir: str | os.PathLike,
    *,
    val_size: int = 5000,
    split_seed: int = 0,
    download: bool = False,
    splits: MNISTSplits | None = None,
) -> Exploration:
    """Summarize MNIST's train / validation / test splits and write the exploration figures as PNG
    (``samples``, ``class_counts``, ``mean_images``, ``pixel_histogram``) plus ``summary.json``."""
    tick = time.perf_counter()
    if splits is None:
        splits = load_splits(data_dir, val_size, split_seed, download=download)
    summary = {"splits": dataset_summary(splits), "val_size": len(splits.val_labels), "split_seed": split_seed}
    figs = {
        "samples": plots.sample_grid(splits.train_images, splits.train_labels),
        "class_counts": plots.class_counts(
            {"train": splits.train_labels, "val": splits.val_labels, "test": splits.test_labels}
        ),
        "mean_images": plots.mean_images(splits.train_images, splits.train_labels),
        "pixel_histogram": plots.pixel_histogram(splits.train_images),
    }
    out = Path(out_dir)
    paths = {name: plots.save_figure(fig, out / f"{name}.png") for name, fig in figs.items()}
    summary["figures"] = {name: str(path) for name, path in paths.items()}
    summary["seconds"] = time.perf_counter() - tick
    atomic_write_text(out / EXPLORE_JSON, json.dumps(summary, indent=2) + "\n")
    return Exploration(summary, paths)
