"""Training: ``fit(config) -> TrainResult``.

One loop serves every model and preset: the optimizer, the learning-rate schedule, label
smoothing, batch augmentation, an exponential moving average of the weights, validation after
every epoch with the best epoch kept, a checkpoint per epoch, exact resume (also mid-epoch, after
Ctrl-C), mixed precision on CUDA, and DDP when launched by ``torchrun``. It prints nothing: progress
goes to :class:`Callback` objects, results come back in :class:`TrainResult`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from digitocr.checkpoint import atomic_write_text, load_checkpoint, make_checkpoint, save_checkpoint
from digitocr.config import TrainConfig
from digitocr.data import MNISTSplits, TensorBatches, load_splits, make_augment, make_restyle
from digitocr.errors import CheckpointError, DigitOCRError
from digitocr.evaluate import Metrics, evaluate
from digitocr.models import build_model

MODEL_FILE = "model.pt"
METRICS_FILE = "metrics.json"
CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"
INTERRUPTED_FILE = "interrupted.pt"
# Fields that may differ when a run is resumed: where and how it runs, not what it computes.
RUNTIME_FIELDS = ("device", "data_dir", "download", "out_dir", "num_threads", "keep_checkpoints")


class Callback:
    """Hooks for progress reporting; every method is optional."""

    def on_train_begin(self, config: TrainConfig, steps_per_epoch: int, start_epoch: int) -> None: ...

    def on_batch_end(self, epoch: int, batch: int, loss: float | None) -> None: ...

    def on_epoch_end(self, record: dict[str, Any]) -> None: ...

    def on_train_end(self, result: TrainResult) -> None: ...


class TrainingInterrupted(DigitOCRError):
    """Training stopped on Ctrl-C after saving its state; ``--resume`` continues it."""

    def __init__(self, message: str, checkpoint: Path) -> None:
        super().__init__(message)
        self.checkpoint = checkpoint


@dataclass
class TrainResult:
    model: nn.Module  # the best epoch's weights (the EMA's, if enabled), in eval mode
    config: TrainConfig
    history: list[dict[str, Any]]
    best_epoch: int
    val_metrics: Metrics
    run_dir: Path
    checkpoint_path: Path
    train_seconds: float
    test_metrics: Metrics | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def is_main_process() -> bool:
    """True unless this is a non-zero rank of a ``torchrun`` launch (only rank 0 writes and prints)."""
    return int(os.environ.get("RANK", "0")) == 0


def select_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple's MPS, then the CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DigitOCRError("device 'cuda' was asked for but no CUDA GPU is available; use --device cpu or auto.")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise DigitOCRError("device 'mps' was asked for but MPS is not available; use --device cpu or auto.")
    return device


def lr_at(config: TrainConfig, step: int, total_steps: int, steps_per_epoch: int) -> float:
    """The learning rate at optimizer step ``step`` (a pure function, so resuming needs no scheduler state).

    ``onecycle`` follows Smith & Topin (2018) as torch's OneCycleLR does: linear warm-up from lr/25 to
    lr, then cosine annealing to lr/25e4. ``cosine``: linear warm-up from 0, cosine to 0.
    ``step``: lr · gamma^epoch (the PyTorch MNIST example). ``constant``: lr.
    """
    lr = config.lr
    warm = int(config.warmup * total_steps)
    progress = (step - warm) / max(total_steps - warm, 1)
    cosine = 0.5 * (1 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))
    if config.schedule == "onecycle":
        start, end = lr / 25, lr / 25e4
        if step < warm:
            return start + (lr - start) * step / warm
        return end + (lr - end) * cosine
    if config.schedule == "cosine":
        if step < warm:
            return lr * (step + 1) / warm
        return lr * cosine
    if config.schedule == "step":
        return lr * config.step_gamma ** (step // steps_per_epoch)
    return lr


def make_optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    params = model.parameters()
    # The fused Adam kernels (CPU and CUDA) do the whole update in one pass: ~15% faster steps for the MLP.
    fused = next(model.parameters()).device.type in ("cpu", "cuda")
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay, fused=fused)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, fused=fused)
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=config.lr, momentum=config.momentum, nesterov=True, weight_decay=config.weight_decay
        )
    return torch.optim.Adadelta(params, lr=config.lr, weight_decay=config.weight_decay)


@dataclass
class _Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _init_distributed(config: TrainConfig) -> tuple[_Dist, torch.device]:
    """Under ``torchrun`` (WORLD_SIZE > 1) join the process group; otherwise a single process."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return _Dist(), select_device(config.device)
    import torch.distributed as dist

    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = select_device(config.device)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return _Dist(dist.get_rank(), dist.get_world_size(), local_rank), device


