"""Train the pretrained model shipped in the package (``src/digitocr/pretrained/digitocr-cnn.pt``).

Reproducible from its seed: the ``handwriting`` preset (``cnn`` with handwriting-style batch
augmentation, continental 1s and 7s, outlier exposure to synthetic non-digits, label smoothing, EMA),
the epoch kept is the best on the validation split (never the test set), then a
softmax temperature (Guo et al., 2017, "On Calibration of Modern Neural Networks") and the
out-of-distribution statistics are fitted on the validation split by ``digitocr.predict.calibrate``
and stored as ``extra["temperature"]`` and ``extra["calibration"]``; ``digitocr.predict`` uses them.

    python scripts/train_release.py --data-dir ../shared/mnist --threads 2

(24 epochs, about 25 minutes on one free CPU core; on a machine shared with other jobs,
``OMP_WAIT_POLICY=PASSIVE`` and ``--threads 1`` keep OpenMP threads from spinning against them.)
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

PRETRAINED = Path(__file__).resolve().parents[1] / "src" / "digitocr" / "pretrained" / "digitocr-cnn.pt"
MAX_BYTES = 5 * 1024 * 1024


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="folder holding MNIST/raw (default: $DIGITOCR_DATA)")
    parser.add_argument("--preset", default="handwriting")
    parser.add_argument(
        "--epochs", type=int, default=None, help="epochs (default: the preset's); best one kept on validation"
    )
    parser.add_argument("--config", type=Path, default=None, help="JSON file of TrainConfig fields over the preset's")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest on a busy machine)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--run-dir", default="runs/release")
    parser.add_argument("--out", type=Path, default=PRETRAINED)
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run in --run-dir")
    parser.add_argument(
        "--from-checkpoint",
        type=Path,
        nargs="+",
        default=None,
        help="skip training: calibrate and package this model.pt, or several as one ensemble "
        "(weights stored in float16 to stay under 5 MB)",
    )
    parser.add_argument(
        "--reject-threshold",
        type=float,
        default=None,
        help="refusal threshold stored with the model (default: the one predict picks for how it was trained)",
    )
    return parser


def main(args: argparse.Namespace) -> dict:
    import platform

    import torch

    from digitocr.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint
    from digitocr.config import TrainConfig, config_from_preset
    from digitocr.data import load_splits
    from digitocr.ensemble import ensemble_checkpoint
    from digitocr.evaluate import evaluate
    from digitocr.predict import calibrate
    from digitocr.train import fit_and_test

    torch.set_num_threads(args.threads)
    if args.from_checkpoint is None:
        config = config_from_preset(
            args.preset,
            **({"epochs": args.epochs} if args.epochs else {}),
            seed=args.seed,
            device=args.device,
            num_threads=args.threads,
            data_dir=args.data_dir,
            out_dir=args.run_dir,
            keep_checkpoints=1,
        )
        if args.config is not None:
            config = TrainConfig.from_file(args.config, base=config)
        splits = load_splits(config.data_dir, config.val_size, config.split_seed)
        started = time.time()
        checkpoint_path = fit_and_test(config, splits=splits, resume=args.resume).checkpoint_path
        wall = round(time.time() - started, 1)
        ckpt = load_checkpoint(checkpoint_path)
    else:  # package (and calibrate) runs trained earlier by this script: one model, or an ensemble
        wall = None
        if len(args.from_checkpoint) == 1:
            ckpt = load_checkpoint(args.from_checkpoint[0])
            configs = [ckpt["config"]]
        else:
            ckpt = ensemble_checkpoint(args.from_checkpoint, weights_dtype=torch.float16)
            configs = ckpt["extra"]["member_configs"]
            ckpt["config"] = {}  # each member's training config is in extra["member_configs"]
            ckpt["extra"]["member_seeds"] = [c.get("seed") for c in configs]
        config = TrainConfig.from_dict(configs[0])  # the members share the validation split
        if any(TrainConfig.from_dict(c).split_seed != config.split_seed for c in configs):
            raise SystemExit("the members were validated on different splits; calibrate them on one")
        splits = load_splits(args.data_dir, config.val_size, config.split_seed)
    model = model_from_checkpoint(ckpt)
    calibration = calibrate(model, splits.val_images, splits.val_labels)  # temperature and OOD statistics
    val = evaluate(model, splits.val_images, splits.val_labels)
    test = evaluate(model, splits.test_images, splits.test_labels)
    tta = evaluate(model, splits.test_images, splits.test_labels, tta=True)
    ckpt["metrics"] = {"val": val.to_dict(), "test": test.to_dict()}
    ckpt["extra"] = {
        **ckpt.get("extra", {}),
        "temperature": float(calibration["temperature"]),
        "calibration": calibration,
        **({"reject_threshold": args.reject_threshold} if args.reject_threshold is not None else {}),
        "release": {
            "script": "scripts/train_release.py",
            "preset": config.preset,
            "epochs": config.epochs,
            "seed": config.seed,
            "threads": config.num_threads,
            "wall_seconds": wall,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, {ckpt.get('extra', {}).get('device')}",
            "test_accuracy_tta": tta.accuracy,
        },
    }
    save_checkpoint(args.out, ckpt)
    size = args.out.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"{args.out} is {size / 1e6:.1f} MB, over the 5 MB limit for the package")
    summary = {
        "out": str(args.out),
        "bytes": size,
        "best_epoch": ckpt["extra"].get("best_epoch"),
        "train_seconds": ckpt["extra"].get("train_seconds"),
        "val_accuracy": val.accuracy,
        "test_accuracy": test.accuracy,
        "test_accuracy_tta": tta.accuracy,
        "temperature": float(calibration["temperature"]),
        "history": ckpt.get("history"),
    }
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main(get_args_parser().parse_args())
