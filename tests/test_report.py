"""``digitocr explore`` and ``digitocr report`` through the CLI runner, the report after ``train``, and the
report's JSON against :func:`digitocr.evaluate.evaluate` on the real MNIST test set."""

from __future__ import annotations

import base64
import json
import re

import pytest
import torch
from typer.testing import CliRunner

pytest.importorskip("matplotlib")

from digitocr import report
from digitocr.checkpoint import load_checkpoint, model_from_checkpoint
from digitocr.cli import app
from digitocr.config import TrainConfig
from digitocr.evaluate import evaluate
from digitocr.train import fit_and_test

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
IMG_RE = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="[^"]*" data-figure="([a-z_]+)">')


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def run(tmp_path_factory, mnist_root, splits):
    """A small MLP trained for 2 epochs on 5,000 images, with its report written by the train hook."""
    out = tmp_path_factory.mktemp("report") / "run"
    config = TrainConfig(epochs=2, train_limit=5000, data_dir=str(mnist_root), out_dir=str(out), seed=1)
    result = fit_and_test(config, splits=splits)
    html_path = report.write_run_report(result, images=splits.test_images)
    return result, html_path


def _figures(html: str) -> dict[str, bytes]:
    return {name: base64.b64decode(data) for data, name in IMG_RE.findall(html)}


def _check_self_contained(html: str, expect_training: bool) -> None:
    for ident, heading in report.SECTIONS:
        assert f'<section id="{ident}"><h2>{heading}</h2>' in html, ident
    figures = _figures(html)
    expected = set(report.REPORT_FIGURES) - (set() if expect_training else {"training_curves"})
    assert set(figures) == expected
    assert all(png.startswith(PNG_MAGIC) for png in figures.values())
    assert html.count("<img ") == len(expected)  # every image is one of the embedded ones
    # Nothing is fetched from outside: no URLs, no scripts, no external style sheets or fonts.
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.IGNORECASE)
    assert "<script" not in html and "<link" not in html and "@import" not in html and "url(" not in html
    assert re.search(r'src="(?!data:)', html) is None


def test_train_hook_writes_self_contained_report(run):
    result, html_path = run
    assert html_path == result.run_dir / report.REPORT_HTML
    html = html_path.read_text()
    _check_self_contained(html, expect_training=True)
    data = json.loads((result.run_dir / report.REPORT_JSON).read_text())
    assert data["test"] == json.loads(json.dumps(result.test_metrics.to_dict()))  # the in-memory metrics, as is
    assert data["history"] == json.loads(json.dumps(result.history)) and data["best_epoch"] == result.best_epoch
    assert data["config"]["train_limit"] == 5000 and data["model"] == "mlp"
    assert f"{result.test_metrics.accuracy:.2%} test accuracy" in html


def test_report_json_agrees_with_evaluate(run, runner, mnist_root, splits, tmp_path):
    result, _ = run
    out = tmp_path / "rep"
    invoked = runner.invoke(
        app, ["report", str(result.checkpoint_path), "--out", str(out), "--data-dir", str(mnist_root)]
    )
    assert invoked.exit_code == 0, invoked.output
    assert (out / "report.html").is_file() and (out / "report.json").is_file()
    data = json.loads((out / "report.json").read_text())
    expected = evaluate(model_from_checkpoint(result.checkpoint_path), splits.test_images, splits.test_labels)
    assert data["test"]["n"] == expected.n == 10000
    assert data["test"]["accuracy"] == pytest.approx(expected.accuracy, abs=1e-9)
    assert data["test"]["loss"] == pytest.approx(expected.loss, rel=1e-5)
    assert data["test"]["ece"] == pytest.approx(expected.ece, abs=1e-6)
    assert data["test"]["confusion"] == expected.confusion
    for got, want in zip(data["test"]["per_class"], expected.per_class, strict=True):
        assert got == pytest.approx(want)
    assert data["test"]["accuracy"] == pytest.approx(result.test_metrics.accuracy, abs=1e-9)
    ckpt = load_checkpoint(result.checkpoint_path)
    assert data["history"] == ckpt["history"] and data["config"] == ckpt["config"]
    assert data["val"] == json.loads(json.dumps(ckpt["metrics"]["val"]))
    confusion = torch.tensor(expected.confusion).fill_diagonal_(0)
    top = data["most_confused"][0]
    assert top["count"] == int(confusion.max()) and confusion[top["true"], top["predicted"]] == top["count"]
    assert f"{expected.accuracy:.2%}" in invoked.stdout
    _check_self_contained((out / "report.html").read_text(), expect_training=True)