def _ema_with_warmup(decay: float):
    """EMA update whose decay ramps up as min(decay, (1 + n) / (10 + n)) over the first updates (the
    warm-up of TensorFlow's ExponentialMovingAverage ``num_updates``): with a fixed 0.999 the average
    would still be mostly the random initial weights after the first epochs of a short run."""

    @torch.no_grad()
    def update(averaged: list[torch.Tensor], current: list[torch.Tensor], num_averaged: torch.Tensor) -> None:
        n = float(num_averaged)
        weight = 1.0 - min(decay, (1.0 + n) / (10.0 + n))
        for avg, cur in zip(averaged, current, strict=True):
            if avg.is_floating_point():
                avg.lerp_(cur, weight)
            else:  # integer buffers (BatchNorm's num_batches_tracked) are copied
                avg.copy_(cur)

    return update


class _StopFlag:
    """Turns the first Ctrl-C into a request to stop after the current batch; a second one aborts."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> _StopFlag:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _rng_state(device: torch.device) -> dict[str, torch.Tensor]:
    state = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict[str, torch.Tensor], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def _find_resume_point(run_dir: Path) -> Path | None:
    folder = run_dir / CHECKPOINT_DIR
    candidates = sorted(folder.glob("epoch-*.pt"))
    interrupted = folder / INTERRUPTED_FILE
    best: tuple[tuple[int, int], Path] | None = None
    for path in [*candidates, interrupted]:
        if not path.is_file():
            continue
        try:
            state = load_checkpoint(path)["extra"]["train_state"]
        except (CheckpointError, KeyError):
            continue  # a damaged file is skipped; an older intact one is used instead
        position = (state["epoch"], state["batch"])
        if best is None or position > best[0]:
            best = (position, path)
    return best[1] if best else None


def _prune_checkpoints(run_dir: Path, keep: int) -> None:
    if keep <= 0:
        return
    for old in sorted((run_dir / CHECKPOINT_DIR).glob("epoch-*.pt"))[:-keep]:
        with contextlib.suppress(OSError):
            old.unlink()


def fit(
    config: TrainConfig,
    callbacks: Iterable[Callback] = (),
    *,
    resume: bool = False,
    splits: MNISTSplits | None = None,
) -> TrainResult:
    """Train ``config.model`` on MNIST's training split, validating after every epoch.

    Writes ``checkpoints/epoch-NNN.pt`` (full training state) every epoch and ``model.pt`` (the
    best epoch on validation) into ``config.out_dir``. With ``resume=True`` it continues the run in
    ``config.out_dir`` from its latest checkpoint and reaches the same weights as an uninterrupted run.
    Raises :class:`TrainingInterrupted` after saving, on Ctrl-C.
    """
    callbacks = list(callbacks)
    run_dir = Path(config.out_dir)
    resume_state: dict[str, Any] | None = None
    if resume:
        point = _find_resume_point(run_dir)
        if point is None:
            raise DigitOCRError(f"Nothing to resume in {run_dir}: no checkpoints/epoch-*.pt. Train without --resume.")
        ckpt = load_checkpoint(point)
        stored = TrainConfig.from_dict(ckpt["config"])
        config = stored.replace(**{k: getattr(config, k) for k in RUNTIME_FIELDS})
        resume_state = ckpt["extra"]["train_state"]
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    dist_info, device = _init_distributed(config)

    if splits is None:
        splits = load_splits(config.data_dir, config.val_size, config.split_seed, download=config.download)
    train_images, train_labels = splits.train_images, splits.train_labels
    if config.train_limit:
        train_images, train_labels = train_images[: config.train_limit], train_labels[: config.train_limit]
    if config.round_trip:
        train_images = _round_tripped(train_images, config.round_trip, config.seed, dist_info, device)

    torch.manual_seed(config.seed)
    # The convolutional models keep their weights and inputs channels-last themselves (models.py).
    raw_model = build_model(config.model, **config.model_kwargs).to(device)
    ema = None
    if config.ema:
        from torch.optim.swa_utils import AveragedModel

        ema = AveragedModel(raw_model, multi_avg_fn=_ema_with_warmup(config.ema), use_buffers=True)
    model: nn.Module = raw_model
    if dist_info.world_size > 1:
        model = nn.parallel.DistributedDataParallel(
            raw_model, device_ids=[device.index] if device.type == "cuda" else None
        )
    step_model = torch.compile(model) if config.compile else model
    optimizer = make_optimizer(config, raw_model)
    criterion = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    per_rank_batch = max(config.batch_size // dist_info.world_size, 1)
    batches = TensorBatches(
        train_images,
        train_labels,
        per_rank_batch,
        shuffle=True,
        seed=config.seed,
        device=device,
        drop_last=len(train_labels) > per_rank_batch * dist_info.world_size,
        augment=make_augment(config.augment, config.augment_strength),
        restyle=make_restyle(config.continental),
        rank=dist_info.rank,
        world_size=dist_info.world_size,
    )
    steps_per_epoch = len(batches)
    outliers = _outlier_batches(config, device, train_images, dist_info) if config.outlier_batch else None
    total_steps = steps_per_epoch * config.epochs
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if config.amp and device.type == "cuda"
        else contextlib.nullcontext()
    )

    history: list[dict[str, Any]] = []
    best: dict[str, Any] = {"epoch": -1, "val_accuracy": -1.0, "val_loss": math.inf, "state_dict": None}
    start_epoch, start_batch, elapsed = 0, 0, 0.0
    partial = {"loss_sum": 0.0, "correct": 0, "seen": 0}
    if resume_state is not None:
        raw_model.load_state_dict(resume_state["model"])
        optimizer.load_state_dict(resume_state["optimizer"])
        if ema is not None:
            ema.load_state_dict(resume_state["ema"])
        history = list(resume_state["history"])
        best = dict(resume_state["best"])
        start_epoch, start_batch = resume_state["epoch"], resume_state["batch"]
        partial = dict(resume_state["partial"])
        elapsed = resume_state["elapsed"]
        _set_rng_state(resume_state["rng"], device)

    eval_model = ema.module if ema is not None else raw_model

    def train_state(epoch: int, batch: int) -> dict[str, Any]:
        return {
            "epoch": epoch,
            "batch": batch,
            "model": {k: v.detach().cpu() for k, v in raw_model.state_dict().items()},
            "optimizer": optimizer.state_dict(),
            "ema": ema.state_dict() if ema is not None else None,
            "history": history,
            "best": best,
            "partial": partial,
            "elapsed": elapsed,
            "rng": _rng_state(device),
        }

    def snapshot(path: Path, epoch: int, batch: int) -> None:
        payload = make_checkpoint(
            eval_model,
            config.model,
            config.model_kwargs,
            config=config.to_dict(),
            history=history,
            extra={"train_state": train_state(epoch, batch)},
        )
        save_checkpoint(path, payload)

    for cb in callbacks:
        cb.on_train_begin(config, steps_per_epoch, start_epoch)
    if dist_info.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        config.to_file(run_dir / CONFIG_FILE)

    with _StopFlag() as stop:
        for epoch in range(start_epoch, config.epochs):
            tick = time.perf_counter()
            batches.set_epoch(epoch)
            if outliers is not None:
                outliers.set_epoch(epoch)
            model.train()
            loss_sum = torch.tensor(partial["loss_sum"], device=device)
            correct = torch.tensor(partial["correct"], device=device)
            seen = partial["seen"]
            first = start_batch if epoch == start_epoch else 0
            for b, (x, y) in enumerate(batches.iter_from(first), start=first):
                for group in optimizer.param_groups:
                    group["lr"] = lr_at(config, epoch * steps_per_epoch + b, total_steps, steps_per_epoch)
                with autocast:
                    if outliers is None:
                        logits = step_model(x)
                        loss = criterion(logits.float(), y)
                    else:  # digits and non-digits in one forward pass, so BatchNorm sees both (as in the paper)
                        both = step_model(torch.cat([x, outliers.batch(b)])).float()  # (B + B_out, 10)
                        logits = both[: len(y)]
                        # cross-entropy to the uniform distribution: minus the mean over classes of log-softmax
                        uniform_ce = -F.log_softmax(both[len(y) :], dim=1).mean()
                        loss = criterion(logits, y) + config.outlier_weight * uniform_ce
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                if ema is not None:
                    ema.update_parameters(raw_model)
                loss_sum += loss.detach() * len(y)
                correct += (logits.argmax(1) == y).sum()
                seen += len(y)
                for cb in callbacks:
                    cb.on_batch_end(epoch, b, None)
                if stop.requested:
                    partial = {"loss_sum": float(loss_sum), "correct": int(correct), "seen": seen}
                    elapsed += time.perf_counter() - tick
                    path = run_dir / CHECKPOINT_DIR / INTERRUPTED_FILE
                    if dist_info.is_main:
                        snapshot(path, epoch, b + 1)
                    raise TrainingInterrupted(
                        f"Training interrupted in epoch {epoch + 1}, batch {b + 1}; state saved to {path}. "
                        f"Continue with `digitocr train --resume --out {run_dir}`.",
                        path,
                    )
            partial = {"loss_sum": 0.0, "correct": 0, "seen": 0}
            val = evaluate(eval_model, splits.val_images, splits.val_labels, batch_size=config.eval_batch_size)
            elapsed += time.perf_counter() - tick
            record = {
                "epoch": epoch + 1,
                "train_loss": float(loss_sum) / max(seen, 1),
                "train_accuracy": int(correct) / max(seen, 1),
                "val_loss": val.loss,
                "val_accuracy": val.accuracy,
                "lr": lr_at(config, (epoch + 1) * steps_per_epoch - 1, total_steps, steps_per_epoch),
                "seconds": elapsed,
            }
            history.append(record)
            if (val.accuracy, -val.loss) > (best["val_accuracy"], -best["val_loss"]):
                best = {
                    "epoch": epoch + 1,
                    "val_accuracy": val.accuracy,
                    "val_loss": val.loss,
                    "state_dict": {k: v.detach().cpu().clone() for k, v in eval_model.state_dict().items()},
                }
            if dist_info.is_main:
                snapshot(run_dir / CHECKPOINT_DIR / f"epoch-{epoch + 1:03d}.pt", epoch + 1, 0)
                _prune_checkpoints(run_dir, config.keep_checkpoints)
            for cb in callbacks:
                cb.on_epoch_end(record)

    with contextlib.suppress(OSError):
        (run_dir / CHECKPOINT_DIR / INTERRUPTED_FILE).unlink()
    eval_model.load_state_dict(best["state_dict"])
    final = eval_model.to("cpu").eval()
    val_metrics = evaluate(final, splits.val_images, splits.val_labels, batch_size=config.eval_batch_size)
    extra = {
        "best_epoch": best["epoch"],
        "train_seconds": elapsed,
        "device": str(device),
        "world_size": dist_info.world_size,
    }
    checkpoint_path = run_dir / MODEL_FILE
    if dist_info.is_main:
        save_checkpoint(
            checkpoint_path,
            make_checkpoint(
                final,
                config.model,
                config.model_kwargs,
                config=config.to_dict(),
                metrics={"val": val_metrics.to_dict()},
                history=history,
                extra=extra,
            ),
        )
    result = TrainResult(
        model=final,
        config=config,
        history=history,
        best_epoch=best["epoch"],
        val_metrics=val_metrics,
        run_dir=run_dir,
        checkpoint_path=checkpoint_path,
        train_seconds=elapsed,
        extra=extra,
    )
    for cb in callbacks:
        cb.on_train_end(result)
    if dist_info.world_size > 1:
        import torch.distributed as dist

        dist.destroy_process_group()
    return result


class _OutlierBatches:
    """Batch ``b`` of epoch ``e`` of synthetic non-digits, a pure function of (seed, e, b) like the digits'."""

    def __init__(self, images: torch.Tensor, config: TrainConfig, device: torch.device) -> None:
        self.batches = TensorBatches(
            images,
            torch.zeros(len(images), dtype=torch.long),
            config.outlier_batch,
            shuffle=True,
            seed=config.seed + 1,
            device=device,
            drop_last=True,
            augment=make_augment(config.augment, config.augment_strength),
        )
        self._iter: Iterator | None = None
        self._next = 0

    def set_epoch(self, epoch: int) -> None:
        self.batches.set_epoch(epoch)
        self._iter = None

    def batch(self, b: int) -> torch.Tensor:
        k = b % len(self.batches)
        if self._iter is None or k != self._next:  # a new epoch, a wrap-around, or a resumed epoch
            self._iter = self.batches.iter_from(k)
        self._next = k + 1
        x, _ = next(self._iter)
        return x


