"""Training digits written on paper, photographed and read back (``digitocr.photo``)."""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage as ndi

from digitocr.data import normalize
from digitocr.photo import on_paper, round_trip
from digitocr.predict import Recognizer


def test_on_paper_is_dark_writing_on_light_paper_where_it_says(splits):
    contrasts = []
    for k in range(20):
        digit = splits.train_images[k].numpy()
        picture, (x0, y0, x1, y1) = on_paper(digit, np.random.default_rng([0, k]))
        again, _ = on_paper(digit, np.random.default_rng([0, k]))
        assert picture.dtype == np.uint8 and picture.ndim == 2 and np.array_equal(picture, again)
        assert 0 <= x0 < x1 <= picture.shape[1] and 0 <= y0 < y1 <= picture.shape[0]
        inside = picture[y0:y1, x0:x1].astype(np.float32)
        # the darkest writing differs from the paper, whichever way round (a few are chalk-like)
        paper = float(np.median(picture))
        contrasts.append(abs(np.percentile(inside, 5 if paper > 127 else 95) - paper) / max(paper, 255 - paper))
    assert min(contrasts) > 0.08  # a faint pencil under a shadow at the least
    assert np.median(contrasts) > 0.3


def test_round_trip_gives_back_mnist_style_digits_the_model_reads(splits):
    images, labels = splits.train_images[:200], splits.train_labels[:200]
    out, ok = round_trip(images, seed=1)
    assert out.shape == images.shape and out.dtype == torch.uint8
    assert torch.equal(out, round_trip(images, seed=1)[0])
    assert not torch.equal(out[ok], images[ok])  # the read-back images are not the inputs
    assert torch.equal(out[~ok], images[~ok])  # those not read back keep their input
    assert ok.float().mean() > 0.9
    x = out[ok].numpy().astype(np.float32) / 255
    for image in x[:50]:  # the MNIST convention: ink in the 20×20 box, centred by its centre of mass
        rows = np.nonzero(image.max(1) > 0.05)[0]
        cols = np.nonzero(image.max(0) > 0.05)[0]
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 22
        cy, cx = ndi.center_of_mass(image)
        assert abs(cy - 14) < 2.5 and abs(cx - 14) < 2.5
    # what comes back is still the digit: the shipped model reads nearly all of them
    model = Recognizer().model
    with torch.inference_mode():
        predicted = model(normalize(out[ok]).unsqueeze(1)).argmax(1)
    assert (predicted == labels[ok]).float().mean() > 0.95
