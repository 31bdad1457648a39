"""The CLI through Typer's runner: train → evaluate on the real MNIST, JSON output, one-line errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from digitocr.cli import app


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def trained(tmp_path_factory, mnist_root, runner):
    out = tmp_path_factory.mktemp("cli") / "run"
    args = ["train", "--data-dir", str(mnist_root), "--out", str(out), "--epochs", "2", "--seed", "3"]
    result = runner.invoke(app, [*args, "--batch-size", "256", "--lr", "0.005", "--no-report", "--json"])
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


def test_train_writes_model_metrics_and_config(trained):
    out, summary = trained
    assert (out / "model.pt").is_file() and (out / "metrics.json").is_file() and (out / "config.json").is_file()
    assert summary["test_accuracy"] > 0.95 and summary["n"] == 10000
    config = json.loads((out / "config.json").read_text())
    assert (config["epochs"], config["seed"], config["batch_size"], config["lr"]) == (2, 3, 256, 0.005)


def test_evaluate_json(trained, runner, mnist_root):
    out, summary = trained
    result = runner.invoke(app, ["evaluate", str(out / "model.pt"), "--data-dir", str(mnist_root), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["n"] == 10000 and 0 <= metrics["accuracy"] <= 1
    assert metrics["accuracy"] == pytest.approx(summary["test_accuracy"])
    assert len(metrics["confusion"]) == 10 and sum(map(sum, metrics["confusion"])) == 10000


def test_evaluate_table(trained, runner, mnist_root):
    out, _ = trained
    result = runner.invoke(app, ["evaluate", str(out / "model.pt"), "--data-dir", str(mnist_root), "--split", "val"])
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.stdout and "n=5000" in result.stdout


def test_existing_run_is_not_overwritten(trained, runner, mnist_root):
    out, _ = trained
    result = runner.invoke(app, ["train", "--data-dir", str(mnist_root), "--out", str(out), "--epochs", "1"])
    assert result.exit_code == 1
    assert "already holds a run" in result.output and "Traceback" not in result.output


def test_corrupt_checkpoint_is_one_line_error(tmp_path, runner, mnist_root):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00" * 100)
    result = runner.invoke(app, ["evaluate", str(bad), "--data-dir", str(mnist_root)])
    assert result.exit_code == 1
    assert "error:" in result.output and "Traceback" not in result.output


def test_missing_data_says_how_to_fix(tmp_path, runner):
    result = runner.invoke(app, ["train", "--data-dir", str(tmp_path), "--out", str(tmp_path / "run")])
    assert result.exit_code == 1
    assert "MNIST not found" in result.output and "--download" in result.output


def test_unknown_model_is_refused(tmp_path, runner, mnist_root):
    result = runner.invoke(
        app, ["train", "--model", "resnet9000", "--data-dir", str(mnist_root), "--out", str(tmp_path)]
    )
    assert result.exit_code == 1 and "Unknown model" in result.output


def test_models_lists_the_original_mlp(runner):
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 0 and "mlp" in result.stdout and "784" in result.stdout


def test_config_line_shows_what_aims_a_preset_at_handwriting():
    from digitocr.cli import _config_line
    from digitocr.config import config_from_preset

    line = _config_line(config_from_preset("handwriting"))
    assert "augment=handwriting" in line and "outlier_batch=32" in line and "continental=0.25" in line
    assert "round_trip=0.5" in line
    assert "continental" not in _config_line(config_from_preset("fast"))
