"""``python -m digitocr`` (and ``torchrun -m digitocr train ...``) run the CLI."""

from digitocr.cli import main

main()
