"""MNIST from disk to batches.

Owns: finding or downloading MNIST (through ``torchvision.datasets.MNIST``), checking the four
files against their published checksums, the seeded validation split carved out of the training
set, the fast resident-tensor batches (:class:`TensorBatches`), and the classic torchvision
``DataLoader`` pipeline kept for teaching and comparison (:func:`classic_loader`).
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from digitocr.errors import DataError

# The mean and standard deviation of MNIST training pixels scaled to [0, 1]; the values every
# PyTorch MNIST example uses (pytorch/examples mnist/main.py).
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081
IMAGE_SIZE = 28
NUM_CLASSES = 10
DEFAULT_VAL_SIZE = 5000
ENV_VAR = "DIGITOCR_DATA"

# MD5 of the *uncompressed* files, as published with the dataset (shared/mnist/MD5SUMS).
RAW_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}

_verified: set[tuple[str, float]] = set()


def default_data_dir() -> Path:
    """The data root used when none is given: ``$DIGITOCR_DATA``, else a per-user cache folder."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "digitocr" / "data"


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path:
    """The root that holds ``MNIST/raw``: the given folder, else :func:`default_data_dir`.

    Also accepts the ``MNIST`` or ``MNIST/raw`` folder itself, since people point at either.
    """
    root = Path(data_dir).expanduser() if data_dir else default_data_dir()
    if root.name == "raw" and root.parent.name == "MNIST":
        return root.parent.parent
    if root.name == "MNIST" and (root / "raw").is_dir():
        return root.parent
    return root


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_mnist(data_dir: str | os.PathLike | None = None, download: bool = False) -> Path:
    """Make sure the four MNIST files are under ``<root>/MNIST/raw`` and intact; return the root.

    With ``download=True`` missing files are fetched by torchvision. Raises :class:`DataError`
    with the fix when a file is missing, truncated or corrupt.
    """
    root = resolve_data_dir(data_dir)
    raw = root / "MNIST" / "raw"
    missing = [name for name in RAW_MD5 if not (raw / name).is_file()]
    if missing and download:
        from torchvision.datasets import MNIST

        try:
            for train in (True, False):
                MNIST(str(root), train=train, download=True)
        except Exception as exc:  # network errors come in many types (URLError, OSError, HTTPError, ...)
            raise DataError(
                f"Could not download MNIST into {raw} ({exc}). If this machine is offline, copy the four "
                f"files {', '.join(RAW_MD5)} there, or point --data-dir / ${ENV_VAR} at a folder that has them."
            ) from exc
        missing = [name for name in RAW_MD5 if not (raw / name).is_file()]
    if missing:
        raise DataError(
            f"MNIST not found: {raw} lacks {', '.join(missing)}. Run with --download to fetch it, or point "
            f"--data-dir / ${ENV_VAR} at a folder that holds MNIST/raw/*-ubyte."
        )
    for name, expected in RAW_MD5.items():
        path = raw / name
        key = (str(path.resolve()), path.stat().st_mtime)
        if key in _verified:
            continue
        if _md5(path) != expected:
            raise DataError(
                f"MNIST file {path} is corrupt (MD5 mismatch, expected {expected}). Delete it and run again "
                f"with --download, or copy an intact file there."
            )
        _verified.add(key)
    return root


