"""benchmarks/answers.py: each picture's answer recorded, and two runs compared picture by picture."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def answers():
    spec = importlib.util.spec_from_file_location("answers", REPO / "benchmarks" / "answers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compare_names_the_pictures_gained_and_lost(answers):
    before = {"answers": {"read:numbers": [["12", "12"], ["34", "31"], ["5", "5"]], "predict:plain": [["7", "7"]]}}
    after = {"answers": {"read:numbers": [["12", "17"], ["34", "34"], ["5", "5"]], "predict:plain": [["1", "1"]]}}
    lines = answers.compare(before, after, show=5)
    numbers = next(line for line in lines if line.startswith("read:numbers"))
    assert numbers.split()[1:5] == ["2", "2", "+1", "-1"]
    assert "gained [1] lost [0]" in numbers
    plain = next(line for line in lines if line.startswith("predict:plain"))
    assert "not compared" in plain  # other pictures: their labels differ


def test_every_set_is_named_once_and_made_by_the_generator(answers):
    assert len(answers.ALL) == len(set(answers.ALL))
    assert {"predict:singles", "predict:non_digits", "read:numbers", "read:cheque_amounts"} <= set(answers.ALL)
    for name in answers.PHOTOGRAPHED:  # both halves of a photographed set
        assert f"predict:{name}" in answers.ALL and f"read:{name}" in answers.ALL


def test_record_writes_each_pictures_label_and_answer(answers, mnist_root, tmp_path):
    out = tmp_path / "run.json"
    sets = ["predict:plain", "predict:non_digits", "read:tight_numbers"]
    answers.main(["record", str(out), "--seed", "1", "--n", "3", "--sets", *sets, "--data-dir", str(mnist_root)])
    run = json.loads(out.read_text())
    assert (run["seed"], run["n"], list(run["answers"])) == (1, 3, sets)
    plain = run["answers"]["predict:plain"]
    assert len(plain) == 3 and all(label.isdigit() and len(label) == 1 for label, _ in plain)
    assert [label for label, _ in run["answers"]["predict:non_digits"]] == [""] * 6
    assert all(label.isdigit() and isinstance(said, str) for label, said in run["answers"]["read:tight_numbers"])
    assert not list(tmp_path.glob("*.tmp"))  # written through a temporary file, then renamed
    lines = answers.compare(run, run)
    assert all(line.split()[-2:] == ["+0", "-0"] for line in lines[1:])
    # A run that read the first plain digit wrong: the picture it lost is drawn again, named after both answers.
    worse = json.loads(out.read_text())
    label, said = worse["answers"]["predict:plain"][0]
    assert label == said  # the shipped model reads a plain MNIST digit
    worse["answers"]["predict:plain"][0] = [label, ""]
    drawn = answers.draw(run, worse, tmp_path / "drawn", str(mnist_root))
    assert [path.name for path in drawn] == [f"predict-plain-0-lost-{label}-{label}-none.png"]
    with Image.open(drawn[0]) as picture:
        assert picture.size[0] >= 20  # the plain render, 20-300 px
