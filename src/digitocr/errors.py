"""The one exception type digitocr raises for problems a user can fix.

Every message says what is wrong and how to fix it; the CLI prints it as one line
and exits non-zero, the library lets callers catch it.
"""


class DigitOCRError(Exception):
    """A problem with the user's input, data, files or environment, with a fix in its message."""


class DataError(DigitOCRError):
    """MNIST is missing, corrupt or cannot be downloaded."""


class CheckpointError(DigitOCRError):
    """A checkpoint cannot be read or written."""


class ImageError(DigitOCRError):
    """An image cannot be read or is not usable."""
