"""Saving and loading checkpoints, safely.

A checkpoint is a dict of plain Python types and tensors only (no pickled objects), so it loads
with ``torch.load(weights_only=True)``: ``format``, ``format_version``, ``model`` (registry name),
``model_kwargs``, ``state_dict``, ``normalization``, ``config``, ``metrics``, ``history``,
``versions`` and ``extra``. Training checkpoints add the optimizer, scheduler, EMA and RNG states.
Every file is written atomically: to a temporary file beside the target, then renamed over it.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import os
import platform
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import torch
from torch import nn

from digitocr.data import MNIST_MEAN, MNIST_STD
from digitocr.errors import CheckpointError

FORMAT = "digitocr-checkpoint"
FORMAT_VERSION = 1
PRETRAINED_FILE = "digitocr-cnn.pt"


def pretrained_path() -> Path:
    """Where the model shipped inside the package lives."""
    return Path(__file__).parent / "pretrained" / PRETRAINED_FILE


def versions() -> dict[str, str]:
    import torchvision

    from digitocr import __version__

    return {
        "digitocr": __version__,
        "torch": str(torch.__version__),
        "torchvision": str(torchvision.__version__),
        "python": platform.python_version(),
    }


def _atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> None:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise CheckpointError(f"Cannot write {path}: {exc.strerror or exc}. Choose a writable folder.") from exc
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the result the usual permissions
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            hint = "the disk is full; free some space" if exc.errno == errno.ENOSPC else "check the folder"
            raise CheckpointError(
                f"Cannot write {path}: {exc.strerror or exc} ({hint}); nothing was left half-written."
            ) from exc
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part."""
    _atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """``torch.save`` a checkpoint dict atomically."""
    path = Path(path)
    _atomic_write(path, lambda f: torch.save(payload, f))
    return path


def make_checkpoint(
    model: nn.Module,
    model_name: str,
    model_kwargs: dict[str, Any],
    *,
    config: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    weights_dtype: torch.dtype | None = None,
) -> dict[str, Any]:
    """The inference checkpoint of ``model``: weights plus everything needed to rebuild and judge it.

    ``weights_dtype`` (e.g. ``torch.float16``) stores the floating-point weights in that type, to halve
    a file that must stay small; :func:`model_from_checkpoint` loads them back into the model's own
    type (``load_state_dict`` converts), and integer buffers are kept as they are.
    """
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    if weights_dtype is not None:
        state = {k: v.to(weights_dtype) if v.is_floating_point() else v for k, v in state.items()}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": model_name,
        "model_kwargs": dict(model_kwargs),
        "state_dict": state,
        "normalization": {"mean": MNIST_MEAN, "std": MNIST_STD},
        "config": dict(config or {}),
        "metrics": dict(metrics or {}),
        "history": list(history or []),
        "versions": versions(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "extra": dict(extra or {}),
    }


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load a checkpoint safely (``weights_only=True``, onto the CPU) and check it is one of ours."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"Checkpoint {path} does not exist. Train one with `digitocr train --out DIR`.")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, foreign pickle, random bytes: torch raises many types
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"Cannot load {path}: it is truncated, corrupt or not a digitocr checkpoint ({reason[:200]}). "
            f"Use a model.pt written by `digitocr train`, or train again."
        ) from exc
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a PyTorch file but not a digitocr checkpoint (no '{FORMAT}' marker).")
    if ckpt.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} was written by a newer digitocr (format {ckpt['format_version']}); upgrade digitocr to load it."
        )
    return ckpt


def model_from_checkpoint(ckpt: dict[str, Any] | str | os.PathLike) -> nn.Module:
    """Rebuild the model of a checkpoint (a dict or a path), with its weights, in eval mode on the CPU."""
    from digitocr.models import build_model

    if not isinstance(ckpt, dict):
        ckpt = load_checkpoint(ckpt)
    model = build_model(ckpt["model"], **ckpt["model_kwargs"])
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as exc:
        raise CheckpointError(f"Checkpoint weights do not fit model {ckpt['model']!r}: {str(exc)[:300]}") from exc
    return model.eval()


def load_pretrained() -> nn.Module:
    """The model shipped with digitocr, ready for inference on the CPU."""
    path = pretrained_path()
    if not path.is_file():
        raise CheckpointError(
            f"The pretrained model is missing from this install ({path}). Reinstall digitocr, or pass a "
            f"checkpoint of your own with --model."
        )
    return model_from_checkpoint(path)
