"""Checkpoints: round trip, atomic writes, and clear errors for damaged or foreign files."""

from __future__ import annotations

import errno

import pytest
import torch

from digitocr import checkpoint
from digitocr.errors import CheckpointError
from digitocr.models import build_model


def _ckpt():
    torch.manual_seed(0)
    model = build_model("mlp")
    return model, checkpoint.make_checkpoint(model, "mlp", {}, config={"epochs": 1}, metrics={"val": {"accuracy": 0.5}})


def test_round_trip_rebuilds_the_same_model(tmp_path):
    model, payload = _ckpt()
    path = checkpoint.save_checkpoint(tmp_path / "m.pt", payload)
    loaded = checkpoint.load_checkpoint(path)
    assert loaded["model"] == "mlp" and loaded["metrics"]["val"]["accuracy"] == 0.5
    assert loaded["normalization"] == {"mean": 0.1307, "std": 0.3081}
    assert set(loaded["versions"]) >= {"digitocr", "torch", "torchvision"}
    rebuilt = checkpoint.model_from_checkpoint(path)
    x = torch.randn(4, 1, 28, 28)
    torch.testing.assert_close(rebuilt(x), model.eval()(x))
    # plain types only: loadable with weights_only=True, no pickled classes
    torch.load(path, weights_only=True)


def test_no_temp_files_are_left(tmp_path):
    _, payload = _ckpt()
    checkpoint.save_checkpoint(tmp_path / "m.pt", payload)
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


@pytest.mark.parametrize(
    "content",
    [b"", b"not a checkpoint at all", b"PK\x03\x04 truncated zip"],
    ids=["empty", "text", "zip-header"],
)
def test_garbage_gives_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="truncated, corrupt or not a digitocr checkpoint"):
        checkpoint.load_checkpoint(path)


def test_truncated_checkpoint_gives_a_clear_error(tmp_path):
    _, payload = _ckpt()
    path = checkpoint.save_checkpoint(tmp_path / "m.pt", payload)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        checkpoint.load_checkpoint(path)


def test_foreign_torch_file_is_refused(tmp_path):
    path = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(CheckpointError, match="not a digitocr checkpoint"):
        checkpoint.load_checkpoint(path)


def test_pickled_objects_are_never_executed(tmp_path):
    class Evil:
        def __reduce__(self):
            return (exec, ("raise SystemExit('pwned')",))

    path = tmp_path / "evil.pt"
    torch.save({"format": checkpoint.FORMAT, "payload": Evil()}, path)
    with pytest.raises(CheckpointError):
        checkpoint.load_checkpoint(path)


def test_missing_file_says_how_to_get_one(tmp_path):
    with pytest.raises(CheckpointError, match="digitocr train"):
        checkpoint.load_checkpoint(tmp_path / "nope.pt")


def test_full_disk_leaves_old_file_intact(tmp_path, monkeypatch):
    _, payload = _ckpt()
    path = checkpoint.save_checkpoint(tmp_path / "m.pt", payload)
    before = path.read_bytes()

    def no_space(obj, f, *args, **kwargs):
        f.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", no_space)
    with pytest.raises(CheckpointError, match="disk is full"):
        checkpoint.save_checkpoint(path, payload)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_unwritable_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _, payload = _ckpt()
    with pytest.raises(CheckpointError, match="Cannot write"):
        checkpoint.save_checkpoint(blocker / "sub" / "m.pt", payload)


def test_weights_of_another_shape_are_refused(tmp_path):
    _, payload = _ckpt()
    payload["model_kwargs"] = {"hidden": [64, 32]}
    path = checkpoint.save_checkpoint(tmp_path / "m.pt", payload)
    with pytest.raises(CheckpointError, match="do not fit"):
        checkpoint.model_from_checkpoint(path)