def _outlier_batches(
    config: TrainConfig, device: torch.device, train_images: torch.Tensor, dist_info: _Dist | None = None
) -> _OutlierBatches:
    from digitocr.outliers import synthetic_outliers, touching_pairs

    count = max(config.outlier_batch * 64, 4096)  # a bank of distinct images, reshuffled every epoch
    bank = synthetic_outliers(count, seed=config.seed)
    pairs = round(config.outlier_pairs * count)
    if pairs:  # made from this run's training digits only, never from validation or test
        bank[:pairs] = touching_pairs(train_images.cpu(), pairs, seed=config.seed)
    if config.round_trip:
        bank = _round_tripped(bank, config.round_trip, config.seed + 1, dist_info, device)
    return _OutlierBatches(bank, config, device)


def _round_tripped(
    images: torch.Tensor, share: float, seed: int, dist_info: _Dist | None = None, device: torch.device | None = None
) -> torch.Tensor:
    """``images`` with a seeded ``share`` of them replaced by :func:`digitocr.photo.round_trip`.

    Under ``torchrun`` each process reads back every ``world_size``-th of them and the processes
    gather the rest (``device`` is where the collective runs: a CUDA device for NCCL); the result is
    the one a single process computes.
    """
    from digitocr.photo import round_trip

    chosen = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[: round(share * len(images))]
    images = images.clone()
    world = dist_info.world_size if dist_info is not None else 1
    if world == 1:
        images[chosen] = round_trip(images[chosen].cpu(), seed=seed)[0].to(images.device)
        return images
    import torch.distributed as dist

    share_of = [torch.arange(r, len(chosen), world) for r in range(world)]
    mine = share_of[dist_info.rank]
    part = round_trip(images[chosen[mine]].cpu(), seed=seed, ids=mine.tolist())[0]
    size = len(share_of[0])  # the largest share: all_gather wants tensors of one shape
    padded = torch.zeros((size, *images.shape[1:]), dtype=images.dtype)
    padded[: len(part)] = part
    padded = padded.to(device or torch.device("cpu"))
    gathered = [torch.empty_like(padded) for _ in range(world)]
    dist.all_gather(gathered, padded)
    for rank, positions in enumerate(share_of):
        images[chosen[positions]] = gathered[rank][: len(positions)].to(images.device)
    return images


