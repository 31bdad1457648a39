"""Every answer of the reader on the realistic sets, picture by picture, and what changed between two runs.

The figures of ``benchmarks/realistic.py`` are shares; a change to the reading code is judged by the
pictures it gains and the pictures it loses, set by set, on the tuning seeds (1 and 2; seed 0 is the
report's). That is what the passes in ``benchmarks/README.md`` count as "+3 / −1"::

    python benchmarks/answers.py record before.json --seed 1 --data-dir ../shared/mnist
    (change the code, or run the same command from another checkout)
    python benchmarks/answers.py record after.json --seed 1 --data-dir ../shared/mnist
    python benchmarks/answers.py compare before.json after.json --show 12

``record`` runs ``predict`` on the single-digit sets (``predict:`` names: the realistic singles, 5 × n
of them; non-digits, 2 × n, whose right answer is a refusal; MNIST rendered plain and cut tightly;
continental 1s and 7s; other datasets' crops; grid and turned cells; small in a photo; and the
single digits of the photographed sets) and ``read`` on the number sets (``read:`` names), and
writes each picture's label and answer ("" for a refusal or nothing read). ``--sets`` picks some
(``--list`` names them all). ``compare`` prints, for each set in both files, how many were right in
each and the indices of the pictures gained and lost, so they can be drawn and looked at
(``realistic.<set>(images, labels, n, seed)[index]``; for the photographed sets, the index among
that set's singles or numbers); ``--draw DIR`` writes those pictures there, named by set, index and
the answers of both runs.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import realistic as R  # the generator beside this script

# A set: (images, labels, n, seed) -> [(picture, right answer)]: encoded bytes or a uint8 array.
Pictures = list[tuple[object, str]]
SetMaker = Callable[[np.ndarray, np.ndarray, int, int], Pictures]

PHOTOGRAPHED = ("on_a_desk", "in_dim_light", "under_glare", "in_faint_pencil", "out_of_focus", "on_old_paper")
NUMBER_SETS = (
    "numbers",
    "cheque_amounts",
    "marked_numbers",
    "form_fields",
    "turned_numbers",
    "squared_paper",
    "grid_rows",
    "at_an_angle",
    "underlined_numbers",
    "columns_of_numbers",
)


def _samples(samples: list[R.Sample]) -> Pictures:
    return [(s.data, s.label) for s in samples]


def _part(name: str, singles: bool) -> SetMaker:
    """The single digits (or the numbers) of one of the photographed sets."""

    def make(images: np.ndarray, labels: np.ndarray, n: int, seed: int) -> Pictures:
        samples = getattr(R, name)(images, labels, n, seed)
        return [(s.data, s.label) for s in samples if s.kind.endswith("-single") == singles]

    return make


def _whole(name: str) -> SetMaker:
    return lambda images, labels, n, seed: _samples(getattr(R, name)(images, labels, n, seed))


PREDICT: dict[str, SetMaker] = {
    "singles": lambda images, labels, n, seed: _samples(R.single_digits(images, labels, 5 * n, seed)),
    "non_digits": lambda images, labels, n, seed: _samples(R.non_digits(2 * n, seed)),
    "plain": lambda images, labels, n, seed: [
        (p, str(int(label))) for p, label in zip(R.plain_renders(images, n, seed), labels[:n], strict=True)
    ],
    "tight": lambda images, labels, n, seed: [
        (p, str(int(label))) for p, label in zip(R.tight_crops(images, n, seed), labels[:n], strict=True)
    ],
    "continental": _whole("continental_digits"),
    "dataset": lambda images, labels, n, seed: [(p, str(d)) for p, d in R.dataset_crops(images, labels, n, seed)],
    "grid_cells": _whole("grid_cells"),
    "turned_cells": _whole("turned_cells"),
    "small_in_photo": _whole("small_in_photo"),
    **{name: _part(name, singles=True) for name in PHOTOGRAPHED},
}
READ: dict[str, SetMaker] = {
    **{name: _whole(name) for name in NUMBER_SETS},
    "tight_numbers": lambda images, labels, n, seed: list(R.tight_numbers(images, labels, n, seed)),
    **{name: _part(name, singles=False) for name in PHOTOGRAPHED},
}
ALL = [f"predict:{name}" for name in PREDICT] + [f"read:{name}" for name in READ]


def _pictures(full: str, images: np.ndarray, labels: np.ndarray, n: int, seed: int) -> Pictures:
    """The pictures of the set named ``full`` ("predict:..." or "read:...", see :data:`ALL`)."""
    how, name = full.split(":", 1)
    return (PREDICT if how == "predict" else READ)[name](images, labels, n, seed)


def record(sets: list[str], model: str | None, root: str | None, n: int, seed: int) -> dict:
    """Each picture's [label, answer] for every set named in ``sets`` (see :data:`ALL`)."""
    import torch

    from digitocr.predict import Recognizer

    torch.set_num_threads(1)
    images, labels = R.load_test_digits(root)
    recognizer = Recognizer(model)
    answers: dict[str, list[list[str]]] = {}
    for full in sets:
        start = time.perf_counter()
        pictures = _pictures(full, images, labels, n, seed)
        if full.startswith("predict:"):
            said = ["" if p.digit is None else str(p.digit) for p in recognizer.predict([p for p, _ in pictures])]
        else:
            said = [recognizer.read(p).text for p, _ in pictures]
        answers[full] = [[label, answer] for (_, label), answer in zip(pictures, said, strict=True)]
        right = sum(label == answer for label, answer in answers[full])
        print(f"{full:28} {right:5} / {len(pictures):<5} {time.perf_counter() - start:6.1f} s", file=sys.stderr)
    return {"model": str(model or "pretrained"), "n": n, "seed": seed, "answers": answers}


