"""digitocr: handwritten-digit recognition trained on MNIST — library, CLI and notebook on one code path."""

__version__ = "0.1.0"

from digitocr.checkpoint import load_checkpoint, load_pretrained, model_from_checkpoint, save_checkpoint
from digitocr.config import TrainConfig
from digitocr.data import MNIST_MEAN, MNIST_STD, TensorBatches, load_mnist, load_splits
from digitocr.errors import DigitOCRError
from digitocr.evaluate import Metrics, evaluate
from digitocr.models import build_model
from digitocr.predict import Prediction, Reading, Recognizer
from digitocr.preprocess import to_mnist
from digitocr.segment import split_digits
from digitocr.train import TrainResult, fit, fit_and_test

__all__ = [
    "MNIST_MEAN",
    "MNIST_STD",
    "DigitOCRError",
    "Metrics",
    "Prediction",
    "Reading",
    "Recognizer",
    "TensorBatches",
    "TrainConfig",
    "TrainResult",
    "__version__",
    "build_model",
    "evaluate",
    "fit",
    "fit_and_test",
    "load_checkpoint",
    "load_mnist",
    "load_pretrained",
    "load_splits",
    "model_from_checkpoint",
    "save_checkpoint",
    "split_digits",
    "to_mnist",
]
