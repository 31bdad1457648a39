"""Training: determinism, exact resume after an interruption, schedules, and a real run that must learn."""

from __future__ import annotations

import json
import os
import signal

import pytest
import torch

from digitocr.checkpoint import load_checkpoint
from digitocr.config import TrainConfig
from digitocr.errors import DigitOCRError
from digitocr.train import Callback, TrainingInterrupted, fit, fit_and_test, lr_at


def _small(tmp_path, name="run", **changes) -> TrainConfig:
    values = dict(epochs=2, batch_size=100, train_limit=2000, device="cpu", out_dir=str(tmp_path / name))
    values.update(changes)
    return TrainConfig(**values)


def _assert_same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


def test_same_seed_same_weights_on_cpu(tmp_path, splits):
    first = fit(_small(tmp_path, "a"), splits=splits)
    second = fit(_small(tmp_path, "b"), splits=splits)
    third = fit(_small(tmp_path, "c", seed=1), splits=splits)
    _assert_same_weights(first.model, second.model)
    assert not torch.equal(first.model.state_dict()["net.0.weight"], third.model.state_dict()["net.0.weight"])


class _InterruptAt(Callback):
    """Sends this process a real SIGINT (a Ctrl-C) at one batch."""

    def __init__(self, epoch: int, batch: int) -> None:
        self.at = (epoch, batch)

    def on_batch_end(self, epoch, batch, loss):
        if (epoch, batch) == self.at:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.parametrize("where", [(0, 7), (1, 0)], ids=["mid-epoch", "epoch-start"])
def test_interrupted_run_resumes_to_the_same_weights(tmp_path, splits, where):
    options = dict(ema=0.9, augment="affine", outlier_batch=8, outlier_pairs=0.25, round_trip=0.05)
    config = _small(tmp_path, "interrupted", **options)
    reference = fit(_small(tmp_path, "reference", **options), splits=splits)
    with pytest.raises(TrainingInterrupted, match="--resume") as info:
        fit(config, [_InterruptAt(*where)], splits=splits)
    assert info.value.checkpoint.is_file()
    resumed = fit(config, resume=True, splits=splits)
    _assert_same_weights(reference.model, resumed.model)
    assert [h["val_accuracy"] for h in resumed.history] == [h["val_accuracy"] for h in reference.history]
    assert not info.value.checkpoint.exists()  # the interrupted state is cleaned up once the run completes


def test_resume_from_an_epoch_checkpoint(tmp_path, splits):
    reference = fit(_small(tmp_path, "reference", epochs=3), splits=splits)
    config = _small(tmp_path, "partial", epochs=3)
    with pytest.raises(TrainingInterrupted):
        fit(config, [_InterruptAt(2, 0)], splits=splits)
    (tmp_path / "partial" / "checkpoints" / "interrupted.pt").unlink()  # fall back to epoch-002.pt
    resumed = fit(config.replace(keep_checkpoints=0), resume=True, splits=splits)
    _assert_same_weights(reference.model, resumed.model)


def test_resume_without_checkpoints_is_a_clear_error(tmp_path, splits):
    with pytest.raises(DigitOCRError, match="Nothing to resume"):
        fit(_small(tmp_path), resume=True, splits=splits)


def test_checkpoints_are_rotated_and_best_epoch_is_kept(tmp_path, splits):
    result = fit(_small(tmp_path, epochs=4, keep_checkpoints=2), splits=splits)
    names = sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir())
    assert names == ["epoch-003.pt", "epoch-004.pt"]
    best = max(result.history, key=lambda h: (h["val_accuracy"], -h["val_loss"]))
    assert result.best_epoch == best["epoch"]
    assert result.val_metrics.accuracy == pytest.approx(best["val_accuracy"])
    saved = load_checkpoint(result.checkpoint_path)
    assert saved["extra"]["best_epoch"] == result.best_epoch and len(saved["history"]) == 4


@pytest.mark.parametrize("schedule", ["onecycle", "cosine", "step", "constant"])
def test_learning_rate_schedules(schedule):
    config = TrainConfig(schedule=schedule, lr=1.0, warmup=0.2, step_gamma=0.5)
    lrs = [lr_at(config, s, 100, 10) for s in range(100)]
    assert max(lrs) == pytest.approx(1.0, rel=0.02)
    if schedule in ("onecycle", "cosine"):
        assert lrs[0] < 0.1 and lrs[-1] < 0.01 and lrs.index(max(lrs)) in range(18, 22)
    if schedule == "step":
        assert lrs[10] == 0.5 and lrs[25] == 0.25
    if schedule == "constant":
        assert set(lrs) == {1.0}


@pytest.mark.parametrize("optimizer", ["adamw", "adam", "sgd", "adadelta"])
def test_every_optimizer_learns(tmp_path, splits, optimizer):
    lr = {"sgd": 0.1, "adadelta": 1.0}.get(optimizer, 3e-3)
    result = fit(_small(tmp_path, optimizer=optimizer, lr=lr, schedule="constant"), splits=splits)
    assert result.val_metrics.accuracy > 0.5  # 40 steps on 2,000 images: well above chance (0.1)


@pytest.mark.parametrize("name", ["mlp", "cnn-fast", "cnn"])
def test_changing_only_the_model_builds_it_with_its_own_defaults(name):
    from digitocr.models import build_model

    config = TrainConfig(model=name)
    model = build_model(config.model, **config.model_kwargs)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_bad_config_is_refused():
    with pytest.raises(DigitOCRError, match="optimizer"):
        TrainConfig(optimizer="rmsprop")
    with pytest.raises(DigitOCRError, match="round_trip"):
        TrainConfig(round_trip=1.5)
    with pytest.raises(DigitOCRError, match="Unknown config field"):
        TrainConfig.from_dict({"epochz": 3})


def test_main_job_on_real_mnist_passes_a_floor(tmp_path, splits):
    """The original MLP with the product defaults, shortened to 3 epochs: evaluated once on the test set."""
    config = TrainConfig(epochs=3, device="cpu", out_dir=str(tmp_path / "main"))
    result = fit_and_test(config, splits=splits)
    assert result.test_metrics.n == 10000
    assert result.test_metrics.accuracy >= 0.97
    summary = json.loads((tmp_path / "main" / "metrics.json").read_text())
    assert summary["test"]["accuracy"] == pytest.approx(result.test_metrics.accuracy)
    assert summary["best_epoch"] == result.best_epoch
    saved = load_checkpoint(tmp_path / "main" / "model.pt")
    assert saved["metrics"]["test"]["accuracy"] == pytest.approx(result.test_metrics.accuracy)
    assert saved["config"]["epochs"] == 3
