"""DDP: two CPU processes launched by torchrun (gloo backend) train one model together."""

from __future__ import annotations

import json
import os
import subprocess
import sys

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
