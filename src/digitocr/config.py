"""Training configuration: one frozen dataclass whose defaults are the product's defaults.

The config is stored in every checkpoint as a plain dict (:meth:`TrainConfig.to_dict`), so a run
can be inspected, repeated or resumed from the checkpoint alone.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digitocr.errors import DigitOCRError

OPTIMIZERS = ("adamw", "adam", "sgd", "adadelta")
SCHEDULES = ("onecycle", "cosine", "step", "constant")
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run.

    The defaults train the original MLP (784→128→90→50→10) to ≥98% test accuracy in well under a
    minute on 2 CPU cores; they were chosen on the validation split (see benchmarks/README.md).
    """

    model: str = "mlp"
    # Keyword arguments of the model; empty = the model's own defaults (for "mlp": the original
    # 784→128→90→50→10 without dropout), so changing ``model`` alone never inherits another model's options.
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    epochs: int = 20
    batch_size: int = 128
    lr: float = 3e-3
    optimizer: str = "adamw"
    momentum: float = 0.9  # SGD only
    weight_decay: float = 1e-4
    schedule: str = "onecycle"
    warmup: float = 0.2  # fraction of the steps spent warming up (onecycle, cosine)
    step_gamma: float = 0.7  # per-epoch decay factor (step schedule)
    label_smoothing: float = 0.05
    augment: str = "shift"  # name in digitocr.augment.AUGMENTS ("none" for raw MNIST)
    augment_strength: float = 1.0
    ema: float = 0.0  # decay of an exponential moving average of the weights; 0 = off
    # Outlier exposure (Hendrycks et al., 2019): alongside each batch, this many synthetic non-digits
    # (letters, scribbles, shapes from digitocr.outliers) are pushed towards a uniform prediction,
    # so that a low confidence can refuse them. 0 = off.
    outlier_batch: int = 0
    outlier_weight: float = 0.5
    # Share of those non-digits that are two training digits touching side by side
    # (digitocr.outliers.touching_pairs): reading numbers scores cut points by the model's
    # confidence, so a piece holding two digits must not look like one confident digit.
    outlier_pairs: float = 0.0
    # Share of the training 1s and 7s redrawn the continental way (digitocr.data.continental_forms):
    # a 1 with a flag, a 7 with a bar across its stem. MNIST's writers were American. 0 = off.
    continental: float = 0.0
    # Share of the training digits (and of the synthetic non-digits) replaced by themselves written
    # on paper, photographed and read back by preprocess (digitocr.photo.round_trip), so the model
    # sees what reading a real picture does to a digit. 0 = off.
    round_trip: float = 0.0
    seed: int = 0
    device: str = "auto"
    val_size: int = 5000
    split_seed: int = 0  # the validation split stays the same whatever the training seed
    train_limit: int = 0  # train on the first N training images only (quick runs, tests); 0 = all
    data_dir: str | None = None
    download: bool = False
    out_dir: str = "runs/latest"
    keep_checkpoints: int = 3  # per-epoch checkpoints kept in the run folder; 0 keeps all
    eval_batch_size: int = 1000
    num_threads: int = 0  # torch intra-op threads on CPU; 0 leaves torch's default
    amp: bool = True  # bfloat16 autocast on CUDA
    compile: bool = False  # torch.compile the model
    preset: str | None = None

    def __post_init__(self) -> None:
        checks = [
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}"),
            (self.schedule in SCHEDULES, f"schedule must be one of {SCHEDULES}, got {self.schedule!r}"),
            (self.device in DEVICES or self.device.startswith("cuda:"), f"device must be one of {DEVICES}"),
            (self.epochs >= 1, f"epochs must be at least 1, got {self.epochs}"),
            (self.batch_size >= 1, f"batch_size must be at least 1, got {self.batch_size}"),
            (self.lr > 0, f"lr must be positive, got {self.lr}"),
            (0 <= self.label_smoothing < 1, "label_smoothing must be in [0, 1)"),
            (0 <= self.ema < 1, "ema must be in [0, 1)"),
            (0 <= self.warmup < 1, "warmup must be in [0, 1)"),
            (0 <= self.continental <= 1, f"continental must be in [0, 1], got {self.continental}"),
            (0 <= self.round_trip <= 1, f"round_trip must be in [0, 1], got {self.round_trip}"),
        ]
        for ok, message in checks:
            if not ok:
                raise DigitOCRError(f"Invalid training config: {message}.")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise DigitOCRError(
                f"Unknown config field(s) {', '.join(unknown)}; known fields: {', '.join(sorted(known))}."
            )
        return cls(**values)

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_file(cls, path: str | Path, base: TrainConfig | None = None) -> TrainConfig:
        """Read a JSON object of config fields (as written by :meth:`to_file` or ``digitocr tune``);
        fields it does not name keep their values from ``base`` (default: the product defaults)."""
        try:
            values = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise DigitOCRError(f"Cannot read config file {path}: {exc}") from exc
        if not isinstance(values, dict):
            raise DigitOCRError(f"Config file {path} must hold a JSON object of TrainConfig fields.")
        return cls.from_dict({**(base or cls()).to_dict(), **values})

    def to_file(self, path: str | Path) -> None:
        from digitocr.checkpoint import atomic_write_text

        atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=2) + "\n")


