"""The elastic distortion's Gaussian blur: banded matrices vs depthwise convolutions, side by side.

``digitocr.data.elastic_distortion`` smooths a random displacement field (B, 2, 28, 28) with a
Gaussian of sigma 3 px (19 taps). The textbook way is a pair of zero-padded depthwise convolutions
(``F.conv2d(..., groups=2)``), which PyTorch runs slowly on a CPU for such small maps; the library
multiplies by two banded (28, 28) matrices instead, which gives the same numbers. This script times
both blurs and the whole ``affine-elastic`` augmentation with each, alternating in one process,
and prints medians and the ratio.

Run:  python benchmarks/elastic_blur.py [--batch 128 --rounds 7 --threads 1]
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import time
from unittest import mock

import torch
import torch.nn.functional as F

import digitocr.data as data


def conv_blur(noise: torch.Tensor, sigma: float) -> torch.Tensor:
    """The reference: a separable Gaussian blur by two zero-padded depthwise convolutions."""
    radius = max(math.ceil(3 * sigma), 1)
    taps = torch.arange(-radius, radius + 1, dtype=noise.dtype)
    kernel = torch.exp(-(taps**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    field = F.conv2d(noise, kernel.view(1, 1, 1, -1).expand(2, 1, 1, -1), padding=(0, radius), groups=2)
    return F.conv2d(field, kernel.view(1, 1, -1, 1).expand(2, 1, -1, 1), padding=(radius, 0), groups=2)


def _time(fn, repeats: int) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats * 1000  # ms per call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=20, help="calls timed per round")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    noise = torch.rand(args.batch, 2, 28, 28, generator=generator) * 2 - 1
    images = torch.rand(args.batch, 1, 28, 28, generator=generator)
    difference = float((conv_blur(noise, 3.0) - data._blur_field(noise, 3.0)).abs().max())

    def affine_elastic_with_conv_blur() -> torch.Tensor:  # the augmentation as it was (the comparison)
        with mock.patch.object(data, "_blur_field", conv_blur):
            return data.augment_affine_elastic(images, generator)

    times: dict[str, list[float]] = {
        name: [] for name in ("conv blur", "band blur", "affine-elastic, conv", "affine-elastic, band")
    }
    for _ in range(args.rounds):
        times["conv blur"].append(_time(lambda: conv_blur(noise, 3.0), args.repeats))
        times["band blur"].append(_time(lambda: data._blur_field(noise, 3.0), args.repeats))
        times["affine-elastic, conv"].append(_time(affine_elastic_with_conv_blur, args.repeats))
        times["affine-elastic, band"].append(
            _time(lambda: data.augment_affine_elastic(images, generator), args.repeats)
        )
    print(f"{platform.machine()}, {torch.get_num_threads()} thread(s), batch {args.batch}, torch {torch.__version__}")
    print(f"largest difference between the two blurs: {difference:.1e}")
    for name, values in times.items():
        print(f"{name:>22}: {statistics.median(values):7.2f} ms median ({min(values):.2f}-{max(values):.2f})")
    for what, conv, band in (
        ("blur", "conv blur", "band blur"),
        ("affine-elastic", "affine-elastic, conv", "affine-elastic, band"),
    ):
        ratio = statistics.median(times[conv]) / statistics.median(times[band])
        print(f"{what}: the band product is {ratio:.1f}x as fast as the convolutions")


if __name__ == "__main__":
    main()
