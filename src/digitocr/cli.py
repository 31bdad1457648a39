"""The ``digitocr`` command: parse arguments, build a config, call the library, present the result.

No logic lives here beyond that; every command has a library function behind it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
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
            if config.round_trip:  # a minute or two before the first epoch starts
                console.print("Writing training digits on paper and reading them back (round_trip) …")
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
    # What aims a preset at real handwriting, shown when it is on.
    fields += tuple(k for k in ("outlier_batch", "outlier_pairs", "continental", "round_trip") if getattr(config, k))
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
        raise DigitOCRError(
            f"This command needs matplotlib ({exc}). Install it with: pip install 'digitocr[plots]'"
        ) from exc
    return report_module


@app.command()
def explore(
    out: Annotated[Path, typer.Option(help="Folder for the PNG figures and summary.json.")],
    data_dir: DataDirOption = None,
    download: Annotated[bool, typer.Option(help="Download MNIST if it is not in the data folder yet.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Summarize MNIST (splits, shapes, dtype, pixel mean/std, class balance) and write exploration figures."""
    with user_errors():
        report_module = _needs_plots()
        found = report_module.explore(data_dir, out, download=download)
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
    out_console = Console()
    out_console.print(
        f"test accuracy [bold]{data['test']['accuracy']:.2%}[/bold] · loss {data['test']['loss']:.4f} · "
        f"ECE {data['test']['ece']:.4f} · n={data['test']['n']}",
        highlight=False,
    )
    out_console.print(f"wrote {path} and {report_module.REPORT_JSON}", highlight=False, soft_wrap=True)