def load_mnist(
    data_dir: str | os.PathLike | None = None, train: bool = True, download: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load one MNIST split as ``(images uint8 (N, 28, 28), labels int64 (N,))`` through torchvision."""
    from torchvision.datasets import MNIST

    root = ensure_mnist(data_dir, download=download)
    dataset = MNIST(str(root), train=train, download=False)
    return dataset.data, dataset.targets


def split_train_val(labels: torch.Tensor, val_size: int = DEFAULT_VAL_SIZE, seed: int = 0):
    """Seeded, stratified, disjoint split of ``range(len(labels))`` into ``(train_idx, val_idx)``.

    The indices are shuffled, grouped by class (random order within a class), and every
    ``N / val_size``-th one goes to validation, so each class gets its proportional share.
    """
    n = len(labels)
    if not 0 <= val_size < n:
        raise DataError(f"val_size must be between 0 and {n - 1}, got {val_size}.")
    generator = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=generator)
    by_class = perm[torch.argsort(labels[perm], stable=True)]
    is_val = torch.zeros(n, dtype=torch.bool)
    if val_size:
        is_val[(torch.arange(val_size) * n) // val_size] = True
    val_idx = by_class[is_val].sort().values
    train_idx = by_class[~is_val].sort().values
    return train_idx, val_idx


@dataclass(frozen=True)
class MNISTSplits:
    """The three splits as resident uint8 images (N, 28, 28) and int64 labels (N,)."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    val_images: torch.Tensor
    val_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor


def load_splits(
    data_dir: str | os.PathLike | None = None,
    val_size: int = DEFAULT_VAL_SIZE,
    seed: int = 0,
    download: bool = False,
) -> MNISTSplits:
    """Train / validation (carved from the 60k training set) / test, all as tensors in memory."""
    images, labels = load_mnist(data_dir, train=True, download=download)
    test_images, test_labels = load_mnist(data_dir, train=False)
    train_idx, val_idx = split_train_val(labels, val_size, seed)
    return MNISTSplits(images[train_idx], labels[train_idx], images[val_idx], labels[val_idx], test_images, test_labels)


def normalize(images: torch.Tensor) -> torch.Tensor:
    """uint8 pixels (or floats in [0, 1]) → float32 standardized with the MNIST mean and std."""
    x = images.float()
    if images.dtype == torch.uint8:
        x = x / 255.0
    return (x - MNIST_MEAN) / MNIST_STD


Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]
# A change that depends on the label: (images (B, 1, 28, 28) in [0, 1], labels (B,), generator) → images.
Restyle = Callable[[torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]


def batch_seed(seed: int, epoch: int, batch: int = -1) -> int:
    """A seed that depends only on (seed, epoch, batch): shuffles and augmentation can be replayed
    exactly from any point, which is what makes resuming mid-epoch give the same weights."""
    return (seed * 1_000_003 + epoch * 10_007 + batch + 1) % (2**63)


class TensorBatches:
    """Batches drawn by index from images resident on the device.

    The whole split lives in memory as uint8 (47 MB for MNIST, a quarter of float32). Each epoch
    draws a seeded permutation, optionally keeps this process's shard (DDP), and for every batch
    gathers the images, scales them to [0, 1], applies ``restyle`` (changes that depend on the
    label, e.g. :func:`continental_forms`) and then ``augment`` to the whole batch on the device,
    and normalizes. Yields ``(x float32 (B, 1, 28, 28), y int64 (B,))``. No per-sample Python work.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        batch_size: int,
        *,
        shuffle: bool,
        seed: int = 0,
        device: torch.device | str = "cpu",
        drop_last: bool = False,
        augment: Augment | None = None,
        restyle: Restyle | None = None,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if images.dtype != torch.uint8 or images.dim() != 3:
            raise ValueError(f"images must be uint8 (N, 28, 28), got {images.dtype} {tuple(images.shape)}")
        self.device = torch.device(device)
        self.images = images.to(self.device)
        self.labels = labels.to(self.device)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.augment = augment
        self.restyle = restyle
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _indices(self) -> torch.Tensor:
        n = len(self.labels)
        if self.shuffle:
            generator = torch.Generator().manual_seed(batch_seed(self.seed, self.epoch))
            order = torch.randperm(n, generator=generator)
        else:
            order = torch.arange(n)
        if self.world_size > 1:
            # Every rank gets the same number of samples (DistributedSampler's convention): pad by wrapping.
            per_rank = math.ceil(n / self.world_size)
            order = torch.cat([order, order[: per_rank * self.world_size - n]])
            order = order[self.rank :: self.world_size]
        return order

    def __len__(self) -> int:
        n = math.ceil(len(self.labels) / self.world_size)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return self.iter_from(0)

    def iter_from(self, start_batch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Iterate this epoch from batch ``start_batch`` on (used to resume an interrupted epoch)."""
        order = self._indices().to(self.device)
        for b in range(start_batch, len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            x = self.images[idx].unsqueeze(1).float().div_(255.0)  # (B, 1, 28, 28) in [0, 1]
            y = self.labels[idx]
            if self.augment is not None or self.restyle is not None:
                generator = torch.Generator(device=self.device).manual_seed(batch_seed(self.seed, self.epoch, b))
                if self.restyle is not None:  # before the augmentation, so the new strokes slant with the rest
                    x = self.restyle(x, y, generator)
                if self.augment is not None:
                    x = self.augment(x, generator)
            yield x.sub_(MNIST_MEAN).div_(MNIST_STD), y


def classic_transform(flatten: bool = True):
    """The course's per-sample pipeline: ``ToTensor`` → ``Normalize`` → (flatten to 784)."""
    from torchvision import transforms

    steps = [transforms.ToTensor(), transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))]
    if flatten:
        steps.append(transforms.Lambda(torch.flatten))
    return transforms.Compose(steps)


