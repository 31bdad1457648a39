"""The networks, and a registry so a checkpoint can rebuild its model from a name and plain kwargs.

Every model takes normalized images ``(B, 1, 28, 28)`` and returns logits ``(B, 10)``; the softmax
belongs in the loss and in prediction, not in ``forward``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from digitocr.errors import DigitOCRError

NUM_CLASSES = 10
IN_FEATURES = 28 * 28


@dataclass(frozen=True)
class ModelSpec:
    name: str
    factory: Callable[..., nn.Module]
    summary: str


MODELS: dict[str, ModelSpec] = {}


def register(name: str, summary: str):
    """Add a model factory to the registry under ``name``."""

    def decorator(factory):
        MODELS[name] = ModelSpec(name, factory, summary)
        return factory

    return decorator


def build_model(name: str, **kwargs) -> nn.Module:
    """Build a registered model; ``build_model(ckpt["model"], **ckpt["model_kwargs"])`` rebuilds a checkpoint's."""
    if name not in MODELS:
        raise DigitOCRError(f"Unknown model {name!r}. Choose one of: {', '.join(sorted(MODELS))}.")
    try:
        return MODELS[name].factory(**kwargs)
    except TypeError as exc:
        raise DigitOCRError(f"Bad options for model {name!r}: {exc}") from exc


def last_layer(model: nn.Module, kind: type[nn.Module]) -> nn.Module | None:
    """The last submodule of type ``kind`` in definition order (the last convolution for Grad-CAM,
    the classifier's linear layer for feature-space scores), or None if there is none."""
    found = None
    for module in model.modules():
        if isinstance(module, kind):
            found = module
    return found


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@register("mlp", "the course's original MLP: 784→128→90→50→10 with ReLU")
class MLP(nn.Module):
    """A fully connected network on flattened pixels.

    The default is the original course network, 784→128→90→50→10 with ReLU; ``hidden`` and
    ``dropout`` change its widths and regularization (``hidden=(1024, 1024)`` is the classic wide
    MLP of Simard et al., 2003).
    """

    def __init__(self, hidden: Sequence[int] = (128, 90, 50), dropout: float = 0.0) -> None:
        super().__init__()
        self.hidden = tuple(int(h) for h in hidden)
        layers: list[nn.Module] = []
        width = IN_FEATURES
        for h in self.hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, NUM_CLASSES))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)  # (B, 1, 28, 28) -> (B, 784)
        return self.net(x)  # (B, 10) logits


def _channels_last(x: torch.Tensor) -> torch.Tensor:
    """NHWC layout for the convolutions: oneDNN's CPU kernels run this model family 1.3-1.6× faster
    in it (measured on a 2-core x86_64 CPU, batch 128 forward+backward), and it is the layout CUDA's
    tensor cores want. A no-op for the one-channel input, whose strides already fit both layouts."""
    return x.contiguous(memory_format=torch.channels_last)


def _conv_bn(c_in: int, c_out: int) -> list[nn.Module]:
    """3×3 convolution (no bias: the BatchNorm after it has one), BatchNorm, ReLU."""
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


