"""Classic per-sample DataLoader vs resident-tensor batches, side by side in one run.

Both paths train the same original MLP (784→128→90→50→10) with the same optimizer (fused Adam, lr 1e-3),
batch size, epochs and training loop; only the way batches are produced differs:

* classic: ``torchvision.datasets.MNIST`` + ``ToTensor`` → ``Normalize`` → flatten, one PIL image at a
  time, collated by ``torch.utils.data.DataLoader`` (the course's pipeline);
* resident: the split held as one uint8 tensor, batches gathered by index and normalized per batch
  (``digitocr.data.TensorBatches``, what ``digitocr train`` uses).

Run:  python benchmarks/classic_vs_resident.py --data-dir ../shared/mnist [--epochs 2 --repeats 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch
from torch import nn

from digitocr.data import TensorBatches, classic_loader, load_mnist, split_train_val
from digitocr.evaluate import evaluate
from digitocr.models import build_model


def train_loop(batches, epochs: int, seed: int) -> tuple[nn.Module, float]:
    """The one training loop both data paths feed: returns the model and the wall time in seconds."""
    torch.manual_seed(seed)
    model = build_model("mlp", hidden=(128, 90, 50))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    criterion = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for epoch in range(epochs):
        if hasattr(batches, "set_epoch"):
            batches.set_epoch(epoch)
        for x, y in batches:
            loss = criterion(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval(), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers for the classic path")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    images, labels = load_mnist(args.data_dir, train=True)
    test_images, test_labels = load_mnist(args.data_dir, train=False)
    train_idx, _ = split_train_val(labels)
    rows = {"classic": [], "resident": []}
    for repeat in range(args.repeats):
        classic = classic_loader(
            args.data_dir,
            batch_size=args.batch_size,
            shuffle=True,
            indices=train_idx,
            seed=repeat,
            num_workers=args.workers,
        )
        resident = TensorBatches(images[train_idx], labels[train_idx], args.batch_size, shuffle=True, seed=repeat)
        for name, batches in (("classic", classic), ("resident", resident)):
            model, seconds = train_loop(batches, args.epochs, seed=repeat)
            accuracy = evaluate(model, test_images, test_labels).accuracy
            rows[name].append((seconds, accuracy))
            print(f"repeat {repeat + 1}: {name:8s} {seconds:7.2f} s  test accuracy {accuracy:.2%}", flush=True)

    def summary(name: str) -> tuple[float, str]:
        times = [s for s, _ in rows[name]]
        accs = [a for _, a in rows[name]]
        return statistics.median(times), (
            f"{statistics.median(times):.2f} s ({min(times):.2f}–{max(times):.2f}), "
            f"test accuracy {statistics.mean(accs):.2%} ± {statistics.pstdev(accs):.2%}"
        )

    classic_s, classic_text = summary("classic")
    resident_s, resident_text = summary("resident")
    print()
    print(f"machine: {platform.machine()} · {torch.get_num_threads()} torch threads · torch {torch.__version__}")
    print(
        f"setup: original MLP, Adam lr 1e-3, batch {args.batch_size}, {args.epochs} epochs, 55,000 images, "
        f"{args.workers} DataLoader workers, median (min–max) of {args.repeats} runs"
    )
    print(f"classic  DataLoader : {classic_text}")
    print(f"resident tensors    : {resident_text}")
    print(f"speed-up (median time ratio classic / resident): {classic_s / resident_s:.1f}x")


if __name__ == "__main__":
    main()