def test_report_without_history(run, mnist_root, tmp_path):
    """A bare checkpoint (no config, history or metrics) still gets every section."""
    result, _ = run
    ckpt = load_checkpoint(result.checkpoint_path)
    bare = {**ckpt, "history": [], "config": {}, "metrics": {}, "extra": {}}
    path = report.write_report(bare, tmp_path, data_dir=mnist_root)
    html = path.read_text()
    _check_self_contained(html, expect_training=False)
    assert "holds no training history" in html


def test_report_missing_checkpoint_is_one_line_error(runner, tmp_path):
    invoked = runner.invoke(app, ["report", str(tmp_path / "nope.pt"), "--out", str(tmp_path / "out")])
    assert invoked.exit_code == 1
    assert "does not exist" in invoked.output and "Traceback" not in invoked.output


def test_explore_writes_figures_and_summary(runner, mnist_root, tmp_path):
    invoked = runner.invoke(app, ["explore", "--data-dir", str(mnist_root), "--out", str(tmp_path), "--json"])
    assert invoked.exit_code == 0, invoked.output
    summary = json.loads(invoked.stdout)
    for name in report.EXPLORE_FIGURES:
        assert (tmp_path / f"{name}.png").read_bytes().startswith(PNG_MAGIC)
    assert json.loads((tmp_path / "summary.json").read_text())["splits"] == summary["splits"]
    splits = summary["splits"]
    assert [splits[s]["n"] for s in ("train", "val", "test")] == [55000, 5000, 10000]
    assert splits["test"]["images_shape"] == [10000, 28, 28] and splits["test"]["images_dtype"] == "uint8"
    assert splits["test"]["class_counts"] == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    # The published statistics of MNIST's 60k training images (pytorch/examples): 0.1307 and 0.3081.
    n_train, n_val = splits["train"]["n"], splits["val"]["n"]
    mean = (splits["train"]["pixel_mean"] * n_train + splits["val"]["pixel_mean"] * n_val) / (n_train + n_val)
    assert mean == pytest.approx(0.1307, abs=1e-4)
    assert splits["train"]["pixel_std"] == pytest.approx(0.3081, abs=1e-3)


def test_explore_table_output(runner, mnist_root, tmp_path):
    invoked = runner.invoke(app, ["explore", "--data-dir", str(mnist_root), "--out", str(tmp_path)])
    assert invoked.exit_code == 0, invoked.output
    for text in ("55000×28×28 uint8", "10000 int64", "Images per class", "1135", "samples.png"):
        assert text in invoked.stdout, text


def test_cli_train_leaves_a_report(runner, mnist_root, tmp_path):
    out = tmp_path / "run"
    config = tmp_path / "small.json"
    config.write_text(json.dumps({"train_limit": 3000}))  # a quick run: the hook is what is tested here
    args = ["train", "--data-dir", str(mnist_root), "--out", str(out), "--epochs", "1", "--config", str(config)]
    args += ["--threads", "1", "--json"]
    invoked = runner.invoke(app, args)
    assert invoked.exit_code == 0, invoked.output
    data = json.loads((out / "report.json").read_text())
    assert data["test"]["accuracy"] == pytest.approx(json.loads(invoked.stdout)["test_accuracy"])
    _check_self_contained((out / "report.html").read_text(), expect_training=True)