@app.command()
def tune(
    model: Annotated[str, typer.Option(help="Model to tune: mlp, cnn-fast or cnn.")] = "cnn-fast",
    trials: Annotated[int, typer.Option(min=0, help="Trials to run now (added to those already stored).")] = 20,
    storage: Annotated[
        str | None, typer.Option(help="Optuna storage URL, e.g. sqlite:///tune.db; the study resumes from it.")
    ] = None,
    study: Annotated[str | None, typer.Option(help="Study name (default: digitocr-MODEL).")] = None,
    data_dir: DataDirOption = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="Epochs per trial (default: the model's preset).")] = None,
    train_limit: Annotated[int, typer.Option(min=0, help="Train each trial on the first N images (0: all).")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the TPE sampler and of the trials' training.")] = 0,
    out: Annotated[Path, typer.Option(help="Where to write the best config (JSON for `train --config`).")] = Path(
        "best.json"
    ),
    runs: Annotated[Path, typer.Option(help="Folder for the trials' run folders.")] = Path("runs/tune"),
    device: DeviceOption = "auto",
    threads: Annotated[int | None, typer.Option(help="CPU threads for torch.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Search learning rate, weight decay, batch size, widths, dropout and augmentation with Optuna, on validation."""
    with user_errors():
        from digitocr.tune import _import_optuna, base_config
        from digitocr.tune import tune as run_tune

        optuna = _import_optuna()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        base = base_config(
            model,
            **_overrides(epochs=epochs, num_threads=threads, data_dir=str(data_dir) if data_dir else None),
            train_limit=train_limit,
            seed=seed,
            device=device,
            out_dir=str(runs),
        )

        def report_trial(study_, trial) -> None:
            if as_json:
                return
            value = f"{trial.value:.4f}" if trial.value is not None else "-"
            console.print(
                f"trial {trial.number}: {trial.state.name.lower()} val {value} {trial.params}", highlight=False
            )

        result = run_tune(base, trials, storage, study_name=study, seed=seed, callbacks=[report_trial])
        result.best_config.to_file(out)
    summary = {
        "study": result.study.study_name,
        "trials": result.n_trials,
        "new_trials": result.n_new,
        "pruned": result.n_pruned,
        "best_val_accuracy": result.best_value,
        "best_params": result.study.best_trial.params,
        "config": str(out),
    }
    if as_json:
        print(json.dumps(summary))
        return
    console.print(
        f"best val accuracy [bold]{result.best_value:.2%}[/bold] (trial {result.study.best_trial.number} of "
        f"{result.n_trials}, {result.n_pruned} pruned) · config written to {out} · "
        f"train it with `digitocr train --config {out}`",
        highlight=False,
    )


@app.command()
def ensemble(
    checkpoints: Annotated[list[Path], typer.Argument(help="The member checkpoints (two or more).")],
    out: Annotated[Path, typer.Option(help="Where to write the ensemble checkpoint.")] = Path("ensemble.pt"),
    data_dir: DataDirOption = None,
    evaluate_on: Annotated[
        bool, typer.Option("--evaluate/--no-evaluate", help="Measure validation and test accuracy and store them.")
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Save several checkpoints as one ensemble file that loads like a single model (mean of probabilities)."""
    from digitocr.ensemble import build_ensemble, save_ensemble

    with user_errors():
        metrics: dict[str, Any] = {}
        if evaluate_on:
            from digitocr.data import load_splits
            from digitocr.evaluate import evaluate as evaluate_models

            model, _ = build_ensemble(checkpoints)
            splits = load_splits(data_dir)
            metrics = {
                "val": evaluate_models(model, splits.val_images, splits.val_labels).to_dict(),
                "test": evaluate_models(model, splits.test_images, splits.test_labels).to_dict(),
            }
        path = save_ensemble(checkpoints, out, metrics=metrics)
    summary = {
        "out": str(path),
        "members": len(checkpoints),
        **{f"{k}_accuracy": v["accuracy"] for k, v in metrics.items()},
    }
    if as_json:
        print(json.dumps(summary))
        return
    accuracy = " · ".join(f"{k} accuracy {v['accuracy']:.2%}" for k, v in metrics.items())
    console.print(
        f"ensemble of {len(checkpoints)} saved to {path}" + (f" · {accuracy}" if accuracy else ""), highlight=False
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


ModelOption = Annotated[Path | None, typer.Option("--model", help="Checkpoint to use (default: the pretrained model).")]
ImagesArgument = Annotated[
    list[Path], typer.Argument(help="Image files (PNG, JPEG, BMP, TIFF, WebP; HEIC with the heic extra).")
]


def _per_file(images: list[Path], work) -> tuple[list[dict[str, Any]], int]:
    """Run ``work(path) -> dict`` on each file; a failing file gives an error entry, the others still run."""
    results, failed = [], 0
    for path in images:
        try:
            results.append({"file": str(path), **work(path)})
        except DigitOCRError as exc:
            failed += 1
            console.print(f"[red]error:[/red] {path}: {exc}", highlight=False, soft_wrap=True)
            results.append({"file": str(path), "error": str(exc)})
    return results, failed


def _print_per_file(
    results: list[dict[str, Any]],
    failed: int,
    *,
    as_json: bool,
    defaults: dict[str, Any],
    title: str,
    columns: tuple[str, ...],
    row: Callable[[dict[str, Any]], tuple[str, ...]],
) -> None:
    """Print the per-file results of ``predict`` or ``read``: one JSON array, where a file that failed
    still has the documented keys (``defaults``) plus "error", or a table; exit 1 if any file failed."""
    if as_json:
        for r in results:
            for key, value in defaults.items():
                r.setdefault(key, value)
        print(json.dumps(results))
    else:
        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for r in results:
            table.add_row(*row(r))
        Console().print(table)
    if failed:
        raise typer.Exit(1)


@app.command()
def predict(
    images: ImagesArgument,
    model: ModelOption = None,
    threshold: Annotated[
        float | None, typer.Option(help="Refuse below this calibrated confidence (default: the library's).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array on stdout.")] = False,
) -> None:
    """Recognize the single digit in each image, or say why it is not one (digit null)."""
    from digitocr.predict import DEFAULT_REJECT_THRESHOLD, Recognizer

    with user_errors():
        recognizer = Recognizer(model, reject_threshold=DEFAULT_REJECT_THRESHOLD if threshold is None else threshold)

    def work(path: Path) -> dict[str, Any]:
        return recognizer.predict(path)[0].to_dict()

    def row(r: dict[str, Any]) -> tuple[str, ...]:
        digit = "-" if r.get("digit") is None else str(r["digit"])
        confidence = "" if r.get("confidence") is None else f"{r['confidence']:.1%}"
        return r["file"], digit, confidence, r.get("error") or r.get("reason") or ""

    results, failed = _per_file(images, work)
    _print_per_file(
        results,
        failed,
        as_json=as_json,
        defaults={"digit": None, "confidence": None, "probabilities": None, "reason": None},
        title="digitocr predict",
        columns=("file", "digit", "confidence", "note"),
        row=row,
    )


@app.command()
def read(
    images: ImagesArgument,
    model: ModelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array on stdout.")] = False,
    annotate: Annotated[
        Path | None, typer.Option(help="Write a copy of each image with boxes and digits drawn into this folder.")
    ] = None,
) -> None:
    """Read the number written on one line of each image: its digits left to right, with boxes (several
    lines one above another are read line by line)."""
    from digitocr.predict import Recognizer
    from digitocr.predict import annotate as draw_annotation

    with user_errors():
        recognizer = Recognizer(model)
        if annotate is not None:
            try:
                annotate.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DigitOCRError(
                    f"Cannot create {annotate}: {exc.strerror or exc}. Choose a writable folder."
                ) from exc

    def work(path: Path) -> dict[str, Any]:
        reading = recognizer.read(path)
        out = reading.to_dict()
        if annotate is not None:
            target = annotate / f"{path.stem}.annotated.png"
            try:
                draw_annotation(path, reading).save(target)
            except OSError as exc:
                raise DigitOCRError(f"Cannot write {target}: {exc.strerror or exc}.") from exc
            out["annotated"] = str(target)
        return out

    def row(r: dict[str, Any]) -> tuple[str, ...]:
        digits = r.get("digits") or []
        low = f"{min(d['confidence'] for d in digits):.1%}" if digits else ""
        return r["file"], r.get("text", ""), low, r.get("error") or r.get("annotated") or ""

    results, failed = _per_file(images, work)
    _print_per_file(
        results,
        failed,
        as_json=as_json,
        defaults={"text": "", "lines": [], "digits": []},
        title="digitocr read",
        columns=("file", "text", "confidence (lowest digit)", "note"),
        row=row,
    )


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
