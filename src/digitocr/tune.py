"""Hyper-parameter and architecture search over :class:`TrainConfig` with Optuna.

Each trial draws learning rate, weight decay, batch size, label smoothing, augmentation strength and
the model's widths and dropout from a per-model search space, trains with the ordinary
:func:`digitocr.train.fit` (no second training loop), and is scored by its best validation accuracy
— never the test set. After every epoch the trial reports its validation accuracy and Optuna's
``MedianPruner`` stops trials that fall behind the median of earlier ones at the same epoch. The
study lives in an Optuna storage (``sqlite:///tune.db``), so running the same command again
resumes it and adds trials. The best trial's config comes back as a :class:`TrainConfig` that
``digitocr train --config FILE`` accepts once written with :meth:`TrainConfig.to_file`.

Optuna is an optional dependency: ``pip install 'digitocr[tune]'``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digitocr.config import TrainConfig, config_from_preset
from digitocr.data import MNISTSplits, load_splits
from digitocr.errors import DigitOCRError
from digitocr.train import Callback, fit

if TYPE_CHECKING:  # optuna is imported lazily: it is an optional extra
    import optuna

# The preset each model's search starts from (its schedule, augmentation and epochs); one per model
# of MODEL_SPACES.
BASE_PRESET = {"mlp": "original", "cnn-fast": "fast", "cnn": "accurate"}
# Fields reset to their defaults in the best config: they say where and how a trial ran, not what it learned.
RESET_FIELDS = ("out_dir", "data_dir", "device", "num_threads", "train_limit", "download", "preset")


def _common_space(trial: optuna.Trial, base: TrainConfig) -> dict[str, Any]:
    sgd = base.optimizer == "sgd"
    values: dict[str, Any] = {
        "lr": trial.suggest_float("lr", 1e-2, 0.5, log=True)
        if sgd
        else trial.suggest_float("lr", 3e-4, 1e-2, log=True),
        "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True),
        "batch_size": trial.suggest_categorical("batch_size", [64, 128, 256, 512]),
        "label_smoothing": trial.suggest_float("label_smoothing", 0.0, 0.2),
    }
    if base.augment != "none":
        values["augment_strength"] = trial.suggest_float("augment_strength", 0.0, 1.5)
    return values


def _mlp_space(trial: optuna.Trial) -> dict[str, Any]:
    layers = trial.suggest_int("layers", 1, 3)
    width = trial.suggest_categorical("width", [128, 256, 512, 1024])
    return {"hidden": [width] * layers, "dropout": trial.suggest_float("dropout", 0.0, 0.5)}


def _cnn_fast_space(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "channels": [trial.suggest_categorical("c1", [8, 16, 32]), trial.suggest_categorical("c2", [16, 32, 64])],
        "hidden": trial.suggest_categorical("hidden", [64, 128, 256]),
    }


def _cnn_space(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "channels": [trial.suggest_categorical("c1", [16, 32, 48]), trial.suggest_categorical("c2", [32, 64, 96])],
        "hidden": trial.suggest_categorical("hidden", [128, 256, 512]),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
    }


# Model name → the part of the search space that is the architecture (its ``model_kwargs``).
MODEL_SPACES: dict[str, Callable[[optuna.Trial], dict[str, Any]]] = {
    "mlp": _mlp_space,
    "cnn-fast": _cnn_fast_space,
    "cnn": _cnn_space,
}


def _check_tunable(model: str) -> None:
    if model not in MODEL_SPACES:
        raise DigitOCRError(f"No search space for model {model!r}. Tunable models: {', '.join(MODEL_SPACES)}.")


def base_config(model: str, **overrides: Any) -> TrainConfig:
    """The config a search over ``model`` starts from: its preset (see ``BASE_PRESET``) plus overrides."""
    _check_tunable(model)
    return config_from_preset(BASE_PRESET[model], **overrides)


def suggest_config(trial: optuna.Trial, base: TrainConfig) -> TrainConfig:
    """The trial's config: ``base`` with the sampled training fields and model kwargs."""
    values = _common_space(trial, base)
    values["model_kwargs"] = MODEL_SPACES[base.model](trial)
    return base.replace(**values)


