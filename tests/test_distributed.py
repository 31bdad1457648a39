"""DDP: two CPU processes launched by torchrun (gloo backend) train one model together."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch

from digitocr.checkpoint import load_checkpoint


def test_torchrun_two_processes(tmp_path, mnist_root):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"epochs": 3, "train_limit": 4000, "batch_size": 200, "num_threads": 1}))
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    command += ["-m", "digitocr", "train", "--config", str(config), "--data-dir", str(mnist_root)]
    command += ["--out", str(out), "--device", "cpu", "--no-report", "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    summaries = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(summaries) == 1  # only rank 0 reports
    assert summaries[0]["test_accuracy"] > 0.85  # 60 steps of 2 × 100 images
    saved = load_checkpoint(out / "model.pt")
    assert saved["extra"]["world_size"] == 2
    assert saved["metrics"]["test"]["accuracy"] == summaries[0]["test_accuracy"]


SHARDED_ROUND_TRIPS = """
import sys
import torch
from digitocr.config import TrainConfig
from digitocr.data import load_mnist
from digitocr.train import _init_distributed, _round_tripped

images, _ = load_mnist(sys.argv[1], train=True)
dist_info, device = _init_distributed(TrainConfig(device="cpu"))
out = _round_tripped(images[:25], 0.6, 3, dist_info, device)
if dist_info.is_main:
    torch.save(out, sys.argv[2])
# Leave the group before exiting, as training does: a process that exits with gloo's threads still
# running aborts ("terminate called without an active exception"), now and then.
torch.distributed.destroy_process_group()
"""


def test_torchrun_processes_share_the_round_trips(tmp_path, mnist_root):
    """Under torchrun each process writes and reads back its share of the training digits, and they
    gather the rest: the images are the ones one process makes alone (each used to make them all)."""
    from digitocr.data import load_mnist
    from digitocr.train import _round_tripped

    script = tmp_path / "round_trips.py"
    script.write_text(SHARDED_ROUND_TRIPS)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    command += [str(script), str(mnist_root), str(tmp_path / "out.pt")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    images, _ = load_mnist(mnist_root, train=True)
    alone = _round_tripped(images[:25], 0.6, 3)
    together = torch.load(tmp_path / "out.pt", weights_only=True)
    assert not torch.equal(alone, images[:25])  # 15 of the 25 were replaced
    assert torch.equal(together, alone)
