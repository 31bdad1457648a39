"""The networks, and a registry so a checkpoint can rebuild its model from a name and plain kwargs.

Every model takes normalized images ``(B, 1, 28, 28)`` and returns logits ``(B, 10)``; the softmax
belongs in the loss and in prediction, not in ``forward``.
"""

from __future__ import annotations

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