# The accurate single model: random-affine augmentation, label smoothing, EMA of the weights.
_ACCURATE: dict[str, Any] = {
    "model": "cnn",
    "model_kwargs": {"channels": [32, 64], "hidden": 256, "dropout": 0.3},
    "epochs": 30,
    "batch_size": 128,
    "lr": 3e-3,
    "optimizer": "adamw",
    "weight_decay": 5e-4,
    "schedule": "onecycle",
    "warmup": 0.2,
    "label_smoothing": 0.1,
    "augment": "affine",
    "augment_strength": 1.0,
    "ema": 0.999,
}

# Named starting points. Each preset is a set of TrainConfig overrides; the CLI prints the
# resulting config and the checkpoint stores it.
PRESETS: dict[str, dict[str, Any]] = {
    # The course's MLP with the product defaults above (~98% in about a minute on 2 CPU cores).
    "original": {},
    # cnn-fast to ≥99% in one epoch: SGD with Nesterov momentum at a high peak learning rate on a
    # one-cycle schedule (Smith & Topin, 2018), label smoothing (Szegedy et al., 2016), no
    # augmentation (one epoch is too short to profit from it). Chosen on validation over seeds;
    # see benchmarks/time_to_99.py and benchmarks/README.md.
    "fast": {
        "model": "cnn-fast",
        "model_kwargs": {"channels": [16, 32], "hidden": 256},
        "epochs": 1,
        "batch_size": 128,
        "lr": 0.2,
        "optimizer": "sgd",
        "momentum": 0.9,
        "weight_decay": 5e-4,
        "schedule": "onecycle",
        "warmup": 0.15,
        "label_smoothing": 0.1,
        "augment": "none",
        "ema": 0.0,
    },
    "accurate": _ACCURATE,
    # For pictures of real handwriting (issue 5): the accurate CNN trained with the "handwriting"
    # augmentation (pen width, slant, aspect, blur, box-line remnants) and outlier exposure on
    # synthetic non-digits (digitocr.outliers), so that low confidence refuses letters and scribbles,
    # 30% of them two training digits touching (a wrong cut when reading a number must not look like
    # one confident digit), and a quarter of the 1s and 7s written the continental way (a flag on the
    # 1, a bar across the 7); half of the digits and non-digits are written on paper, photographed
    # and read back by preprocess (digitocr.photo: numbers on the realistic tuning sets 699 / 706 of
    # 800 for seeds 0 / 1 against 689, and 704 with all of them). 24 epochs take ~25 min of one free
    # CPU thread (plus ~1 min for the round trips); on the realistic tuning sets they beat 8 epochs
    # (numbers 666-670 vs 662 of 800, three seeds); see benchmarks/README.md "Reading real images".
    "handwriting": {
        **_ACCURATE,
        "epochs": 24,
        "augment": "handwriting",
        "outlier_batch": 32,
        "outlier_weight": 0.5,
        "outlier_pairs": 0.3,
        "continental": 0.25,
        "round_trip": 0.5,
    },
    # How far an MLP goes: the wide MLP of Simard et al. (2003) with dropout and affine augmentation.
    "wide-mlp": {
        "model": "mlp",
        "model_kwargs": {"hidden": [1024, 1024], "dropout": 0.2},
        "epochs": 30,
        "batch_size": 256,
        "lr": 2e-3,
        "augment": "affine",
        "label_smoothing": 0.1,
        "ema": 0.999,
    },
}


def config_from_preset(preset: str, **overrides: Any) -> TrainConfig:
    if preset not in PRESETS:
        raise DigitOCRError(f"Unknown preset {preset!r}. Choose one of: {', '.join(PRESETS)}.")
    values = {**PRESETS[preset], **overrides, "preset": preset}
    return TrainConfig(**values)
