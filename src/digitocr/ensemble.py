"""Saving several trained models as one ensemble checkpoint.

The ensemble is the registry model ``ensemble`` (:class:`digitocr.models.Ensemble`), whose kwargs
list the members' names and kwargs and whose ``state_dict`` holds every member's weights under
``members.<i>.``; :func:`digitocr.checkpoint.model_from_checkpoint` and everything built on it
(``predict``, ``evaluate``, the service) therefore load an ensemble file exactly like one model.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from digitocr.checkpoint import load_checkpoint, make_checkpoint, model_from_checkpoint, save_checkpoint
from digitocr.errors import CheckpointError, DigitOCRError
from digitocr.models import Ensemble

ENSEMBLE = "ensemble"


def build_ensemble(checkpoints: Sequence[dict[str, Any] | str | os.PathLike]) -> tuple[Ensemble, dict[str, Any]]:
    """The ensemble of the given checkpoints (dicts or paths), in eval mode on the CPU, and its kwargs."""
    if len(checkpoints) < 1:
        raise DigitOCRError("An ensemble needs at least one checkpoint.")
    ckpts = [c if isinstance(c, dict) else load_checkpoint(c) for c in checkpoints]
    norms = {tuple(sorted(c.get("normalization", {}).items())) for c in ckpts}
    if len(norms) > 1:
        raise CheckpointError("The checkpoints use different input normalizations; they cannot share one ensemble.")
    kwargs = {"members": [{"model": c["model"], "model_kwargs": dict(c["model_kwargs"])} for c in ckpts]}
    ensemble = Ensemble(**kwargs)
    for member, ckpt in zip(ensemble.members, ckpts, strict=True):
        member.load_state_dict(model_from_checkpoint(ckpt).state_dict())
    return ensemble.eval(), kwargs


def ensemble_checkpoint(
    checkpoints: Sequence[str | os.PathLike],
    *,
    metrics: dict[str, Any] | None = None,
    weights_dtype: torch.dtype | None = None,
) -> dict[str, Any]:
    """The checkpoint dict of the ensemble of ``checkpoints``: the members' weights, their files and
    their training configs (``extra["member_configs"]``: how each was trained, which also tells
    :class:`digitocr.predict.Recognizer` whether every member learned to refuse non-digits)."""
    ckpts = [load_checkpoint(c) for c in checkpoints]
    ensemble, kwargs = build_ensemble(ckpts)
    return make_checkpoint(
        ensemble,
        ENSEMBLE,
        kwargs,
        metrics=metrics,
        extra={
            "members": [str(Path(p)) for p in checkpoints],
            "member_configs": [dict(c.get("config") or {}) for c in ckpts],
        },
        weights_dtype=weights_dtype,
    )


def save_ensemble(
    checkpoints: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    metrics: dict[str, Any] | None = None,
) -> Path:
    """Write the ensemble of ``checkpoints`` to ``out`` as one checkpoint; return its path."""
    return save_checkpoint(out, ensemble_checkpoint(checkpoints, metrics=metrics))
