"""Every figure in ``digitocr.plots`` from tiny inputs: the axes it should have, titles, labels, class order."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure

from digitocr import plots
from digitocr.evaluate import metrics_from_probabilities
from digitocr.models import build_model

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def tiny():
    """40 random uint8 "digits", 4 per class, and metrics where a few are wrong with known confidence."""
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (40, 28, 28), dtype=torch.uint8, generator=generator)
    labels = torch.arange(10).repeat(4)
    probs = torch.full((40, 10), 0.01)
    probs[torch.arange(40), labels] = 0.91
    wrong = {3: (3, 5, 0.8), 7: (7, 1, 0.6), 13: (3, 5, 0.7)}  # index: (true, predicted, confidence)
    for i, (_true, p, conf) in wrong.items():
        probs[i] = (1 - conf) / 9
        probs[i, p] = conf
    return images, labels, metrics_from_probabilities(probs, labels), wrong


def _titles(fig: Figure) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


def _check(fig: Figure) -> None:
    assert isinstance(fig, Figure)
    assert plots.figure_png(fig).startswith(PNG_MAGIC)
    width, height = fig.get_size_inches()
    assert 3 <= width <= 20 and 2 <= height <= 16  # sized for a screen


def test_sample_grid_one_row_per_class_in_order(tiny):
    images, labels, _, _ = tiny
    fig = plots.sample_grid(images, labels, per_class=3)
    _check(fig)
    assert len(fig.axes) == 30
    assert [fig.axes[3 * c].get_ylabel() for c in range(10)] == [str(c) for c in range(10)]
    assert "Sample digits" in fig.get_suptitle()
    image = fig.axes[0].get_images()[0]
    assert image.get_interpolation() == "nearest" and image.get_cmap().name == "gray"


def test_class_counts_bars_per_split(tiny):
    _, labels, _, _ = tiny
    fig = plots.class_counts({"train": labels, "test": labels[:10]})
    _check(fig)
    (ax,) = fig.axes
    assert ax.get_title() == "Class balance per split"
    assert ax.get_xlabel() == "class" and ax.get_ylabel() == "number of images"
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(c) for c in range(10)]
    heights = [p.get_height() for p in ax.patches]
    assert heights == [4] * 10 + [1] * 10
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train (n=40)", "test (n=10)"]


def test_mean_images_titles_in_class_order(tiny):
    images, labels, _, _ = tiny
    fig = plots.mean_images(images, labels)
    _check(fig)
    assert _titles(fig) == [f"{c} (n=4)" for c in range(10)]
    mean_of_zeros = fig.axes[0].get_images()[0].get_array()
    expected = images[labels == 0].double().mean(0).numpy() / 255
    np.testing.assert_allclose(mean_of_zeros, expected, rtol=1e-6)


def test_pixel_histogram_statistics(tiny):
    images, _, _, _ = tiny
    fig = plots.pixel_histogram(images)
    _check(fig)
    (ax,) = fig.axes
    assert ax.get_title().startswith("Pixel intensities (31,360 pixels")
    x = images.double() / 255
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [f"mean {float(x.mean()):.4f}", f"± std {float(x.std(unbiased=False)):.4f}"]
    assert sum(p.get_height() for p in ax.patches if p.get_width() < 0.5) == 40 * 28 * 28
    # floats in [0, 1] give the same histogram as uint8
    float_fig = plots.pixel_histogram(images.float() / 255)
    assert [t.get_text() for t in float_fig.axes[0].get_legend().get_texts()] == legend


def test_training_curves_with_learning_rate_axis():
    history = [
        {
            "epoch": e,
            "train_loss": 1 / e,
            "train_accuracy": 1 - 0.1 / e,
            "val_loss": 1.1 / e,
            "val_accuracy": 1 - 0.2 / e,
            "lr": 0.01 / e,
            "seconds": e,
        }
        for e in range(1, 4)
    ]
    fig = plots.training_curves(history, best_epoch=3)
    _check(fig)
    assert len(fig.axes) == 4  # loss, accuracy, and a learning-rate twin for each
    loss_ax, acc_ax = fig.axes[0], fig.axes[1]
    assert loss_ax.get_title() == "Loss per epoch" and acc_ax.get_title() == "Accuracy per epoch"
    assert loss_ax.get_xlabel() == "epoch" and loss_ax.get_ylabel() == "loss" and acc_ax.get_ylabel() == "accuracy"
    assert [line.get_label() for line in loss_ax.get_lines()] == ["train", "validation", "best epoch (3)"]
    assert all(ax.get_ylabel() == "learning rate (end of epoch)" for ax in fig.axes[2:])
    np.testing.assert_allclose(fig.axes[2].get_lines()[0].get_ydata(), [0.01, 0.005, 0.01 / 3])
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["train", "validation", "best epoch (3)", "learning rate"]
    no_lr = [{k: v for k, v in h.items() if k != "lr"} for h in history]
    assert len(plots.training_curves(no_lr).axes) == 2


def test_confusion_matrix_heat_map_with_counts(tiny):
    _, _, metrics, _ = tiny
    fig = plots.confusion_matrix(metrics)
    _check(fig)
    ax = fig.axes[0]
    assert ax.get_title() == "Confusion matrix (accuracy 92.50%, n=40)"
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert [t.get_text() for t in ax.get_yticklabels()] == [str(c) for c in range(10)]
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert texts[(3, 5)] == "2" and texts[(7, 1)] == "1" and texts[(3, 3)] == "2" and texts[(0, 0)] == "4"
    assert len(fig.axes) == 2  # with its colour bar


def test_most_confused_and_pairs_figure(tiny):
    _, _, metrics, _ = tiny
    assert plots.most_confused(metrics) == [(3, 5, 2), (7, 1, 1)]
    fig = plots.confused_pairs(metrics)
    _check(fig)
    (ax,) = fig.axes
    assert ax.get_title() == "Most confused pairs (top 2)"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["true 3 → predicted 5", "true 7 → predicted 1"]
    perfect = metrics_from_probabilities(torch.eye(10), torch.arange(10))
    assert plots.confused_pairs(perfect).axes[0].get_title() == "Most confused pairs (no mistakes)"


def test_misclassified_gallery_most_confident_first(tiny):
    images, _, metrics, _ = tiny
    assert plots.misclassified_indices(metrics).tolist() == [3, 13, 7]
    fig = plots.misclassified_gallery(images, metrics, n=24, columns=4)
    _check(fig)
    assert len(fig.axes) == 4  # one row of 4 for 3 errors
    assert _titles(fig)[:3] == ["true 3 → 5\n80.0% sure", "true 3 → 5\n70.0% sure", "true 7 → 1\n60.0% sure"]
    shown = fig.axes[0].get_images()[0].get_array()
    np.testing.assert_allclose(shown, images[3].numpy() / 255, rtol=1e-6)
    assert "3 of 3 errors" in fig.get_suptitle()


def test_reliability_diagram_shows_ece(tiny):
    _, _, metrics, _ = tiny
    fig = plots.reliability_diagram(metrics)
    _check(fig)
    top, bottom = fig.axes
    assert top.get_title() == f"Reliability diagram (ECE {metrics.ece:.4f}, n=40)"
    assert top.get_ylabel() == "accuracy" and bottom.get_xlabel().startswith("confidence")
    assert top.get_xlim() == (0, 1) and top.get_ylim() == (0, 1)


@pytest.mark.parametrize(("model_name", "method"), [("mlp", "input-gradient"), ("cnn-fast", "gradcam")])
def test_saliency_maps(tiny, model_name, method):
    from digitocr.models import MODELS

    if model_name not in MODELS:
        pytest.skip(f"model {model_name!r} is not registered")
    images, labels, _, _ = tiny
    torch.manual_seed(0)
    model = build_model(model_name).eval()
    maps = plots.saliency(model, images[:5])
    assert maps.shape == (5, 28, 28) and maps.min() >= 0 and torch.allclose(maps.amax((1, 2)), torch.ones(5))
    fig = plots.saliency_maps(model, images[:5], labels[:5])
    _check(fig)
    assert len(fig.axes) == 10
    assert fig.axes[0].get_title().startswith("true 0 · pred ")
    assert plots.SALIENCY_NAMES[method] in fig.get_suptitle()
    assert fig.axes[5].get_ylabel() == "saliency" and len(fig.axes[5].get_images()) == 2  # digit + overlay
    assert model.training is False


def test_saliency_gradient_matches_autograd():
    """The gradient map is |d logit / d input| of the predicted class, scaled to a peak of 1."""
    torch.manual_seed(0)
    model = build_model("mlp").eval()
    image = torch.randint(0, 256, (1, 28, 28), dtype=torch.uint8)
    from digitocr.data import normalize

    x = normalize(image).unsqueeze(1).requires_grad_(True)
    logits = model(x)
    logits[0, logits.argmax()].backward()
    expected = x.grad.abs()[0, 0]
    np.testing.assert_allclose(plots.saliency(model, image, method="gradient")[0], expected / expected.max(), rtol=1e-5)


def test_input_gradient_is_zero_on_the_background():
    torch.manual_seed(0)
    model = build_model("mlp").eval()
    image = torch.zeros(1, 28, 28, dtype=torch.uint8)
    image[0, 8:20, 12:16] = 255  # a vertical bar
    maps = plots.saliency(model, image, method="input-gradient")[0]
    assert maps[image[0] == 0].abs().max() == 0 and maps.max() == 1
    with pytest.raises(ValueError, match="method"):
        plots.saliency(model, image, method="occlusion")


def test_save_figure_writes_png(tmp_path, tiny):
    _, labels, _, _ = tiny
    path = plots.save_figure(plots.class_counts(labels), tmp_path / "sub" / "counts.png")
    assert path.read_bytes().startswith(PNG_MAGIC)