def _changes(old: list[list[str]], new: list[list[str]] | None) -> tuple[list[int], list[int], int, int] | None:
    """The pictures one set gained and lost between two runs, and how many each read right; ``None``
    when the runs did not read the same pictures (the set missing from one, another seed or n)."""
    if new is None or [label for label, _ in old] != [label for label, _ in new]:
        return None
    was = [label == answer for label, answer in old]
    now = [label == answer for label, answer in new]
    gained = [k for k, (a, b) in enumerate(zip(was, now, strict=True)) if b and not a]
    lost = [k for k, (a, b) in enumerate(zip(was, now, strict=True)) if a and not b]
    return gained, lost, sum(was), sum(now)


def compare(before: dict, after: dict, show: int = 0) -> list[str]:
    """Lines saying, set by set, how many pictures each run read right, and which it gained and lost."""
    lines = [f"{'set':28} {'before':>7} {'after':>7}  gained  lost"]
    for name, old in before["answers"].items():
        if name not in after["answers"]:
            continue
        changes = _changes(old, after["answers"][name])
        if changes is None:
            lines.append(f"{name:28} other pictures (another seed or n): not compared")
            continue
        gained, lost, right_before, right_after = changes
        line = f"{name:28} {right_before:7} {right_after:7}  {'+' + str(len(gained)):>6}  {'-' + str(len(lost)):>4}"
        if show and (gained or lost):
            line += f"   gained {gained[:show]} lost {lost[:show]}"
        lines.append(line)
    return lines


def draw(before: dict, after: dict, folder: Path, root: str | None, most: int = 20) -> list[Path]:
    """Write the pictures gained and lost between two runs of one seed and n into ``folder``, named
    ``<set>-<index>-<gained|lost>-<label>-<before>-<after>.png``: made again by the generator (the runs
    hold answers, not pictures); at most ``most`` of each kind per set."""
    from PIL import Image

    if (before["seed"], before["n"]) != (after["seed"], after["n"]):
        raise SystemExit("The two runs read other pictures (another seed or n): nothing to draw.")
    images, labels = R.load_test_digits(root)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, old in before["answers"].items():
        new = after["answers"].get(name)
        changes = _changes(old, new)
        if changes is None or not (changes[0] or changes[1]):
            continue
        gained, lost = changes[0][:most], changes[1][:most]
        pictures = _pictures(name, images, labels, before["n"], before["seed"])
        for k in gained + lost:
            picture = pictures[k][0]
            image = Image.open(io.BytesIO(picture)) if isinstance(picture, bytes) else Image.fromarray(picture)
            parts = [
                name.replace(":", "-"),
                str(k),
                "gained" if k in gained else "lost",
                old[k][0],
                old[k][1],
                new[k][1],
            ]
            path = folder / ("-".join(part.replace("\n", "_") or "none" for part in parts) + ".png")
            image.save(path)
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser("record", help="read every picture of the sets and write the answers")
    rec.add_argument("out", type=Path, nargs="?", help="JSON file to write")
    rec.add_argument("--seed", type=int, default=1, help="the generator's seed (tune on 1-2; 0 is the report's)")
    rec.add_argument("--n", type=int, default=300, help="pictures per set (the singles 5 × n, non-digits 2 × n)")
    rec.add_argument("--sets", nargs="+", choices=ALL, metavar="SET", help="some sets only (default: all)")
    rec.add_argument("--model", help="checkpoint (default: the packaged pretrained model)")
    rec.add_argument("--data-dir", default=os.environ.get("DIGITOCR_DATA"), help="MNIST root")
    rec.add_argument("--list", action="store_true", help="name the sets and stop")
    cmp = commands.add_parser("compare", help="the pictures gained and lost between two recorded runs")
    cmp.add_argument("before", type=Path)
    cmp.add_argument("after", type=Path)
    cmp.add_argument("--show", type=int, default=0, help="list up to this many indices gained and lost per set")
    cmp.add_argument("--draw", type=Path, metavar="DIR", help="also write the pictures gained and lost here")
    cmp.add_argument("--data-dir", default=os.environ.get("DIGITOCR_DATA"), help="MNIST root (for --draw)")
    args = parser.parse_args(argv)
    if args.command == "compare":
        before, after = (json.loads(path.read_text()) for path in (args.before, args.after))
        print("\n".join(compare(before, after, args.show)))
        if args.draw:
            written = draw(before, after, args.draw, args.data_dir)
            print(f"{len(written)} pictures written to {args.draw}")
        return
    if args.list:
        print("\n".join(ALL))
        return
    if args.out is None:
        parser.error("record needs the JSON file to write")
    result = record(args.sets or ALL, args.model, args.data_dir, args.n, args.seed)
    temporary = args.out.with_name(args.out.name + ".tmp")
    temporary.write_text(json.dumps(result))
    temporary.replace(args.out)


if __name__ == "__main__":
    main()
