"""The ``digitocr`` command: parse arguments, build a config, call the library, present the result.

No logic lives here beyond that; every command has a library function behind it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from digitocr.errors import DigitOCRError

app = typer.Typer(
    name="digitocr",
    help="Handwritten-digit recognition trained on MNIST: train, evaluate, read digits from images.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(stderr=True)
DEBUG_ENV = "DIGITOCR_DEBUG"

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Folder holding MNIST/raw (default: $DIGITOCR_DATA, else ~/.cache/digitocr/data)."),
]
DeviceOption = Annotated[str, typer.Option(help="auto (CUDA, then MPS, then CPU), cpu, cuda or mps.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout instead of tables.")]


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn a :class:`DigitOCRError` into a one-line message and a non-zero exit code."""
    from digitocr.train import TrainingInterrupted

    try:
        yield
    except TrainingInterrupted as exc:
        console.print(f"[yellow]interrupted:[/yellow] {exc}", highlight=False)
        raise typer.Exit(130) from None
    except DigitOCRError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


class _ProgressCallback:
    """Rich progress bars over epochs and batches on a terminal; one line per epoch otherwise."""

    def __init__(self, interactive: bool) -> None:
        self.interactive = interactive
        self.progress: Progress | None = None
        self.epoch_task = self.batch_task = None
        self.steps = 0

    def on_train_begin(self, config, steps_per_epoch: int, start_epoch: int) -> None:
        self.steps = steps_per_epoch
        if not self.interactive:
            return
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.progress.start()
        self.epoch_task = self.progress.add_task("epochs ", total=config.epochs, completed=start_epoch, info="")
        self.batch_task = self.progress.add_task("batches", total=steps_per_epoch, info="")

    def on_batch_end(self, epoch: int, batch: int, loss: float | None) -> None:
        if self.progress is not None:
            self.progress.update(self.batch_task, completed=batch + 1)

    def on_epoch_end(self, record: dict[str, Any]) -> None:
        line = (
            f"epoch {record['epoch']}: train loss {record['train_loss']:.4f} acc {record['train_accuracy']:.2%} · "
            f"val loss {record['val_loss']:.4f} acc {record['val_accuracy']:.2%} · {record['seconds']:.1f}s"
        )
        if self.progress is None:
            console.print(line, highlight=False)
            return
        self.progress.update(self.epoch_task, advance=1, info=f"val {record['val_accuracy']:.2%}")
        self.progress.reset(self.batch_task, total=self.steps)

    def on_train_end(self, result) -> None:
        self.close()

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def _overrides(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@app.command()
def train(
    model: Annotated[str | None, typer.Option(help="Registered model name (see `digitocr models`).")] = None,
    preset: Annotated[str | None, typer.Option(help="Named configuration: model, schedule and augmentation.")] = None,
    config_file: Annotated[
        Path | None, typer.Option("--config", help="JSON file of TrainConfig fields (e.g. from `digitocr tune`).")
    ] = None,
    data_dir: DataDirOption = None,
    download: Annotated[bool, typer.Option(help="Download MNIST if it is not in the data folder yet.")] = False,
    out: Annotated[Path | None, typer.Option(help="Run folder (default: runs/MODEL-TIMESTAMP).")] = None,
    epochs: Annotated[int | None, typer.Option(min=1)] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    batch_size: Annotated[int | None, typer.Option(min=1)] = None,
    lr: Annotated[float | None, typer.Option(help="Peak learning rate.")] = None,
    augment: Annotated[str | None, typer.Option(help="Batch augmentation: none, shift, affine, ...")] = None,
    device: DeviceOption = "auto",
    threads: Annotated[int | None, typer.Option(help="CPU threads for torch (default: torch's choice).")] = None,
    resume: Annotated[bool, typer.Option(help="Continue the interrupted run in --out.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Train into --out even if it already holds a run.")] = False,
    report: Annotated[bool, typer.Option(help="Write report.html and report.json into the run folder.")] = True,
    as_json: JsonOption = False,
) -> None:
    """Train a model on MNIST, pick its best epoch on the validation split, evaluate it on the test set, save it."""
    from digitocr.config import TrainConfig, config_from_preset
    from digitocr.train import MODEL_FILE, fit_and_test, is_main_process

    with user_errors():
        base = config_from_preset(preset) if preset else TrainConfig()
        if config_file is not None:
            base = TrainConfig.from_file(config_file, base=base)
        if model is not None and model != base.model:
            base = base.replace(model=model, model_kwargs={})
        run_dir = out or Path("runs") / f"{base.model}-{time.strftime('%Y%m%d-%H%M%S')}"
        if not resume and not overwrite and ((run_dir / MODEL_FILE).exists() or (run_dir / "checkpoints").exists()):
            raise DigitOCRError(
                f"{run_dir} already holds a run. Use --resume to continue it, --overwrite to replace it, "
                f"or another --out."
            )
        config = base.replace(
            **_overrides(
                epochs=epochs,
                seed=seed,
                batch_size=batch_size,
                lr=lr,
                augment=augment,
                num_threads=threads,
                data_dir=str(data_dir) if data_dir else None,
            ),
            device=device,
            download=download,
            out_dir=str(run_dir),
        )
        main_process = is_main_process()  # under torchrun only rank 0 talks and writes the report
        if not as_json and main_process:
            console.print(f"[bold]Training[/bold] {config.model} → {run_dir}", highlight=False)
            console.print(_config_line(config), highlight=False)
        progress = _ProgressCallback(interactive=console.is_terminal and not as_json)
        try:
            result = fit_and_test(config, [progress] if main_process else [], resume=resume)
        finally:
            progress.close()
        if not main_process:
            return
        if report:
            _write_report_if_available(result)
    summary = {
        "model": result.config.model,
        "checkpoint": str(result.checkpoint_path),
        "best_epoch": result.best_epoch,
        "epochs": result.config.epochs,
        "train_seconds": round(result.train_seconds, 2),
        "val_accuracy": result.val_metrics.accuracy,
        "test_accuracy": result.test_metrics.accuracy,
        "test_loss": result.test_metrics.loss,
        "n": result.test_metrics.n,
    }
    if as_json:
        print(json.dumps(summary))
        return
    table = Table(title="digitocr train", show_header=False)
    table.add_row("model", f"{result.config.model} {result.config.model_kwargs or ''}")
    table.add_row("best epoch (on validation)", f"{result.best_epoch} of {result.config.epochs}")
    table.add_row("validation accuracy", f"{result.val_metrics.accuracy:.2%}")
    table.add_row("test accuracy", f"{result.test_metrics.accuracy:.2%} (n={result.test_metrics.n})")
    table.add_row("training time", f"{result.train_seconds:.1f} s on {result.extra.get('device', '?')}")
    table.add_row("saved", f"{result.checkpoint_path} · {result.run_dir / 'metrics.json'}")
    Console().print(table)


def _config_line(config) -> str:
    fields = ("epochs", "batch_size", "lr", "optimizer", "schedule", "label_smoothing", "augment", "ema", "seed")
    return "config: " + ", ".join(f"{k}={getattr(config, k)}" for k in fields) + f", model_kwargs={config.model_kwargs}"


def _write_report_if_available(result) -> None:
    """The HTML report needs the plots extra (matplotlib); without it training still succeeds."""
    try:
        from digitocr import report as report_module
    except ImportError:
        console.print("No report written: it needs matplotlib (pip install 'digitocr[plots]').")
        return
    write = getattr(report_module, "write_run_report", None)
    if write is not None:
        write(result)


@app.command()
def evaluate(
    checkpoints: Annotated[list[Path], typer.Argument(help="One checkpoint, or several to evaluate as an ensemble.")],
    data_dir: DataDirOption = None,
    split: Annotated[str, typer.Option(help="test (default) or val.")] = "test",
    tta: Annotated[bool, typer.Option(help="Average predictions over small shifts (test-time augmentation).")] = False,
    device: DeviceOption = "auto",
    as_json: JsonOption = False,
) -> None:
    """Evaluate a checkpoint (or an ensemble of several) on the MNIST test set."""
    from digitocr.checkpoint import load_checkpoint, model_from_checkpoint
    from digitocr.data import load_mnist, load_splits
    from digitocr.evaluate import evaluate as evaluate_models
    from digitocr.train import select_device

    with user_errors():
        if split not in ("test", "val"):
            raise DigitOCRError(f"--split must be test or val, got {split!r}.")
        torch_device = select_device(device)
        ckpts = [load_checkpoint(path) for path in checkpoints]
        models = [model_from_checkpoint(c).to(torch_device) for c in ckpts]
        if split == "test":
            images, labels = load_mnist(data_dir, train=False)
        else:
            config = ckpts[0].get("config", {})
            splits = load_splits(data_dir, config.get("val_size", 5000), config.get("split_seed", 0))
            images, labels = splits.val_images, splits.val_labels
        metrics = evaluate_models(models, images, labels, device=torch_device, tta=tta)
    if as_json:
        print(json.dumps({**metrics.to_dict(), "split": split, "checkpoints": [str(p) for p in checkpoints]}))
        return
    table = Table(title=f"digitocr evaluate ({split}, {len(models)} model{'s' if len(models) > 1 else ''})")
    table.add_column("class", justify="right")
    for name in ("precision", "recall", "F1", "support"):
        table.add_column(name, justify="right")
    for row in metrics.per_class:
        table.add_row(
            str(row["class"]),
            f"{row['precision']:.4f}",
            f"{row['recall']:.4f}",
            f"{row['f1']:.4f}",
            str(row["support"]),
        )
    out = Console()
    out.print(table)
    out.print(
        f"accuracy [bold]{metrics.accuracy:.2%}[/bold] · loss {metrics.loss:.4f} · ECE {metrics.ece:.4f} · n={metrics.n}"
    )


def _needs_plots():
    """Import :mod:`digitocr.report`, or say how to install matplotlib (the ``plots`` extra)."""
    try:
        from digitocr import report as report_module
    except ImportError as exc:
        raise DigitOCRError(f"This command needs matplotlib ({exc}). Install it with: pip install 'digitocr[plots]'") from exc
    return report_module


@app.command()
def explore(
    out: Annotated[Path, typer.Option(help="Folder for the PNG figures and summary.json.")],
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Summarize MNIST (splits, shapes, dtype, pixel mean/std, class balance) and write exploration figures."""
    with user_errors():
        report_module = _needs_plots()
        found = report_module.explore(data_dir, out)
    if as_json:
        print(json.dumps(found.summary))
        return
    splits = found.summary["splits"]
    table = Table(title="MNIST splits (pixels scaled to [0, 1])")
    for name in ("split", "images", "labels", "pixel mean ± std", "class share"):
        table.add_column(name, justify="left" if name == "split" else "right")
    for name, s in splits.items():
        table.add_row(
            name,
            f"{'×'.join(map(str, s['images_shape']))} {s['images_dtype']}",
            f"{'×'.join(map(str, s['labels_shape']))} {s['labels_dtype']}",
            f"{s['pixel_mean']:.4f} ± {s['pixel_std']:.4f}",
            f"{s['class_fraction_min']:.1%}–{s['class_fraction_max']:.1%}",
        )
    balance = Table(title="Images per class")
    balance.add_column("split")
    for c in range(10):
        balance.add_column(str(c), justify="right")
    for name, s in splits.items():
        balance.add_row(name, *map(str, s["class_counts"]))
    out_console = Console()
    out_console.print(table)
    out_console.print(balance)
    out_console.print(f"figures and summary.json in {out}:", highlight=False)
    for path in found.figures.values():
        out_console.print(f"  {path}", highlight=False)


@app.command()
def report(
    checkpoint: Annotated[Path, typer.Argument(help="A model.pt written by `digitocr train`.")],
    out: Annotated[Path, typer.Option(help="Folder for report.html and report.json.")],
    data_dir: DataDirOption = None,
    device: DeviceOption = "cpu",
) -> None:
    """Evaluate a checkpoint on the MNIST test set and write a self-contained report.html plus report.json."""
    from digitocr.train import select_device

    with user_errors():
        report_module = _needs_plots()
        path = report_module.write_report(checkpoint, out, data_dir, device=select_device(device))
        data = json.loads((path.parent / report_module.REPORT_JSON).read_text())
    Console().print(
        f"test accuracy [bold]{data['test']['accuracy']:.2%}[/bold] · ECE {data['test']['ece']:.4f} · "
        f"report: {path} · {path.parent / report_module.REPORT_JSON}",
        highlight=False,
    )


@app.command("models")
def list_models() -> None:
    """List the registered models."""
    from digitocr.models import MODELS

    table = Table(title="digitocr models")
    table.add_column("name")
    table.add_column("what it is")
    for spec in MODELS.values():
        table.add_row(spec.name, spec.summary)
    Console().print(table)


def main() -> None:
    """Entry point of the ``digitocr`` script: user errors are one line, never a traceback."""
    try:
        app()
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/yellow]")
        sys.exit(130)
    except Exception as exc:  # a bug: say so briefly unless debugging
        if os.environ.get(DEBUG_ENV):
            raise
        console.print(
            f"[red]internal error:[/red] {type(exc).__name__}: {exc}. Set {DEBUG_ENV}=1 for the traceback "
            f"and please report it.",
            highlight=False,
        )
        sys.exit(2)


if __name__ == "__main__":
    main()
