"""digitocr tune: two tiny Optuna trials end to end on a temporary SQLite file, then a resume."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from digitocr.config import TrainConfig
from digitocr.tune import PruningCallback, base_config, tune

optuna = pytest.importorskip("optuna")

TINY = {"epochs": 1, "train_limit": 600, "num_threads": 1}


def test_two_trials_then_resume_adds_trials(splits, tmp_path):
    storage = f"sqlite:///{tmp_path / 'tune.db'}"
    base = base_config("mlp", out_dir=str(tmp_path / "runs"), **TINY)
    first = tune(base, 2, storage, seed=0, splits=splits)
    assert first.n_trials == 2 and first.n_new == 2
    assert 0.3 < first.best_value <= 1.0
    out = tmp_path / "best.json"
    first.best_config.to_file(out)
    loaded = TrainConfig.from_file(out)
    assert loaded.model == "mlp" and loaded.train_limit == 0 and loaded.out_dir == TrainConfig().out_dir
    assert loaded.lr == first.study.best_trial.params["lr"]

    resumed = tune(base, 1, storage, seed=0, splits=splits)
    assert resumed.n_trials == 3 and resumed.n_new == 1
    params = [t.params for t in resumed.study.trials]
    assert params[2] != params[0] and params[2] != params[1]  # resuming does not replay earlier draws


def test_pruning_callback_reports_and_raises():
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=0.5))
    trial = study.ask()
    callback = PruningCallback(trial)
    callback.on_epoch_end({"epoch": 1, "val_accuracy": 0.9})
    with pytest.raises(optuna.TrialPruned):
        callback.on_epoch_end({"epoch": 2, "val_accuracy": 0.1})


def test_cli_tune_writes_a_config_train_accepts(mnist_root, tmp_path, monkeypatch):
    from digitocr.cli import app

    monkeypatch.chdir(tmp_path)
    args = ["tune", "--model", "mlp", "--trials", "1", "--storage", f"sqlite:///{tmp_path / 't.db'}"]
    args += ["--data-dir", str(mnist_root), "--epochs", "1", "--train-limit", "300", "--out", "best.json", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["trials"] == 1 and 0 < summary["best_val_accuracy"] <= 1
    assert TrainConfig.from_file(tmp_path / "best.json").model == "mlp"


def test_unknown_model_is_a_clear_error():
    from digitocr.errors import DigitOCRError

    with pytest.raises(DigitOCRError, match="Tunable models"):
        base_config("nope")
