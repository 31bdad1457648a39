"""Inference throughput of the shipped model (``digitocr.load_pretrained()``): images per second.

Batches of ``--batch`` MNIST test images (uint8, normalized as ``predict`` does), forward pass under
``torch.inference_mode()``, ``--repeats`` timed passes over ``--batches`` batches after a warm-up;
prints the median (min–max). ``--tta`` also times test-time augmentation (5 shifted copies).

    OMP_WAIT_POLICY=PASSIVE python benchmarks/inference_throughput.py --data-dir /work/shared/mnist
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see time_to_99.py: before torch loads OpenMP

import argparse
import datetime as dt
import platform
import statistics
import time

import torch


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--checkpoint", default=None, help="a model.pt instead of the shipped model")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=5, help="batches per timed pass")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--tta", action="store_true")
    return parser


def main(args) -> dict:
    from digitocr.checkpoint import load_pretrained, model_from_checkpoint
    from digitocr.data import load_mnist
    from digitocr.evaluate import predict_proba

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    model = (model_from_checkpoint(args.checkpoint) if args.checkpoint else load_pretrained()).to(device)
    images, _ = load_mnist(args.data_dir, train=False)
    images = images[: args.batch * args.batches]
    predict_proba(model, images[: args.batch], batch_size=args.batch, device=device, tta=args.tta)  # warm-up
    rates = []
    for _ in range(args.repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        tick = time.perf_counter()
        predict_proba(model, images, batch_size=args.batch, device=device, tta=args.tta)
        if device.type == "cuda":
            torch.cuda.synchronize()
        rates.append(len(images) / (time.perf_counter() - tick))
    figures = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}, "
        f"{args.threads} threads, device {device}",
        "batch": args.batch,
        "tta": args.tta,
        "images_per_second_median": statistics.median(rates),
        "images_per_second_min": min(rates),
        "images_per_second_max": max(rates),
    }
    print(
        f"{'TTA ' if args.tta else ''}inference, batch {args.batch}: {statistics.median(rates):,.0f} images/s "
        f"median ({min(rates):,.0f}–{max(rates):,.0f}) over {args.repeats} passes of {len(images):,} images; "
        f"{figures['machine']}"
    )
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
