"""Model registry: shapes, parameter counts, a short real training run per family, EMA arithmetic."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from digitocr.config import PRESETS, config_from_preset
from digitocr.errors import DigitOCRError
from digitocr.models import MODELS, build_model, count_parameters
from digitocr.train import fit

# Default kwargs → parameter count, computed by hand from the layer sizes.
EXPECTED_PARAMETERS = {
    # 784·128+128 + 128·90+90 + 90·50+50 + 50·10+10
    "mlp": 784 * 128 + 128 + 128 * 90 + 90 + 90 * 50 + 50 + 50 * 10 + 10,
    # conv 1→16 (no bias) + BN 16 + conv 16→32 + BN 32 + dense 32·49→256 + 256→10
    "cnn-fast": 9 * 16 + 2 * 16 + 9 * 16 * 32 + 2 * 32 + (32 * 49 * 256 + 256) + (256 * 10 + 10),
    # 4 conv+BN (32, 32, 64, 64), dense 64·49→256 (no bias) + BN 256, 256→10
    "cnn": (9 * 32 + 64)
    + (9 * 32 * 32 + 64)
    + (9 * 32 * 64 + 128)
    + (9 * 64 * 64 + 128)
    + (64 * 49 * 256 + 512)
    + (256 * 10 + 10),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_PARAMETERS))
def test_forward_shape_and_parameter_count(name):
    model = build_model(name).eval()
    assert count_parameters(model) == EXPECTED_PARAMETERS[name]
    with torch.no_grad():
        assert model(torch.randn(5, 1, 28, 28)).shape == (5, 10)


def test_every_registered_model_has_a_docstring_citing_its_design():
    for spec in MODELS.values():
        assert spec.factory.__doc__ and len(spec.factory.__doc__) > 80, spec.name


def test_preset_models_build_with_their_kwargs():
    for name in PRESETS:
        config = config_from_preset(name)
        model = build_model(config.model, **config.model_kwargs)
        assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10), name


def test_presets_are_stored_in_the_config():
    config = config_from_preset("fast", epochs=2)
    assert config.preset == "fast" and config.model == "cnn-fast" and config.epochs == 2
    assert config_from_preset("original").model == "mlp"
    with pytest.raises(DigitOCRError, match="Unknown preset"):
        config_from_preset("nope")


def test_cnn_widths_are_options():
    small = build_model("cnn", channels=[8, 16], hidden=32, dropout=0.0)
    assert count_parameters(small) < count_parameters(build_model("cnn")) / 10
    with pytest.raises(DigitOCRError, match="Bad options"):
        build_model("cnn-fast", width=3)


# One short real run per family: a few thousand images, one epoch with small batches (enough steps),
# validated on 1,000 images, and a floor well above chance. EMA is off: over a few dozen steps an
# average with decay 0.999 is still the initial weights.
@pytest.mark.parametrize(
    ("preset", "limit", "floor"),
    [("original", 4000, 0.75), ("fast", 4000, 0.93), ("accurate", 2000, 0.80)],
)
def test_short_training_run_passes_a_floor(splits, tmp_path, preset, limit, floor):
    small = dataclasses.replace(splits, val_images=splits.val_images[:1000], val_labels=splits.val_labels[:1000])
    config = config_from_preset(
        preset, epochs=1, train_limit=limit, batch_size=32, ema=0.0, out_dir=str(tmp_path), num_threads=1
    )
    result = fit(config, splits=small)
    assert result.val_metrics.accuracy >= floor, (preset, result.val_metrics.accuracy)
    assert (tmp_path / "model.pt").is_file()


def test_ema_arithmetic_matches_the_formula():
    """The EMA ``fit`` uses: e ← d·e + (1-d)·p with d = min(decay, (1+n)/(10+n)) at update n; first e = p."""
    from torch.optim.swa_utils import AveragedModel

    from digitocr.train import _ema_with_warmup

    decay = 0.9
    model = torch.nn.Linear(1, 1, bias=False)
    ema = AveragedModel(model, multi_avg_fn=_ema_with_warmup(decay), use_buffers=True)
    expected = None
    for n, value in enumerate([1.0, 2.0, 4.0, -3.0] + [float(i % 7) for i in range(100)]):
        with torch.no_grad():
            model.weight.fill_(value)
        ema.update_parameters(model)
        d = min(decay, (1 + n) / (10 + n))
        expected = value if expected is None else d * expected + (1 - d) * value
        assert ema.module.weight.item() == pytest.approx(expected, rel=1e-5)
        if n == 3:  # by hand: warm-up decays 2/11, 3/12, 4/13
            by_hand = (4 / 13) * ((3 / 12) * ((2 / 11) * 1 + (9 / 11) * 2) + (9 / 12) * 4) + (9 / 13) * -3
            assert ema.module.weight.item() == pytest.approx(by_hand, rel=1e-5)
