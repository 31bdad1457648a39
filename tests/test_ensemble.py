"""Ensembles: the arithmetic of averaging probabilities, and one file that loads like a model."""

from __future__ import annotations

import torch
from typer.testing import CliRunner

from digitocr.checkpoint import load_checkpoint, make_checkpoint, model_from_checkpoint, save_checkpoint
from digitocr.ensemble import build_ensemble, ensemble_checkpoint, save_ensemble
from digitocr.evaluate import predict_proba
from digitocr.models import build_model, count_parameters


def _members(tmp_path, n=3):
    paths, models = [], []
    for i in range(n):
        torch.manual_seed(i)
        name, kwargs = ("cnn-fast", {"channels": [4, 8], "hidden": 16}) if i % 2 else ("mlp", {"hidden": [32]})
        model = build_model(name, **kwargs).eval()
        path = save_checkpoint(tmp_path / f"m{i}.pt", make_checkpoint(model, name, kwargs))
        paths.append(path)
        models.append(model)
    return paths, models


def test_forward_is_log_of_mean_softmax(tmp_path):
    paths, models = _members(tmp_path)
    ensemble, kwargs = build_ensemble(paths)
    x = torch.randn(7, 1, 28, 28)
    with torch.no_grad():
        expected = torch.stack([torch.softmax(m(x), 1) for m in models]).mean(0)  # (7, 10)
        got = ensemble(x)
    torch.testing.assert_close(got.exp(), expected)
    torch.testing.assert_close(torch.softmax(got, 1), expected)  # usable as logits
    assert count_parameters(ensemble) == sum(count_parameters(m) for m in models)
    assert [m["model"] for m in kwargs["members"]] == ["mlp", "cnn-fast", "mlp"]


def test_hand_computed_two_member_average():
    ensemble = build_model("ensemble", members=[{"model": "mlp", "model_kwargs": {"hidden": [4]}}] * 2)
    for member, logit in zip(ensemble.members, (0.0, 10.0), strict=True):
        for p in member.parameters():
            torch.nn.init.zeros_(p)
        member.net[-1].bias.data[0] = logit  # member 0: uniform; member 1: class 0 almost surely
    probs = ensemble(torch.zeros(1, 1, 28, 28)).exp()[0]
    p1 = torch.softmax(torch.tensor([10.0] + [0.0] * 9), 0)
    torch.testing.assert_close(probs, (torch.full((10,), 0.1) + p1) / 2)


def test_saved_ensemble_loads_like_one_model_and_matches_evaluate(tmp_path):
    paths, models = _members(tmp_path)
    out = save_ensemble(paths, tmp_path / "ens.pt")
    ckpt = load_checkpoint(out)
    assert ckpt["model"] == "ensemble" and len(ckpt["model_kwargs"]["members"]) == 3
    loaded = model_from_checkpoint(out)
    images = torch.randint(0, 256, (20, 28, 28), dtype=torch.uint8)
    torch.testing.assert_close(predict_proba(loaded, images), predict_proba(models, images))


def test_cli_ensemble_writes_a_loadable_file(tmp_path):
    from digitocr.cli import app

    paths, _ = _members(tmp_path, 2)
    out = tmp_path / "cli-ens.pt"
    result = CliRunner().invoke(app, ["ensemble", *map(str, paths), "--out", str(out), "--no-evaluate", "--json"])
    assert result.exit_code == 0, result.output
    assert model_from_checkpoint(out)(torch.zeros(1, 1, 28, 28)).shape == (1, 10)


def test_half_precision_weights_load_back_into_a_float_model(tmp_path):
    paths, models = _members(tmp_path, 2)
    ckpt = ensemble_checkpoint(paths, weights_dtype=torch.float16)
    state = ckpt["state_dict"]
    assert all(v.dtype == torch.float16 for v in state.values() if v.is_floating_point())
    loaded = model_from_checkpoint(load_checkpoint(save_checkpoint(tmp_path / "half.pt", ckpt)))
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    images = torch.randint(0, 256, (20, 28, 28), dtype=torch.uint8)
    torch.testing.assert_close(predict_proba(loaded, images), predict_proba(models, images), atol=2e-3, rtol=0)
    full = save_checkpoint(tmp_path / "full.pt", ensemble_checkpoint(paths))
    assert (tmp_path / "half.pt").stat().st_size < 0.6 * full.stat().st_size


def test_recognizer_refuses_at_the_threshold_the_members_were_trained_for(tmp_path):
    from digitocr.predict import REJECT_THRESHOLD_EXPOSED, REJECT_THRESHOLD_PLAIN, Recognizer

    model = build_model("mlp", hidden=[8]).eval()
    exposed = save_checkpoint(
        tmp_path / "oe.pt", make_checkpoint(model, "mlp", {"hidden": [8]}, config={"outlier_batch": 32})
    )
    plain = save_checkpoint(tmp_path / "plain.pt", make_checkpoint(model, "mlp", {"hidden": [8]}, config={}))
    assert Recognizer(ensemble_checkpoint([exposed, exposed])).reject_threshold == REJECT_THRESHOLD_EXPOSED
    assert Recognizer(ensemble_checkpoint([exposed, plain])).reject_threshold == REJECT_THRESHOLD_PLAIN
    released = ensemble_checkpoint([exposed, exposed])
    released["extra"]["reject_threshold"] = 0.37  # chosen when it was released
    assert Recognizer(released).reject_threshold == 0.37
    assert Recognizer(released, reject_threshold=0.9).reject_threshold == 0.9


def test_an_ensembles_out_of_distribution_score_looks_at_every_member(tmp_path, splits):
    """The features behind the Mahalanobis score are every member's penultimate features side by
    side (they were the last member's alone); statistics stored for other features are a clear error."""
    import pytest

    from digitocr.errors import CheckpointError
    from digitocr.predict import Recognizer, _forward, calibrate

    paths, models = _members(tmp_path, n=2)  # an MLP (32 features) and a small CNN (16)
    ensemble, _ = build_ensemble(paths)
    x = torch.randn(5, 1, 28, 28)
    _, features = _forward(ensemble, x)
    _, first = _forward(models[0], x)
    _, second = _forward(models[1], x)
    torch.testing.assert_close(features, torch.cat([first, second], dim=1))
    cal = calibrate(ensemble, splits.val_images[:500], splits.val_labels[:500])
    assert cal["ood_means"].shape == (10, 48)
    ckpt = ensemble_checkpoint(paths)
    ckpt["extra"]["calibration"] = cal
    probs, scores = Recognizer(ckpt).classify(splits.test_images[:3].numpy() / 255.0)
    assert probs.shape == (3, 10) and scores.shape == (3,)
    ckpt["extra"]["calibration"] = calibrate(models[1], splits.val_images[:500], splits.val_labels[:500])
    with pytest.raises(CheckpointError, match="Calibrate it again"):
        Recognizer(ckpt).classify(splits.test_images[:3].numpy() / 255.0)