def fit_and_test(
    config: TrainConfig,
    callbacks: Iterable[Callback] = (),
    *,
    resume: bool = False,
    splits: MNISTSplits | None = None,
) -> TrainResult:
    """The main job: :func:`fit`, then evaluate the chosen model once on the test set and save
    ``model.pt`` with both validation and test metrics, and ``metrics.json`` beside it."""
    if splits is None:
        splits = load_splits(config.data_dir, config.val_size, config.split_seed, download=config.download)
    result = fit(config, callbacks, resume=resume, splits=splits)
    result.test_metrics = evaluate(
        result.model, splits.test_images, splits.test_labels, batch_size=result.config.eval_batch_size
    )
    if is_main_process():
        ckpt = load_checkpoint(result.checkpoint_path)
        ckpt["metrics"] = {"val": result.val_metrics.to_dict(), "test": result.test_metrics.to_dict()}
        save_checkpoint(result.checkpoint_path, ckpt)
        summary = {
            "model": result.config.model,
            "checkpoint": str(result.checkpoint_path),
            "best_epoch": result.best_epoch,
            "train_seconds": result.train_seconds,
            "val": result.val_metrics.to_dict(),
            "test": result.test_metrics.to_dict(),
            "history": result.history,
            "config": result.config.to_dict(),
        }
        atomic_write_text(result.run_dir / METRICS_FILE, json.dumps(summary, indent=2) + "\n")
    return result