@register("cnn-fast", "two conv+BN layers, max-pooling, a small dense head: 99% in about one epoch")
class FastCNN(nn.Module):
    """The smallest CNN that reaches 99% test accuracy in about one epoch on a CPU.

    Design: the two-convolution LeNet shape (LeCun et al., 1998) with the reference PyTorch MNIST
    example's widths halved (pytorch/examples ``mnist/main.py`` uses 32 and 64), BatchNorm after
    each convolution (Ioffe & Szegedy, 2015) so a one-cycle schedule (Smith & Topin, 2018) can run
    a large batch at a high learning rate, as the fast-training runs (airbench, Keller Jordan's
    "94% on CIFAR-10 in 3.29 seconds") do. Pooling after *each* convolution keeps the second
    convolution at 14×14, a quarter of the reference example's cost.

    Shapes: (B, 1, 28, 28) → conv → pool (B, c1, 14, 14) → conv → pool (B, c2, 7, 7) → dense → (B, 10).
    """

    def __init__(self, channels: Sequence[int] = (16, 32), hidden: int = 256, dropout: float = 0.0) -> None:
        super().__init__()
        c1, c2 = (int(c) for c in channels)
        # Pool *before* BatchNorm and ReLU, as airbench does: the same network up to BN's sign, with
        # a quarter of the BN/ReLU work (on a CPU these memory-bound layers cost as much as the convs).
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1, bias=False),
            nn.MaxPool2d(2),  # (B, c1, 14, 14)
            nn.BatchNorm2d(c1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c1, c2, 3, padding=1, bias=False),
            nn.MaxPool2d(2),  # (B, c2, 7, 7)
            nn.BatchNorm2d(c2),
            nn.ReLU(inplace=True),
        )
        head: list[nn.Module] = [nn.Flatten(), nn.Linear(c2 * 7 * 7, hidden), nn.ReLU(inplace=True)]
        if dropout:
            head.append(nn.Dropout(dropout))
        head.append(nn.Linear(hidden, NUM_CLASSES))
        self.head = nn.Sequential(*head)
        self.to(memory_format=torch.channels_last)  # conv weights NHWC (see _channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(_channels_last(x)))  # (B, 10) logits


@register("cnn", "the accurate single model: 2×2 conv+BN blocks (VGG style), dropout, dense head")
class CNN(nn.Module):
    """The accurate single model, aimed at ≥ 99.7% test accuracy with augmentation.

    Design: the VGG pattern (Simonyan & Zisserman, 2014) — blocks of two 3×3 convolutions, each
    followed by BatchNorm and ReLU, then 2×2 max-pooling — at MNIST scale, as in the top Kaggle
    "Digit Recognizer" CNNs (Chris Deotte, "How to choose CNN architecture MNIST", 2018) that reach
    99.7% with random-affine augmentation; dropout before the dense head (Srivastava et al., 2014).

    Shapes: (B, 1, 28, 28) → block (B, c1, 14, 14) → block (B, c2, 7, 7) → dense → (B, 10).
    """

    def __init__(self, channels: Sequence[int] = (32, 64), hidden: int = 256, dropout: float = 0.3) -> None:
        super().__init__()
        c1, c2 = (int(c) for c in channels)
        self.features = nn.Sequential(
            *_conv_bn(1, c1),
            *_conv_bn(c1, c1),
            nn.MaxPool2d(2),  # (B, c1, 14, 14)
            *_conv_bn(c1, c2),
            *_conv_bn(c2, c2),
            nn.MaxPool2d(2),  # (B, c2, 7, 7)
        )
        self.head = nn.Sequential(
            nn.Flatten(),  # (B, c2 * 49)
            nn.Dropout(dropout),
            nn.Linear(c2 * 7 * 7, hidden, bias=False),
            nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, NUM_CLASSES),
        )
        self.to(memory_format=torch.channels_last)  # conv weights NHWC (see _channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(_channels_last(x)))  # (B, 10) logits


@register("ensemble", "several models as one: the log of the mean of their softmax probabilities")
class Ensemble(nn.Module):
    """Members averaged in probability space, saved and loaded like any single model.

    ``members`` is a list of ``{"model": name, "model_kwargs": {...}}``, so a checkpoint rebuilds the
    ensemble from the registry like any other model (``digitocr.ensemble.save_ensemble`` writes one).
    ``forward`` returns ``log(mean_i softmax(f_i(x)))``: its softmax is the members' mean probability,
    the average of Dietterich (2000) and of the MNIST committees of Ciresan et al. (2012), and it
    works as logits wherever a single model's logits do.
    """

    def __init__(self, members: Sequence[dict]) -> None:
        super().__init__()
        if not members:
            raise TypeError("an ensemble needs at least one member")
        self.specs = [{"model": m["model"], "model_kwargs": dict(m.get("model_kwargs", {}))} for m in members]
        self.members = nn.ModuleList(build_model(m["model"], **m["model_kwargs"]) for m in self.specs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        log_probs = torch.stack([torch.log_softmax(m(x).float(), dim=1) for m in self.members])  # (M, B, 10)
        return torch.logsumexp(log_probs, dim=0) - math.log(len(self.members))  # (B, 10) log mean probability