def classic_loader(
    data_dir: str | os.PathLike | None = None,
    train: bool = True,
    batch_size: int = 64,
    *,
    shuffle: bool,
    indices: torch.Tensor | None = None,
    flatten: bool = True,
    seed: int = 0,
    num_workers: int = 0,
    download: bool = False,
) -> torch.utils.data.DataLoader:
    """The classic torchvision ``Dataset`` + ``DataLoader`` pipeline, one PIL image at a time.

    Slower than :class:`TensorBatches` (see ``benchmarks/classic_vs_resident.py``) but the way the
    course and most tutorials do it; ``indices`` restricts it to a subset such as the training part
    of :func:`split_train_val`.
    """
    from torch.utils.data import DataLoader, Subset
    from torchvision.datasets import MNIST

    root = ensure_mnist(data_dir, download=download)
    dataset = MNIST(str(root), train=train, transform=classic_transform(flatten), download=False)
    if indices is not None:
        dataset = Subset(dataset, indices.tolist())
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=num_workers, generator=generator)


# ---------------------------------------------------------------------------------------------
# Augmentation on whole batches, on the batch's device. Each function takes images (B, 1, 28, 28)
# in [0, 1] (ink 1, background 0) and a generator, and returns a batch of the same shape.


def _uniform(n: int, bound: float, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    return (torch.rand(n, generator=generator, device=device) * 2 - 1) * bound


def random_affine(
    x: torch.Tensor,
    generator: torch.Generator,
    *,
    degrees: float = 0.0,
    scale: float = 0.0,
    shear: float = 0.0,
    translate: float = 0.0,
) -> torch.Tensor:
    """A random affine transform per image, drawn uniformly within the bounds: rotation in degrees,
    relative scale (1 ± scale), shear in degrees, translation in pixels; one ``grid_sample`` for the batch."""
    import torch.nn.functional as F

    b, _, h, w = x.shape
    dev = x.device
    angle = torch.deg2rad(_uniform(b, degrees, generator, dev))
    shear_rad = torch.deg2rad(_uniform(b, shear, generator, dev))
    s = 1 + _uniform(b, scale, generator, dev)
    tx = _uniform(b, 2 * translate / w, generator, dev)  # grid coordinates span 2 over the width
    ty = _uniform(b, 2 * translate / h, generator, dev)
    cos, sin, tan = torch.cos(angle), torch.sin(angle), torch.tan(shear_rad)
    # theta maps output coordinates to input coordinates: rotation · shear, divided by the scale.
    theta = torch.stack(
        [
            torch.stack([cos, cos * tan - sin, tx], 1),
            torch.stack([sin, sin * tan + cos, ty], 1),
        ],
        1,
    ) / torch.stack([s, s, torch.ones_like(s)], 1).unsqueeze(1)  # (B, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def augment_shift(x: torch.Tensor, generator: torch.Generator, strength: float = 1.0) -> torch.Tensor:
    """Translation by up to 2 px (times ``strength``): what lets an MLP see digits a little off-centre."""
    return random_affine(x, generator, translate=2.0 * strength)


def augment_affine(x: torch.Tensor, generator: torch.Generator, strength: float = 1.0) -> torch.Tensor:
    """The random affine that CNNs on MNIST train with: ±10° rotation, ±10% scale, ±10° shear, ±2 px shift."""
    return random_affine(
        x,
        generator,
        degrees=10.0 * strength,
        scale=0.1 * strength,
        shear=10.0 * strength,
        translate=2.0 * strength,
    )


def _gaussian_band(n: int, sigma: float, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """(n, n) matrix whose product with a signal is its Gaussian blur with zero padding."""
    radius = max(math.ceil(3 * sigma), 1)
    taps = torch.arange(-radius, radius + 1, device=device, dtype=dtype)
    total = torch.exp(-(taps**2) / (2 * sigma**2)).sum()
    offsets = torch.arange(n, device=device, dtype=dtype)
    offsets = offsets[:, None] - offsets[None, :]  # (n, n)
    band = torch.exp(-(offsets**2) / (2 * sigma**2)) * (offsets.abs() <= radius)
    return band / total


def _blur_field(field: torch.Tensor, sigma: float) -> torch.Tensor:
    """A separable Gaussian blur (truncated at 3 sigma, zero outside the image) of (..., H, W), written
    as two products with banded matrices: the same numbers as a pair of zero-padded depthwise
    convolutions, about 15 times faster on a CPU (benchmarks/elastic_blur.py)."""
    h, w = field.shape[-2:]
    return (
        _gaussian_band(h, sigma, field.device, field.dtype)
        @ field
        @ _gaussian_band(w, sigma, field.device, field.dtype).T
    )


def elastic_distortion(
    x: torch.Tensor, generator: torch.Generator, *, alpha: float = 1.0, sigma: float = 3.0
) -> torch.Tensor:
    """Elastic distortion of Simard, Steinkraus & Platt (2003), "Best practices for convolutional
    neural networks applied to visual document analysis": a random displacement field, uniform in
    [-1, 1] per pixel, smoothed by a Gaussian of width ``sigma`` px and rescaled so that its RMS
    displacement is ``alpha`` px, applied with one ``grid_sample`` for the batch. Simard scaled the
    unnormalized field by 34 with sigma 4; normalizing makes ``alpha`` readable: 1 px bends strokes
    and keeps every digit readable, 2 px already breaks some."""
    import torch.nn.functional as F

    b, _, h, w = x.shape
    dev = x.device
    noise = torch.rand(b, 2, h, w, generator=generator, device=dev) * 2 - 1  # (B, 2, H, W) in [-1, 1]
    field = _blur_field(noise, sigma)
    # Normalize the smoothed field to unit RMS so that ``alpha`` is the typical displacement in pixels.
    field = field / field.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt().clamp_min(1e-8)
    displacement = field.permute(0, 2, 3, 1) * alpha * torch.tensor([2 / w, 2 / h], device=dev)  # (B, H, W, 2)
    identity = torch.eye(2, 3, device=dev, dtype=x.dtype).expand(b, 2, 3)
    grid = F.affine_grid(identity, list(x.shape), align_corners=False) + displacement
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def augment_elastic(x: torch.Tensor, generator: torch.Generator, strength: float = 1.0) -> torch.Tensor:
    """Elastic distortion only (typical displacement 1 px times ``strength``, sigma 3 px)."""
    return elastic_distortion(x, generator, alpha=1.0 * strength, sigma=3.0)


def augment_affine_elastic(x: torch.Tensor, generator: torch.Generator, strength: float = 1.0) -> torch.Tensor:
    """The random affine of ``affine`` followed by a mild elastic distortion (Simard et al., 2003)."""
    return augment_elastic(augment_affine(x, generator, strength), generator, strength)


def augment_handwriting(x: torch.Tensor, generator: torch.Generator, strength: float = 1.0) -> torch.Tensor:
    """What changes between MNIST and digits photographed on paper, drawn per image (issue 5).

    Pen width (a blend towards a 2×2 grey dilation, ``max_pool``, or erosion, ``-max_pool(-x)``, and a
    marker's 3×3 dilation for 15%), slant (shear up to ±17°), aspect (0.8-1.25), scale (±10%),
    rotation (±8°) and shift (±2 px) in one ``grid_sample``; then, each for part of the batch: blur or
    a sharper edge (pen vs. MNIST's anti-aliasing), faint background noise and specks, and a piece of
    a box border or ruled line at the frame. All bounds scale with ``strength``; about a quarter of
    the images keep their shape.
    """
    import torch.nn.functional as F

    b, _, h, w = x.shape
    dev = x.device

    def rand(lo: float = 0.0, hi: float = 1.0) -> torch.Tensor:
        return (lo + (hi - lo) * torch.rand(b, generator=generator, device=dev)).view(b, 1, 1, 1)

    # Pen width: dilation or erosion by a 2×2 window (one pixel), blended by a random amount.
    padded = F.pad(x, (0, 1, 0, 1))
    thick = F.max_pool2d(padded, 2, stride=1)
    thin = -F.max_pool2d(-padded, 2, stride=1)
    amount = rand(-1.0, 1.0) * min(1.0, strength)
    x = torch.where(amount > 0, x + amount * (thick - x), x + (-amount) * (thin - x))
    # A marker: a further 3×3 dilation for some, so the loops of small digits fill as they do on paper.
    heavy = rand() < 0.15 * strength
    x = torch.where(heavy, F.max_pool2d(x, 3, stride=1, padding=1), x)
    # Shape: slant, aspect, scale, rotation, shift; a quarter of the batch untouched.
    keep = rand() < 0.25
    angle = torch.deg2rad(rand(-8, 8) * strength).flatten()
    slant = (rand(-0.3, 0.3) * strength).flatten()
    aspect = torch.exp(rand(-0.22, 0.22) * strength).flatten()
    s = (1 + rand(-0.1, 0.1) * strength).flatten()
    tx, ty = (rand(-2, 2) * strength * 2 / w).flatten(), (rand(-2, 2) * strength * 2 / h).flatten()
    cos, sin = torch.cos(angle), torch.sin(angle)
    # Output → input coordinates: (rotation · shear · aspect)⁻¹ approximated by composing the inverses.
    sx, sy = 1 / (s * aspect.sqrt()), aspect.sqrt() / s
    a11, a12 = cos * sx, (sin + slant * cos) * sx
    a21, a22 = -sin * sy, (cos - slant * sin) * sy
    theta = torch.stack([torch.stack([a11, a12, tx], 1), torch.stack([a21, a22, ty], 1)], 1)  # (B, 2, 3)
    identity = torch.eye(2, 3, device=dev, dtype=x.dtype).expand(b, 2, 3)
    theta = torch.where(keep.view(b, 1, 1), identity, theta)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    # Edges: a 3×3 binomial blur for some, a steeper (pen-like) edge for others.
    kernel = torch.tensor([1.0, 2.0, 1.0], device=dev, dtype=x.dtype)
    kernel = (kernel[:, None] * kernel[None, :] / 16).view(1, 1, 3, 3)
    blurred = F.conv2d(x, kernel, padding=1)
    edge = rand()
    x = torch.where(edge < 0.25 * strength, blurred, x)
    x = torch.where(edge > 1 - 0.25 * strength, ((x - 0.25) / 0.5).clamp(0, 1), x)
    # A piece of a box border or ruled line touching the frame, for ~8% of the images.
    line = rand() < 0.08 * strength
    side = torch.randint(0, 4, (b,), generator=generator, device=dev).view(b, 1, 1, 1)
    offset = torch.randint(0, 3, (b,), generator=generator, device=dev).view(b, 1, 1, 1)
    start = torch.randint(0, w // 2, (b,), generator=generator, device=dev).view(b, 1, 1, 1)
    rows = torch.arange(h, device=dev).view(1, 1, h, 1)
    cols = torch.arange(w, device=dev).view(1, 1, 1, w)
    along = torch.where(side < 2, cols, rows)
    across = torch.where(side % 2 == 0, torch.where(side < 2, rows, cols), (h - 1) - torch.where(side < 2, rows, cols))
    stroke = (across == offset) & (along >= start) & (along < start + w // 2)
    x = torch.maximum(x, (stroke & line).to(x.dtype) * rand(0.5, 1.0))
    # Faint noise on the background and a few specks.
    noisy = rand() < 0.15 * strength
    noise = torch.rand(x.shape, generator=generator, device=dev)
    x = x + noisy.to(x.dtype) * rand(0.0, 0.08) * noise * (noise > 0.7).to(x.dtype)
    specks = (torch.rand(x.shape, generator=generator, device=dev) < 0.004) & (rand() < 0.2 * strength)
    return torch.maximum(x, specks.to(x.dtype)).clamp(0, 1)


def _segments(
    x0: torch.Tensor, y0: torch.Tensor, x1: torch.Tensor, y1: torch.Tensor, width: torch.Tensor, h: int, w: int
) -> torch.Tensor:
    """Anti-aliased line segments, one per image: (B,) end points and pen widths in pixels → (B, 1, h, w)."""
    dev = x0.device
    rows = torch.arange(h, device=dev, dtype=x0.dtype).view(1, h, 1)
    cols = torch.arange(w, device=dev, dtype=x0.dtype).view(1, 1, w)
    x0, y0, x1, y1, width = (t.view(-1, 1, 1) for t in (x0, y0, x1, y1, width))
    dx, dy = x1 - x0, y1 - y0
    t = (((cols - x0) * dx + (rows - y0) * dy) / (dx * dx + dy * dy).clamp(min=1e-6)).clamp(0, 1)
    distance = torch.hypot(cols - (x0 + t * dx), rows - (y0 + t * dy))  # (B, h, w) to the nearest point
    return (width / 2 + 0.5 - distance).clamp(0, 1).unsqueeze(1)


def continental_forms(x: torch.Tensor, y: torch.Tensor, generator: torch.Generator, share: float) -> torch.Tensor:
    """Redraw part of the 1s and 7s the way they are written in much of Europe and Latin America.

    MNIST's writers were American: its 1s are one stroke and few of its 7s are crossed, so a 1 with
    a flag (a short stroke leading into the top of the stem) reads as a 7. For ``share`` of the 1s,
    a flag from the top of the stem down to the left (20-60° below the horizontal, 20-45% of the
    digit's height); for ``share`` of the 7s, a short bar across the middle of the stem. Pen width
    1.5-2.5 px, like MNIST's strokes. Images (B, 1, H, W) in [0, 1], ink white; labels (B,).
    """
    b, _, h, w = x.shape
    dev, dtype = x.device, x.dtype

    def rand(lo: float = 0.0, hi: float = 1.0) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(b, generator=generator, device=dev, dtype=dtype)

    ink = x[:, 0] > 0.5  # (B, H, W)
    rows_with_ink = ink.any(2)  # (B, H)
    top = rows_with_ink.to(dtype).argmax(1)  # first row with ink
    bottom = (h - 1) - rows_with_ink.flip(1).to(dtype).argmax(1)
    height = (bottom - top).to(dtype)
    cols = torch.arange(w, device=dev, dtype=dtype)

    def centre_at(row: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The middle of the ink on each image's given row, and whether there is ink there."""
        line = ink[torch.arange(b, device=dev), row.long().clamp(0, h - 1)].to(dtype)  # (B, W)
        return (line * cols).sum(1) / line.sum(1).clamp(min=1), line.sum(1) > 0

    pick = rand() < share
    width = rand(1.5, 2.5)
    # A 1's flag: from the top of the stem, down and to the left.
    start_x, found = centre_at(top)
    angle = torch.deg2rad(rand(20, 60))
    length = rand(0.2, 0.45) * height
    flag = _segments(
        start_x, top.to(dtype), start_x - length * torch.cos(angle), top + length * torch.sin(angle), width, h, w
    )
    ones = (pick & (y == 1) & found & (height >= 8)).view(b, 1, 1, 1)
    # A 7's bar: across the stem, a little below the middle, level or slightly tilted.
    row = top + rand(0.45, 0.6) * height
    mid_x, found = centre_at(row)
    half = rand(0.15, 0.25) * height
    tilt = rand(-0.15, 0.15) * half
    bar = _segments(mid_x - half, row + tilt, mid_x + half, row - tilt, width, h, w)
    sevens = (pick & (y == 7) & found & (height >= 8)).view(b, 1, 1, 1)
    strength = rand(0.8, 1.0).view(b, 1, 1, 1)
    x = torch.where(ones, torch.maximum(x, flag * strength), x)
    return torch.where(sevens, torch.maximum(x, bar * strength), x)


def make_restyle(continental: float = 0.0) -> Restyle | None:
    """The label-aware changes a config asks for (None when none): :func:`continental_forms`."""
    if continental <= 0:
        return None
    return lambda x, y, generator: continental_forms(x, y, generator, continental)


AUGMENTS: dict[str, Callable[..., torch.Tensor] | None] = {
    "none": None,
    "shift": augment_shift,
    "affine": augment_affine,
    "elastic": augment_elastic,
    "affine-elastic": augment_affine_elastic,
    "handwriting": augment_handwriting,
}


def make_augment(name: str, strength: float = 1.0) -> Augment | None:
    """The batch augmentation registered under ``name`` at the given strength (None for "none")."""
    if name not in AUGMENTS:
        raise DataError(f"Unknown augmentation {name!r}. Choose one of: {', '.join(AUGMENTS)}.")
    fn = AUGMENTS[name]
    if fn is None or strength == 0:
        return None
    return lambda x, generator: fn(x, generator, strength=strength)
