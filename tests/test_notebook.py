"""The course notebook runs top to bottom (nbclient) with one short epoch, and is committed without outputs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "walkthrough.ipynb"
BUDGET_SECONDS = 180  # the CI limit for this notebook


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, "the notebook has no code cells"
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code), "clear the outputs"


def test_notebook_runs_top_to_bottom(mnist_root, monkeypatch, tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # The kernel inherits this environment: one short epoch, a subset for the library runs, one thread.
    monkeypatch.setenv("DIGITOCR_DATA", str(mnist_root))
    monkeypatch.setenv("DIGITOCR_NOTEBOOK_EPOCHS", "1")
    monkeypatch.setenv("DIGITOCR_NOTEBOOK_TRAIN_LIMIT", "10000")
    monkeypatch.setenv("DIGITOCR_NOTEBOOK_THREADS", "1")
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebook's work folder
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = nbclient.NotebookClient(
        nb, timeout=BUDGET_SECONDS, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the cell and its traceback, if any cell fails
    seconds = time.perf_counter() - start
    errors = [
        out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs if out.output_type == "error"
    ]
    assert not errors
    text = "\n".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs)
    assert "test accuracy" in text and "identical outputs" in text
    images = sum("image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", []))
    assert images >= 10, f"only {images} figures were shown"
    assert seconds < BUDGET_SECONDS