class PruningCallback(Callback):
    """Reports validation accuracy to Optuna after each epoch and stops the trial when it is pruned."""

    def __init__(self, trial: optuna.Trial) -> None:
        self.trial = trial

    def on_epoch_end(self, record: dict[str, Any]) -> None:
        import optuna

        self.trial.report(record["val_accuracy"], step=record["epoch"])
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"val accuracy {record['val_accuracy']:.4f} at epoch {record['epoch']}")


@dataclass
class TuneResult:
    study: optuna.Study
    best_config: TrainConfig
    best_value: float
    n_trials: int  # all trials in the study, earlier runs included
    n_new: int  # trials run by this call
    n_pruned: int


def _import_optuna():
    try:
        import optuna
    except ImportError as exc:
        raise DigitOCRError("digitocr tune needs Optuna: pip install 'digitocr[tune]'.") from exc
    return optuna


def tune(
    base: TrainConfig,
    n_trials: int,
    storage: str | None = None,
    *,
    study_name: str | None = None,
    seed: int = 0,
    splits: MNISTSplits | None = None,
    callbacks: Iterable[Callable[[Any, Any], None]] = (),
) -> TuneResult:
    """Run ``n_trials`` more trials of the study ``study_name`` (default ``digitocr-<model>``) in
    ``storage`` (an Optuna URL such as ``sqlite:///tune.db``; None keeps it in memory), creating it or
    resuming it. Each trial trains into ``<base.out_dir>/trial-<number>``. ``callbacks`` are Optuna
    study callbacks ``(study, frozen_trial)``, called after each trial (the CLI prints with one)."""
    optuna = _import_optuna()
    _check_tunable(base.model)
    if n_trials < 0:
        raise DigitOCRError(f"--trials must be 0 or more, got {n_trials}.")
    if splits is None:
        splits = load_splits(base.data_dir, base.val_size, base.split_seed, download=base.download)
    study = optuna.create_study(
        study_name=study_name or f"digitocr-{base.model}",
        storage=storage,
        load_if_exists=True,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),  # reproducible search (reseeded below when resuming)
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0),
    )
    before = len(study.trials)
    # Offset the seed by the trials already stored: a resumed search must not replay the first run's draws.
    study.sampler = optuna.samplers.TPESampler(seed=seed + before)
    run_root = Path(base.out_dir)

    def objective(trial: optuna.Trial) -> float:
        config = suggest_config(trial, base).replace(out_dir=str(run_root / f"trial-{trial.number:04d}"))
        trial.set_user_attr("config", config.to_dict())
        result = fit(config, [PruningCallback(trial)], splits=splits)
        trial.set_user_attr("best_epoch", result.best_epoch)
        trial.set_user_attr("train_seconds", result.train_seconds)
        return result.val_metrics.accuracy

    study.optimize(objective, n_trials=n_trials, callbacks=list(callbacks), catch=())
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        raise DigitOCRError("No trial completed yet (all pruned or failed); run more trials.")
    best = study.best_trial
    return TuneResult(
        study=study,
        best_config=best_config_from_trial(best),
        best_value=float(best.value),
        n_trials=len(study.trials),
        n_new=len(study.trials) - before,
        n_pruned=sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials),
    )


def best_config_from_trial(trial: optuna.trial.FrozenTrial) -> TrainConfig:
    """The trial's full config with the run-only fields (``RESET_FIELDS``) back at their defaults,
    ready for ``digitocr train --config FILE`` on the full training split."""
    values = dict(trial.user_attrs["config"])
    defaults = TrainConfig()
    for name in RESET_FIELDS:
        values[name] = getattr(defaults, name)
    return TrainConfig.from_dict(values)
