"""Any image of a digit → the MNIST convention.

Owns: reading image files, bytes, arrays and PIL images safely (:func:`load_image`: formats,
HEIC photos with the ``heic`` extra, alpha, 16-bit, EXIF orientation, decompression bombs, corrupt
files → :class:`ImageError`; big pictures reduced and tiny ones enlarged for the work:
:func:`open_image`),
finding a sheet of paper photographed on a darker desk and turning it level (:func:`find_page`,
:func:`on_the_page`) and turning a picture so that writing at an angle runs level (:func:`level`),
separating ink from paper (:func:`extract_ink`: polarity, uneven
background, Otsu threshold), removing ruled lines and box borders (:func:`remove_lines`), and
turning the ink of one digit into what an MNIST model expects (:func:`ink_to_mnist`): grey, ink
white on black, stroke width in MNIST's range, scaled to fit 20×20 keeping its aspect, centred by
centre of mass in 28×28, anti-aliased (LeCun et al., "Gradient-based learning applied to document
recognition", 1998, §III-A).

:func:`preprocess` does all of it for one digit and returns what the model will see
(:class:`Preprocessed`); :func:`to_mnist` returns only the 28×28 array. The module knows no model.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageOps
from scipy import ndimage as ndi
from scipy.spatial import ConvexHull, QhullError

from digitocr.errors import ImageError

MNIST_SIZE = 28
MNIST_BOX = 20  # MNIST digits are scaled to fit a 20×20 box ...
MNIST_CENTRE = 14.0  # ... and shifted by whole pixels so their centre of mass is near (14, 14).
# The digit is drawn at this many pixels (max side) before the final reduction to 20: big enough for
# exact dilation/erosion and for the reduction to anti-alias.
WORK_BOX = 4 * MNIST_BOX
# Stroke width (2·area / perimeter of the >0.5 mask) of MNIST test digits drawn at WORK_BOX: 10th,
# 25th, 50th, 75th and 90th percentiles 7.4, 8.5, 10.0, 11.8, 14.0 px. Strokes outside the 10-90 range
# are brought to the 25th (thin ones) or 75th (thick ones) percentile.
STROKE_RANGE = (7.4, 14.0)
STROKE_TARGETS = (8.5, 11.8)
# A digit whose ink at WORK_BOX is mostly faint (under this share of it stronger than 0.5) was drawn
# with a hairline, faded by the reduction (a 1-px line on a 400-px drawing is 0.2 px wide there): it
# is brought back to full strength first. A stroke of any width keeps most of its ink strong.
HAIRLINE_SHARE = 0.25

# Images larger than this are refused before decoding (a 50-megapixel photo is 200 MB as float32).
MAX_PIXELS = 50_000_000
# The brands of an ISO base media file (its "ftyp" box) that hold HEVC-coded pictures: HEIC, the
# format phones (iPhones by default) save photos in; read with the optional pillow-heif.
HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1")
# Writing turned level (level): the margin kept round it, a share of its height.
LEVEL_MARGIN = 0.5
# A cell's box photographed askew (box_turn): the turns searched (degrees), the least one undone, the
# share of the picture's side a line must run along and across, or that two lines apart (by a share
# of the side) must each way, and how much lower its lines must pile up level; on at most
# BOX_TURN_SAMPLE ink pixels. Whether the picture turned level keeps only what lies inside the old
# frame (level's ``within``).
MAX_BOX_TURN = 15.0
MIN_BOX_TURN = 1.5
BOX_LINE_SHARE = 0.75
BOX_PAIR_SHARE = 0.5
BOX_PAIR_APART = 0.2
BOX_LEVEL_SHARE = 0.7
BOX_TURN_SAMPLE = 4000

# A sheet of paper on a darker desk (find_page): the share of the picture it covers, the desk's
# brightness at most this share of the paper's, the sheet's area over its enclosing rectangle's,
# the share of it that is paper (not writing), and the reduced copy it is looked for on.
PAGE_AREA = (0.02, 0.9)
PAGE_DESK_RATIO = 0.65
PAGE_RECTANGULARITY = 0.9
PAGE_PAPER_SHARE = 0.6
PAGE_WORK_SIDE = 256
# A sheet found only by following the light's fall-off across it (a shadow's gradient) must stand out
# from the desk more clearly: the lit cells of a row of form cells in a gradient are 0.63 as bright as
# the shadowed ones beyond them, slips on desks 0.19-0.49 (tuning seeds of benchmarks/realistic.py).
PAGE_LIT_DESK_RATIO = 0.55
# A sheet has desk beyond three of its sides; a slip in a corner of the photo, beyond two, when the
# desk is at most this bright: a shadow across a sheet, which leaves lit paper at two sides of the
# frame too, dims it by a half at most (tuning seeds: singles on a desk 288 -> 291 of 300).
PAGE_CORNER_DESK_RATIO = 0.35
# Big images are reduced to at most this many pixels on their long side before any processing.
WORK_MAX_SIDE = 1600
# Small ones are enlarged by a whole factor (bicubic) before any processing, so that thresholds,
# line rules and stroke widths have several pixels across a stroke: a picture of one digit to at
# least WORK_MIN_SIDE on its long side (digits stored as datasets store them: USPS and Semeion
# 16×16, UCI optdigits 8×8), a line of digits to at least WORK_MIN_HEIGHT on its short side (a
# number scanned at low resolution). With FAINT_INK_SHARE_OF_PEAK below, UCI optdigits (scikit-learn's
# 1,797 real 8×8 digits): 88.0% → 97.3% read right by the shipped model; numbers of 2-6 of them in a
# row, 12 px tall: 80.0% → 88.7% read exactly. Enlarging lines up to 48 px tall did no better on
# those, and lost 1-3 of 200-300 of the realistic benchmark's tight numbers (strips 24-64 px tall).
WORK_MIN_SIDE = 48
WORK_MIN_HEIGHT = 24
# Ink must be at least this much darker than the paper (fraction of the paper's brightness), after
# the background is flattened, to count as ink at all; below it the image is blank.
MIN_INK_CONTRAST = 0.18
# ... or at least FAINT_INK_CONTRAST when it stands out from the paper's texture: the writing's
# median contrast at least FAINT_INK_CLARITY times the paper's (90th percentile, away from the ink
# and the printed lines). A pencil pressed lightly takes 12-40% of the light, and blur and grain
# leave a stroke 0.1-0.25 darker than the paper; a blank page's grain and shadows, pieces of them
# taken for writing, stand out by 0.9-1.7 times (tuning seeds 1-2: ``benchmarks/realistic.py``'s
# faint pencil and blank pages).
FAINT_INK_CONTRAST = 0.1
FAINT_INK_CLARITY = 1.8
# Writing has a pen's edges: across the outline of faint writing, or of writing looked for again
# between darker printed lines, the contrast changes by at least this share of the writing's
# contrast per pixel. Faint pencil digits: 0.10-0.41 (most over 0.17); the shading of a blank cell
# found between its borders: 0.03-0.14 (tuning seeds 1-2).
INK_EDGE = 0.15
# A picture taken out of focus (or shaken) is sharpened and read again: an unsharp mask of
# SHARPEN_AMOUNT through a Gaussian SHARPEN_SPREAD times as wide as the writing's edges. Out of focus
# is when the edges are soft (the contrast's gradient across the writing's outline under BLURRED_EDGE
# of its contrast per pixel: its edges over 6 px wide; a pen in focus measures 0.18 or more, a
# Gaussian blur of s pixels about 0.4 / s), and soft against the writing's height (edges at least
# BLURRED_SHARE of it wide: MNIST digits enlarged to any size measure 0.05-0.075, photos out of
# focus 0.06-0.2, 5th-95th percentiles), and the inside of the strokes is smooth (grain under
# SMOOTH_STROKE of the stroke's depth): a blur smooths the grain inside a stroke with its edges, while
# a soft pencil's edges are soft but its graphite grainy (out of focus 0.001-0.036; faint pencil
# with soft edges mostly 0.024-0.12; tuning seed 1). Writing under MIN_INK_CONTRAST is left alone.
BLURRED_EDGE = 0.17
BLURRED_SHARE = 0.075
SMOOTH_STROKE = 0.02
SHARPEN_AMOUNT = 2.0
SHARPEN_SPREAD = 0.8
# Ink must reach this share of the contrast of the darkest writing (99th percentile) to be ink.
INK_SHARE_OF_PEAK = 0.6
# ... of the 99.8th percentile when that is this many times the 99th: a small digit on grainy paper,
# whose grain passes Otsu's threshold in far more pixels than the digit has (tuning seeds 1-2: digits
# small in a photo 580 -> 586 of 600, nothing else changed; the 99.8th always: +10 / -8).
GRAIN_RATIO = 1.6
# ... or, in a picture enlarged or reduced on loading, this share where it is joined to ink that
# passes: a stroke a pixel or two wide is averaged with the paper around it, so its contrast varies
# along it (the fainter side of a 0 was lost: a C; a 2-px line on a 2,000-px drawing broke into
# pieces). Joined only, so that a faint cell border beside the digit stays out (a plain 0.4 kept it
# in small photographed cells). UCI optdigits, enlarged: 90.9% → 97.3%.
FAINT_INK_SHARE_OF_PEAK = 0.4
# The paper is estimated through a window at least this many stroke widths wide (marker strokes).
THICK_STROKE_WINDOW = 3.0
# A picture whose median brightness is at least LIGHT_PAPER is dark writing on light paper; at most
# DARK_BOARD, light writing on a dark ground; in between the local deviations decide.
LIGHT_PAPER = 0.6
DARK_BOARD = 0.3
# A picture with nothing in it brighter than DIM_PICTURE (smoothed) is underexposed: paper in a dim
# room photographs at 0.2-0.5. It is brightened as a camera's exposure would, its brightest part to
# EXPOSURE_TARGET, by at most MAX_GAIN (a black picture's noise stays faint). Read as it was, its
# paper passed for a dark board, the writing was read as light ink on it (a 7 read as a confident 1),
# and under 0.2 of brightness the whole picture was too flat to hold ink. Chalk on a board is
# brighter than this, and a dim board's chalk is only made brighter.
DIM_PICTURE = 0.6
EXPOSURE_TARGET = 0.9
MAX_GAIN = 8.0
# Glare (a lamp's reflection on the paper) adds light: the ink under it is lighter by as much light
# as the paper, so its contrast against the paper falls, and the floor on the darkest writing's
# contrast (INK_SHARE_OF_PEAK) or Otsu's threshold dropped it (a glare spot adding 0.2-1.0 of white
# paper's light: 97 of 150 single digits and 64 of 150 numbers read on tuning seed 1). The paper's
# excess over its median, in linear light (sRGB values to the power GAMMA), is taken for glare when
# it reaches GLARE_LIGHT, the paper is burnt out somewhere (GLARE_BURNT), and the strongest marks
# under the brighter half of the excess (99.5th percentile of the ink's contrast) are fainter than
# GLARE_FADED of the ink beside it (90th percentile; GLARE_INK_PIXELS of each at least) but still
# ink (MIN_INK_CONTRAST); printed lines (across half the picture, found as find_lines finds them,
# a little tilted or broken) do not count, being fainter than writing wherever they are. The glare
# is then subtracted from paper and ink alike, and the picture's digit is kept down to
# FAINT_INK_SHARE_OF_PEAK of the darkest writing: the glare's burnt-out centre leaves its ink
# lighter than the subtraction can restore. Uneven light brightens
# part of the paper too, but it multiplies and the ink keeps its contrast: taken for glare without
# the last two marks, it was in a third of all pictures, and reading numbers lost 75 of 5,400 on
# tuning seeds 1-2 (with them: 2 lost and 3 gained of the 10,800 pictures of every other set).
GAMMA = 2.2
GLARE_LIGHT = 0.15
GLARE_BURNT = 0.97
GLARE_INK_PIXELS = 20
GLARE_FADED = 0.75
# A weaker glare, one that does not burn the paper out (its brightest at GLARE_HINT_BURNT or more) or
# washes the ink under it out below MIN_INK_CONTRAST, is not subtracted: uneven light, a shadow's
# edge, passes for it (subtracted with those bounds, glare singles of tuning seed 1 +6 of 150, the
# other single-digit sets 5 gained and 6 lost). Instead, for one digit (`predict`), the digit is kept
# down to FAINT_INK_SHARE_OF_PEAK where joined to ink that passes (hysteresis; never below Otsu's
# threshold, which binds in most pictures: below it, 0.3 of the darkest, glare singles of tuning
# seeds 1-2 gained 3 and the other single-digit sets lost 5), when its strokes fade
# where the paper is lighter: the correlation of a stroke's contrast (its ridge, the greatest within
# a pixel) with the paper's light over the writing is at most GLARE_FADING. A glare fades the strokes
# under it (the digits this gained on tuning seeds 1-2: -0.48 to -0.88), uneven light does not (a 0
# beside a shadow: +0.86). Without the test the shadow's side was joined to that 0 and a ruled line
# to a 9 (the single-digit sets of seed 1: 1 gained, 5 lost); at -0.4, a faint box round a 7 (-0.41).
GLARE_HINT_BURNT = 0.9
GLARE_FADING = -0.45
# A piece running along this share of one side of the frame, not reaching the opposite side, is the
# edge of a shadow, the page or a neighbouring cell.
EDGE_RUN = 0.5
EDGE_DEPTH = 0.25  # ... and reaching at most this far into the picture (a box with a digit reaches across)
EDGE_MARGIN = 0.01  # ... touching a side within this share of the picture (at least a pixel)
# Ink that nowhere reaches this share of the picture's height or width in from the frame is what is
# left of a cell's border or a page edge, not writing (a 7 cropped tightly to its bar and stem
# reaches ~0.07 in: the stroke's own width).
FRAME_BAND = 0.05
# A closed box: ink along all four sides of a piece's bounding box, within this share of its size
# of each side, over at least this share of each side's length.
BOX_BAND = 0.08
BOX_COVER = 0.85
# The cells of a box parted by dividers (a short comb field) are at least this share of the box's
# height wide, and none more than CELL_WIDTH_RATIO times as wide as another.
MIN_CELL_ASPECT = 0.6
CELL_WIDTH_RATIO = 1.3
# A connected piece of the kept ink counts as a stroke when it holds at least this share of the ink.
PIECE_SHARE = 0.04
# A handwritten digit is one stroke, or a few when the pen lifted or the scan broke it.
MAX_PIECES = 4
# A line joined to the digit is a border or rule only when it runs across this share of the picture,
# or, one of several parallel rules crossing the writing, runs this share of the picture's width past
# it on a side (a thick digit hides a rule's start).
LINE_SPAN = 0.85
RULE_OVERHANG = 0.15
# ... and crosses the writing at least this share of its height inside its top and bottom.
RULE_INSIDE = 0.15
# A line found across pieces of writing holds less than this share of each one's ink (see
# _across_writing).
ACROSS_WRITING = 0.5
# A lone border joined to the digit lies within this share of the picture's height of its top or
# bottom, and runs past the rest of the writing on both sides by this share of the picture's width (a
# 1 hanging from a cell's top border, 0.33 and 0.33; a 2's base cut tightly, 0.13 and 0.31).
EDGE_BORDER = 0.1
EDGE_OVERHANG = 0.2
# A vertical line away from the frame is a border when it is this many times as tall as the writing's
# biggest piece.
INNER_BORDER = 1.25
# A grey picture's frame settles its polarity unless the strong marks say otherwise by this factor.
STRONG_MAJORITY = 3.0
# A digit under ZOOM_SHARE of the picture's height and width is looked at again in the part of the
# picture round it, ZOOM_MARGIN of its size more on each side.
ZOOM_SHARE = 0.1
ZOOM_MARGIN = 0.5
# When the digit kept is under this share of the lines and borders erased, they were most of the ink
# (and set the threshold: the writing is looked for again without them).
LINES_DOMINATE = 0.1
# A piece of ink lies on a line found at half the threshold when this share of it does.
FAINT_LINE_SHARE = 0.9
# The paper's brightness is estimated on a copy reduced to this short side.
BACKGROUND_SIDE = 32
# Connected pieces of ink smaller than this fraction of the image's short side are specks, and
# never need to be longer than SPECK_PIXELS (of the working image) to count: a digit 40 px tall in
# a 4000×3000 photo is 16 px in the 1600 px working copy.
SPECK_FRACTION = 0.03
SPECK_PIXELS = 12
# A cell cut from a form with a margin shows some of its neighbours' digits, cut by the frame. A piece
# ending within NEIGHBOUR_MARGIN of a side (a share of the short side: perspective and blur leave a
# few pixels) and at least NEIGHBOUR_GAP of the digit's height away from it, towards that side, is
# such a neighbour.
NEIGHBOUR_MARGIN = 0.04
NEIGHBOUR_GAP = 0.1


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedImage:
    """A grey image as float32 (H, W) in [0, 1], 1 = white, after EXIF orientation.

    ``scale`` is how many original pixels one pixel of ``grey`` spans (>1 when a big image was
    reduced on loading, <1 when a small one was enlarged); ``original_size`` is (width, height) of
    the oriented original. When ``grey`` is a part of the reduced picture (the sheet of paper
    :func:`on_the_page` cut out and turned straight), ``placement`` (a, b, c, d, e, f) says where:
    pixel (x, y) of ``grey`` lies at (a·x + b·y + c, d·x + e·y + f) in the reduced picture.
    """

    grey: np.ndarray
    original_size: tuple[int, int]
    scale: float = 1.0
    placement: tuple[float, float, float, float, float, float] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    glare: bool = False  # :func:`deglared` took a glare off ``grey``

    @property
    def enlarged(self) -> bool:
        """Whether a small picture was enlarged on loading (see :data:`WORK_MIN_SIDE`)."""
        return self.scale < 1.0

    def box(self, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        """A box (x0, y0, x1, y1) in ``grey``'s pixels (x1, y1 exclusive) → in the original's pixels
        (the box around it there, when ``grey`` was turned)."""
        a, b, c, d, e, f = self.placement
        xs = [a * x + b * y + c for x in (x0, x1) for y in (y0, y1)]
        ys = [d * x + e * y + f for x in (x0, x1) for y in (y0, y1)]
        s = self.scale
        return (
            max(0, int(min(xs) * s)),
            max(0, int(min(ys) * s)),
            min(self.original_size[0], math.ceil(max(xs) * s)),
            min(self.original_size[1], math.ceil(max(ys) * s)),
        )


def _describe(source: Any) -> str:
    if isinstance(source, str | os.PathLike):
        return str(source)
    return f"the {type(source).__name__} image"


def _open_pil(source: Any) -> Image.Image:
    """Open (but do not decode) an image from a path, bytes or file object."""
    name = _describe(source)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.exists():
            raise ImageError(f"Image file {path} does not exist. Check the path.")
        if not path.is_file():
            raise ImageError(f"{path} is not a file. Pass the path of an image file (PNG, JPEG, ...).")
        if path.stat().st_size == 0:
            raise ImageError(f"Image file {path} is empty (0 bytes). Save or copy the image again.")
        fp: Any = path
    elif isinstance(source, bytes | bytearray | memoryview):
        if len(source) == 0:
            raise ImageError("The image data is empty (0 bytes). Send the bytes of an image file.")
        fp = io.BytesIO(bytes(source))
    elif hasattr(source, "read"):
        data = source.read()
        if not data:
            raise ImageError("The image stream is empty (0 bytes). Send the bytes of an image file.")
        fp = io.BytesIO(data)
    else:
        raise ImageError(
            f"Cannot read an image from a {type(source).__name__}. Pass a file path, bytes, a PIL image "
            f"or a numpy array (H, W) / (H, W, 3|4)."
        )
    try:
        return _pil_open(fp, name)
    except Image.UnidentifiedImageError as exc:
        if not _heif_opener_added(fp, name):
            raise _unreadable(name) from exc
    try:
        return _pil_open(fp, name)
    except Image.UnidentifiedImageError as exc:  # a HEIC file, but corrupt
        raise _unreadable(name) from exc


def _pil_open(fp: Any, name: str) -> Image.Image:
    """``Image.open`` (which reads the header only), refusing decompression bombs; raises
    ``UnidentifiedImageError`` for data no registered format recognizes."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(fp)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(
            f"{name} is too large to decode safely ({exc}). Downscale it below {MAX_PIXELS // 1_000_000} megapixels."
        ) from exc
    except Image.UnidentifiedImageError:
        raise
    except OSError as exc:
        raise ImageError(f"Cannot open {name}: {exc}. Check that the file is readable.") from exc


def _unreadable(name: str) -> ImageError:
    return ImageError(
        f"{name} is not an image Pillow can read (corrupt, or not PNG/JPEG/BMP/TIFF/WebP/HEIC). "
        f"Open it in an image viewer and save it again as PNG or JPEG."
    )


def _heif_opener_added(fp: Any, name: str) -> bool:
    """Whether ``fp`` (a path or a seekable stream) is a HEIC/HEIF picture and Pillow can now read
    it: the opener of the optional ``pillow-heif`` (``pip install 'digitocr[heic]'``) is registered
    on the first one met. It turns the picture upright as its file says (``irot``/``imir``) and
    resets the EXIF orientation, so :func:`open_image` does not turn it twice."""
    if isinstance(fp, Path):
        with fp.open("rb") as f:
            head = f.read(12)
    else:
        fp.seek(0)
        head = fp.read(12)
        fp.seek(0)
    if head[4:8] != b"ftyp" or head[8:12] not in HEIF_BRANDS:
        return False
    try:
        import pillow_heif
    except ImportError as exc:
        raise ImageError(
            f"{name} is a HEIC/HEIF photo (the format phones save photos in); reading it needs the HEIF "
            f"plugin: pip install 'digitocr[heic]'. Or export the photo as JPEG."
        ) from exc
    pillow_heif.register_heif_opener()
    return True


def _check_size(image: Image.Image, name: str) -> None:
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageError(f"{name} has no pixels ({width}×{height}). Save the image again.")
    if width * height > MAX_PIXELS:
        raise ImageError(
            f"{name} is {width}×{height} = {width * height / 1e6:.0f} megapixels, more than the "
            f"{MAX_PIXELS // 1_000_000}-megapixel limit. Downscale or crop it first."
        )


def _pil_to_grey(image: Image.Image) -> np.ndarray:
    """A decoded PIL image → float32 (H, W) luminance in [0, 1], compositing transparency."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        arr = np.asarray(image, dtype=np.float64)
        top = float(arr.max()) if arr.size else 1.0
        ranges = (1.0, 255.0, 4095.0, 65535.0) if mode == "F" else (255.0, 4095.0, 65535.0)
        peak = _stored_range(top, ranges)
        return np.clip(arr / peak, 0.0, 1.0).astype(np.float32)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
        return _composite(_luminance(rgba[..., :3]), rgba[..., 3])
    if mode in ("1", "L"):
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    return _luminance(np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0)


def _stored_range(top: float, ranges: tuple[float, ...]) -> float:
    """The range a picture's values were stored in, from its largest value ``top``: the first of
    ``ranges`` that holds it (8 bits kept in a 16-bit file, as Pillow's convert("I;16") writes them,
    a 12-bit sensor's or scanner's, the full 16 bits), else ``top`` itself."""
    return next((r for r in ranges if top <= r), max(top, 1.0))


def _luminance(rgb: np.ndarray) -> np.ndarray:
    # ITU-R BT.601 weights, what Pillow's convert("L") uses.
    return (rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114).astype(np.float32)


def _composite(lum: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Put a transparent image on a background that contrasts with what is drawn on it.

    A digit drawn on a transparent canvas may be black (drawn for a white page) or white (for a dark
    theme); its transparent pixels often hold arbitrary colour (usually black). Whatever the opaque
    pixels look like, the background gets the opposite brightness, so the drawing stays visible.
    """
    alpha = alpha.astype(np.float32)
    if float(alpha.min()) >= 0.98:
        return lum
    opaque = alpha > 0.5
    drawn = float(np.average(lum, weights=alpha)) if float(alpha.sum()) > 0 else 0.0
    if opaque.any():
        drawn = float(lum[opaque].mean())
    background = 1.0 if drawn < 0.5 else 0.0
    return (alpha * lum + (1.0 - alpha) * background).astype(np.float32)


def _array_to_grey(arr: np.ndarray) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[0] in (1, 3, 4) and arr.shape[-1] not in (1, 3, 4):
        arr = np.moveaxis(arr, 0, -1)  # (C, H, W) → (H, W, C)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (2, 3, 4)):
        raise ImageError(
            f"An image array must be (H, W), (H, W, 3) or (H, W, 4); got shape {arr.shape}. "
            f"Pass one image, not a batch."
        )
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ImageError(f"The image array is empty (shape {arr.shape}).")
    if arr.shape[0] * arr.shape[1] > MAX_PIXELS:
        raise ImageError(
            f"The image array has {arr.shape[0] * arr.shape[1] / 1e6:.0f} megapixels, more than the "
            f"{MAX_PIXELS // 1_000_000}-megapixel limit. Downscale it first."
        )
    if arr.dtype == np.bool_:
        x = arr.astype(np.float32)
    elif arr.dtype == np.uint8:
        x = arr.astype(np.float32) / 255.0
    elif arr.dtype == np.uint16:
        x = arr.astype(np.float32) / _stored_range(float(arr.max()), (255.0, 4095.0, 65535.0))
    elif np.issubdtype(arr.dtype, np.number):
        x = arr.astype(np.float32)
        if not np.isfinite(x).all():
            raise ImageError("The image array contains NaN or infinite values. Clean it first.")
        top = float(x.max())
        if top > 1.0:
            x = x / (255.0 if top <= 255.0 else top)
        x = np.clip(x, 0.0, 1.0)
    else:
        raise ImageError(f"Cannot read an image array of dtype {arr.dtype}; use uint8, uint16 or float.")
    if x.ndim == 2:
        return x
    if x.shape[-1] == 2:  # grey + alpha
        return _composite(x[..., 0], x[..., 1])
    lum = _luminance(x[..., :3])
    return _composite(lum, x[..., 3]) if x.shape[-1] == 4 else lum


def open_image(source: Any, max_side: int | None = WORK_MAX_SIDE, enlarge: bool = True) -> LoadedImage:
    """Read any supported image into a :class:`LoadedImage`, reduced to ``max_side`` (long side) if
    bigger; with ``enlarge``, a tiny one is enlarged by a whole factor (see :data:`WORK_MIN_SIDE`).

    Accepts a path, bytes, a binary file object, a ``PIL.Image.Image``, a numpy array or a torch
    tensor ((H, W), (H, W, C) or (C, H, W)). Raises :class:`ImageError` for corrupt, truncated,
    empty, unsupported or too large (decompression bomb) images, before allocating their pixels.
    """
    if hasattr(source, "detach") and hasattr(source, "cpu"):  # a torch tensor, without importing torch
        source = source.detach().cpu().numpy()
    if isinstance(source, np.ndarray):
        grey = _array_to_grey(source)
        return _resample(grey, max_side, enlarge)
    name = _describe(source)
    image = source if isinstance(source, Image.Image) else _open_pil(source)
    _check_size(image, name)
    header_width, header_height = image.size
    try:
        orientation = image.getexif().get(0x0112, 1)
    except Exception:  # malformed EXIF: ignored, as exif_transpose ignores it
        orientation = 1
    try:
        if max_side and image.format == "JPEG" and max(image.size) > 2 * max_side:
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: far faster than decoding all, then shrinking.
            image.draft(image.mode, (max_side, max_side))
        image.load()
        oriented = ImageOps.exif_transpose(image) or image
        grey = _pil_to_grey(oriented)
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise ImageError(f"{name} is corrupt or truncated ({exc}). Re-export or re-download the image.") from exc
    if orientation in (5, 6, 7, 8):
        header_width, header_height = header_height, header_width
    loaded = _resample(grey, max_side, enlarge)
    return LoadedImage(loaded.grey, (header_width, header_height), header_width / loaded.grey.shape[1])


def _resample(grey: np.ndarray, max_side: int | None, enlarge: bool) -> LoadedImage:
    height, width = grey.shape
    long, short = max(height, width), min(height, width)
    if enlarge and (long < WORK_MIN_SIDE or short < WORK_MIN_HEIGHT):
        # a whole factor, so that every original pixel becomes the same block; never past max_side
        factor = max(math.ceil(WORK_MIN_SIDE / long), math.ceil(WORK_MIN_HEIGHT / short))
        factor = min(factor, (max_side or WORK_MAX_SIDE) // long)
        if factor > 1:
            big = _resize(grey, (width * factor, height * factor), Image.Resampling.BICUBIC)
            return LoadedImage(np.clip(big, 0.0, 1.0), (width, height), 1.0 / factor)
    if not max_side or long <= max_side:
        return LoadedImage(grey, (width, height), 1.0)
    scale = long / max_side
    size = (max(1, round(width / scale)), max(1, round(height / scale)))
    return LoadedImage(_resize(grey, size, Image.Resampling.BOX), (width, height), width / size[0])


def load_image(source: Any) -> np.ndarray:
    """Any supported image → float32 (H, W) grey in [0, 1] (1 = white) at full resolution.

    See :func:`open_image` for what is accepted and refused.
    """
    return open_image(source, max_side=None, enlarge=False).grey


# ---------------------------------------------------------------------------------------------
# Ink and paper
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InkMap:
    """Ink separated from paper, polarity already resolved.

    ``ink`` is float32 (H, W) in [0, 1] (1 = as dark as the typical stroke, 0 = paper), anti-aliased
    at stroke edges; ``mask`` is the thresholded ink (bool) with specks removed; ``blank`` is true
    when nothing on the image is dark enough to be writing. ``polarity_sure`` is false when the
    picture did not settle its polarity (see :func:`polarity`): a caller may read it the other way
    round too. ``contrast`` is the ink's contrast against the paper before it was scaled to ``ink``
    (``None`` when blank): see :func:`stands_out`.
    """

    ink: np.ndarray
    mask: np.ndarray
    dark_on_light: bool
    blank: bool
    polarity_sure: bool = True
    contrast: np.ndarray | None = None


def _resize(arr: np.ndarray, size: tuple[int, int], resample=Image.Resampling.BILINEAR) -> np.ndarray:
    """Resize a float32 array to ``size`` = (width, height); Pillow anti-aliases when shrinking."""
    return np.asarray(Image.fromarray(arr.astype(np.float32), mode="F").resize(size, resample), np.float32)


def _background(grey: np.ndarray, percentile: float) -> np.ndarray:
    """Smooth estimate of the paper (or board) brightness under the writing.

    A percentile filter over a window about half the short side, computed on a reduced copy and
    scaled back: it follows uneven lighting, shadows and vignetting but not strokes, which cover
    a minority of any window (the classic "background estimation by rank filter" of document
    binarization, e.g. Lu, Su & Tan 2010).
    """
    height, width = grey.shape
    # Work at a short side of BACKGROUND_SIDE pixels whatever the size: the rank filter's cost grows
    # with the window area, and the background is smooth anyway.
    small = _reduced(grey)
    window = max(3, min(small.shape) // 2)
    bg = ndi.percentile_filter(small, percentile, size=window, mode="reflect")
    bg = ndi.uniform_filter(bg, size=max(3, window // 2), mode="nearest")
    return _resize(bg, (width, height)) if small.shape != grey.shape else bg


def _reduced(grey: np.ndarray) -> np.ndarray:
    """``grey`` averaged down to a short side of :data:`BACKGROUND_SIDE` pixels (itself if smaller)."""
    height, width = grey.shape
    factor = max(1.0, min(height, width) / BACKGROUND_SIDE)
    if factor == 1.0:
        return grey
    return _resize(grey, (max(1, round(width / factor)), max(1, round(height / factor))), Image.Resampling.BOX)


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold (1979) for values in [0, 1]: the cut maximizing between-class variance."""
    hist, edges = np.histogram(values, bins=bins, range=(0.0, 1.0))
    hist = hist.astype(np.float64)
    centres = (edges[:-1] + edges[1:]) / 2
    weight0 = np.cumsum(hist)
    weight1 = weight0[-1] - weight0
    sum0 = np.cumsum(hist * centres)
    mean0 = sum0 / np.maximum(weight0, 1e-12)
    mean1 = (sum0[-1] - sum0) / np.maximum(weight1, 1e-12)
    between = weight0 * weight1 * (mean0 - mean1) ** 2
    return float(edges[int(np.argmax(between)) + 1])


def speck_size(shape: tuple[int, ...]) -> float:
    """Pieces of ink shorter than this (pixels, longest side) in a picture of ``shape`` are specks."""
    return max(2.0, min(SPECK_FRACTION * min(shape[:2]), SPECK_PIXELS))


def _drop_specks(mask: np.ndarray, min_side: float) -> np.ndarray:
    labels, count = ndi.label(mask, structure=np.ones((3, 3)))
    if count == 0:
        return mask
    keep = np.zeros(count + 1, dtype=bool)
    for index, sl in enumerate(ndi.find_objects(labels), start=1):
        h = sl[0].stop - sl[0].start
        w = sl[1].stop - sl[1].start
        keep[index] = max(h, w) >= min_side
    return keep[labels]


def _ink_and_mask(
    smooth: np.ndarray,
    size: int,
    dark_on_light: bool,
    peak_share: float,
    faint_share: float | None = None,
    ignore: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Ink strength against the paper seen through a ``size``-pixel window, its thresholded mask
    (specks dropped) and the threshold; ``None`` when nothing is dark enough to be writing.
    ``faint_share``: also keep ink down to this share of the darkest writing's contrast where it is
    joined to ink that passes (hysteresis, Canny 1986), and return that lower threshold. ``ignore``:
    pixels left out of the threshold's statistics (printed lines darker than the writing)."""
    if dark_on_light:
        paper = ndi.grey_closing(smooth, size=(size, size), mode="reflect")
        ink = 1.0 - smooth / np.maximum(paper, 0.03)
    else:
        board = ndi.grey_opening(smooth, size=(size, size), mode="reflect")
        ink = (smooth - board) / np.maximum(1.0 - board, 0.03)
    ink = np.clip(ink, 0.0, 1.0).astype(np.float32)
    seen = ink if ignore is None else ink[~ignore]
    peak = float(seen.max()) if seen.size else 0.0  # the picture is smoothed: no one noisy pixel
    if peak < FAINT_INK_CONTRAST:
        return None
    threshold = strong = max(otsu_threshold(seen), MIN_INK_CONTRAST / 2)
    above = seen[seen > threshold]
    if above.size:
        # A shadow darkens paper by a fraction; ink absorbs most light. When a shadow corner is
        # smaller than the closing window it survives as "ink" and Otsu may split paper from shadow:
        # ink must also reach a share of the darkest writing's contrast.
        darkest, strongest = (float(v) for v in np.percentile(above, [99, 99.8]))
        if strongest >= GRAIN_RATIO * darkest:  # the 99th percentile is grain, the digit is stronger
            darkest = strongest
        strong = max(threshold, peak_share * darkest)
        faint = strong if faint_share is None else max(threshold, faint_share * darkest)
        threshold = min(strong, faint)
    mask = ink > threshold
    if threshold < strong:  # hysteresis: faint ink counts only in a piece that holds strong ink
        pieces, _ = ndi.label(mask, structure=np.ones((3, 3)))
        joined = np.unique(pieces[ink > strong])
        mask = np.isin(pieces, joined[joined > 0])
    mask = _drop_specks(mask, speck_size(smooth.shape))
    return (ink, mask, threshold) if mask.any() else None


def extract_ink(
    grey: np.ndarray,
    peak_share: float = INK_SHARE_OF_PEAK,
    thick_strokes: bool = True,
    dark_on_light: bool | None = None,
    faint_share: float | None = None,
    ignore: np.ndarray | None = None,
) -> InkMap:
    """Separate the writing from the paper in a grey image (float32 (H, W) in [0, 1], 1 = white).

    1. Polarity, unless ``dark_on_light`` is given: see :func:`polarity`.
    2. Background: a grey closing wider than the strokes sees paper, not strokes, and follows
       uneven light and shadow edges; dark ink is divided by it (reflectance = image / illumination,
       which cancels shadows), light ink has it subtracted.
    3. Threshold: Otsu on the flattened ink, never below :data:`MIN_INK_CONTRAST` / 2 nor below
       ``peak_share`` of the darkest writing's contrast (shadows are weaker than ink; 0 keeps faint
       ruled lines and comb fields whole, so that they can be found and removed). ``faint_share``
       (used for pictures enlarged on loading) also keeps ink down to that share where it is joined
       to ink that passes: hysteresis, as in Canny's edge detector. ``ignore`` (printed lines found
       already) is left out of the threshold's statistics: faint writing between dark rules.
    4. ``thick_strokes``: when the strokes found are wider than a third of the window (a marker),
       look again through a window three stroke widths wide, so their middles are not taken for
       paper (realistic single digits, tuning seeds 1 and 2: 95.8 → 97.0% and 95.0 → 96.3%).
    """
    grey = np.asarray(grey, dtype=np.float32)
    height, width = grey.shape
    empty = np.zeros_like(grey, dtype=bool)
    if float(grey.max()) - float(grey.min()) < FAINT_INK_CONTRAST:
        return InkMap(np.zeros_like(grey), empty, True if dark_on_light is None else dark_on_light, True)
    smooth = _smooth(grey)
    sure = True
    if dark_on_light is None:
        dark_on_light, sure = _polarity(smooth)
    # A grey closing (opening for light ink) wider than any stroke removes the strokes and keeps
    # everything wider, shadows with sharp edges included: closings preserve step edges.
    size = _paper_window(grey.shape)
    found = _ink_and_mask(smooth, size, dark_on_light, peak_share, faint_share, ignore)
    if found is not None and thick_strokes:
        # A marker's strokes can be wider than the window: their middles then pass for paper and the
        # digit is hollowed out. Widen the window to a few stroke widths and look again.
        step = max(1, min(height, width) // 64)  # a rough width is enough: measure on a coarse grid
        radius = ndi.distance_transform_edt(found[1][::step, ::step]) * step
        stroke = 2.0 * float(np.percentile(radius[radius > 0], 99)) if radius.any() else 0.0
        wider = min(min(height, width), round(THICK_STROKE_WINDOW * stroke))
        if wider > 1.25 * size:
            found = _ink_and_mask(smooth, wider, dark_on_light, peak_share, faint_share, ignore) or found
    if found is None:
        return InkMap(np.zeros_like(grey), empty, dark_on_light, True, sure)
    ink, mask, threshold = found
    writing = mask if ignore is None else mask & ~ignore
    strength = float(np.median(ink[writing])) if writing.any() else 0.0
    if strength < FAINT_INK_CONTRAST:
        return InkMap(np.zeros_like(grey), empty, dark_on_light, True, sure)
    low = threshold / 2
    soft = np.clip((ink - low) / max(strength - low, 1e-3), 0.0, 1.0).astype(np.float32)
    return InkMap(soft, mask, dark_on_light, False, sure, ink)


def stands_out(ink: InkMap, writing: np.ndarray, lines: np.ndarray | None = None) -> bool:
    """Whether the pixels ``writing`` of ``ink`` are writing, not the paper's grain or shading.

    Writing whose median contrast reaches :data:`MIN_INK_CONTRAST` is, unless it was looked for
    again between printed lines ``lines`` (found already). Fainter writing (down to
    :data:`FAINT_INK_CONTRAST`) must stand out from the paper's grain (:data:`FAINT_INK_CLARITY`
    times its 90th percentile, away from the ink and the lines), and it, or writing found between
    lines, must have a pen's edges: the contrast's gradient across its outline at least
    :data:`INK_EDGE` of its contrast per pixel (shading and soft shadows change over tens of pixels).
    """
    if ink.blank or ink.contrast is None or not writing.any():
        return False
    contrast = ink.contrast
    strength = float(np.median(contrast[writing]))
    if strength < FAINT_INK_CONTRAST:
        return False
    if strength < MIN_INK_CONTRAST:
        paper = _paper_beside(ink, writing)
        if lines is not None:
            paper &= ~lines
        if paper.any() and strength < FAINT_INK_CLARITY * float(np.percentile(contrast[paper], 90)):
            return False
    elif lines is None:
        return True
    return _edge(contrast, writing) >= INK_EDGE * strength


def _paper_beside(ink: InkMap, writing: np.ndarray) -> np.ndarray:
    """The paper of ``ink``'s picture: its pixels 3 or more away from any ink and from ``writing``."""
    return ~ndi.binary_dilation(ink.mask | writing, iterations=3)


def _edge(contrast: np.ndarray, writing: np.ndarray) -> float:
    """How sharply the ``contrast`` changes across the outline of ``writing``: the median gradient
    (per pixel) on the pixels just inside and just outside it."""
    rows, cols = np.nonzero(writing.any(axis=1))[0], np.nonzero(writing.any(axis=0))[0]
    around = np.s_[max(0, rows[0] - 2) : rows[-1] + 3, max(0, cols[0] - 2) : cols[-1] + 3]  # all it needs
    contrast, writing = contrast[around], writing[around]
    outline = ndi.binary_dilation(writing) & ~ndi.binary_erosion(writing)
    gy, gx = np.gradient(contrast)
    return float(np.median(np.hypot(gx, gy)[outline]))


def refocused(loaded: LoadedImage, ink: InkMap, writing: np.ndarray) -> LoadedImage | None:
    """``loaded`` sharpened when it was taken out of focus (see :data:`BLURRED_EDGE`), judged by the
    pixels ``writing`` of its ink ``ink``; ``None`` when it looks in focus. A blur spreads every
    stroke: neighbouring digits run together at the threshold, and a loop's hole closes. The unsharp
    mask is as wide as the blur measured (:data:`SHARPEN_SPREAD`)."""
    if loaded.enlarged or ink.blank or ink.contrast is None or not writing.any():
        return None  # a small picture enlarged on loading is soft from the enlarging, not the lens
    strength = float(np.median(ink.contrast[writing]))
    if strength < MIN_INK_CONTRAST:
        return None
    edge = _edge(ink.contrast, writing) / strength
    rows = np.nonzero(writing.any(axis=1))[0]
    width, height = 1.0 / max(edge, 1e-6), float(rows[-1] + 1 - rows[0])  # of the edges; the writing's
    if edge >= BLURRED_EDGE or not BLURRED_SHARE * height <= width <= height / 2:
        return None  # in focus; or a smudge, not writing (edges half as wide as the writing is tall)
    grey = loaded.grey
    inside = ndi.binary_erosion(writing)
    paper = _paper_beside(ink, writing)
    if not inside.any() or not paper.any():
        return None
    depth = abs(float(np.median(grey[paper])) - float(np.median(grey[writing])))
    grain = np.abs(grey - ndi.gaussian_filter(grey, 1.0))
    if float(np.median(grain[inside])) >= SMOOTH_STROKE * depth:
        return None  # soft edges, but grainy inside: a pencil
    blurred = ndi.gaussian_filter(grey, SHARPEN_SPREAD * width)
    return replace(loaded, grey=np.clip(grey + SHARPEN_AMOUNT * (grey - blurred), 0.0, 1.0).astype(np.float32))


def _smooth(grey: np.ndarray) -> np.ndarray:
    """The picture as the ink is found on it: sensor noise and JPEG ringing smoothed away."""
    return ndi.gaussian_filter(grey, 0.7) if min(grey.shape) >= 64 else grey


def polarity(grey: np.ndarray) -> tuple[bool, bool]:
    """Whether a grey picture is dark writing on light paper, and whether the picture settles it.

    A clearly light or clearly dark picture overall settles the polarity (paper is most of a photo
    of writing); in between, a clearly light or dark frame does (paper lines a digit cut tightly,
    whose ink may be half the picture); otherwise the side with more pixels far from a local
    background does (shadows and lit patches deviate from it too, so that count only breaks ties).
    The answer is *unsure* when the picture and its frame clearly disagree: a heavy digit cut
    tightly is more ink than paper (a light frame round a dark picture), a sheet photographed on a
    dark desk has a dark frame round a light picture. Callers may then try both polarities and keep
    the reading the classifier believes. The tie-breaker is never called unsure: on grey pictures
    with faint marks, reading them the other way round as well gave letters and scribbles a second
    chance to pass for digits (realistic non-digits, tuning seeds: 22 more of 1,600 accepted).
    The tie-breaker counts only strong deviations (at least half the strongest either way): a
    shadow's edge or a lit patch deviates over a wide area, but by less than ink does. A frame that
    decides a grey picture leaves it unsure when marks as strong as ink clearly say otherwise (a row
    of cells cut along its grid lines has the dark lines for its frame).
    """
    return _polarity(_smooth(np.asarray(grey, dtype=np.float32)))


def _polarity(smooth: np.ndarray) -> tuple[bool, bool]:
    overall = float(np.median(smooth))
    frame = float(np.median(np.concatenate([smooth[0], smooth[-1], smooth[:, 0], smooth[:, -1]])))
    light_frame, dark_frame = frame >= LIGHT_PAPER, frame <= DARK_BOARD
    if overall >= LIGHT_PAPER:
        return True, not dark_frame
    if overall <= DARK_BOARD:
        return False, not light_frame
    if light_frame or dark_frame:
        # A grey picture whose frame decides; unsure when marks as strong as ink clearly say
        # otherwise (the borders of a row of cells cut along its grid lines make a dark frame round
        # light paper; a lit band across a blank page is no writing).
        darker, lighter, strongest = _strong_deviations(smooth)
        if light_frame:
            disagree = lighter > STRONG_MAJORITY * darker and strongest[1] >= 2 * MIN_INK_CONTRAST
        else:
            # Dark marks are as strong as ink by their contrast against the paper, as ink is
            # measured (a ratio: in a dim photo of grey paper a black stroke is 0.27 darker than the
            # paper at 0.42, 0.64 of its light).
            disagree = darker > STRONG_MAJORITY * lighter and strongest[2] >= 2 * MIN_INK_CONTRAST
        return light_frame, not disagree
    darker, lighter, _ = _strong_deviations(smooth)
    return darker >= lighter, True


def _strong_deviations(smooth: np.ndarray) -> tuple[int, int, tuple[float, float, float]]:
    """How many pixels are much darker, and how many much lighter, than a local background, and
    how far the strongest deviate (99.5th percentiles): darker, lighter, and darker as a share of
    the background's brightness (the contrast of dark ink). Only strong deviations count, at half
    the strongest either way (a shadow's edge or a lit patch deviates from the background over a
    wide area, but by less than ink does)."""
    background = _background(smooth, 50)
    deviation = smooth - background
    darkest = float(np.percentile(-deviation / np.maximum(background, 0.03), 99.5))
    strongest = (float(np.percentile(-deviation, 99.5)), float(np.percentile(deviation, 99.5)))
    level = max(MIN_INK_CONTRAST / 2, 0.5 * max(strongest))
    return int((deviation < -level).sum()), int((deviation > level).sum()), (*strongest, darkest)


# ---------------------------------------------------------------------------------------------
# A sheet of paper on a darker desk
# ---------------------------------------------------------------------------------------------


def _hull(mask: np.ndarray) -> np.ndarray | None:
    """The corners (x, y) of the region's convex hull; ``None`` for fewer than four pixels or all on one line."""
    ys, xs = np.nonzero(mask)
    if ys.size < 4:
        return None
    points = np.column_stack([xs, ys]).astype(np.float64)
    try:
        return points[ConvexHull(points).vertices]
    except QhullError:
        return None


def _filled_hull(mask: np.ndarray) -> np.ndarray:
    """The region with its convex hull filled in (the region itself when it has none)."""
    hull = _hull(mask)
    if hull is None:
        return mask
    picture = Image.new("1", (mask.shape[1], mask.shape[0]), 0)
    ImageDraw.Draw(picture).polygon([(float(x), float(y)) for x, y in hull], fill=1, outline=1)
    return np.asarray(picture, dtype=bool) | mask


def _enclosing_rectangle(mask: np.ndarray) -> tuple[float, float]:
    """The region's area over its smallest enclosing rectangle's, at any angle (rotating calipers
    over the convex hull): 1 for a rectangle, about 0.9 for a sheet seen in perspective, π/4 for an
    ellipse such as a heavy 0; and that rectangle's angle (radians, in (-π/4, π/4]: the turn that
    brings its sides level)."""
    hull = _hull(mask)
    if hull is None:
        return 0.0, 0.0
    edges = np.diff(np.vstack([hull, hull[:1]]), axis=0)
    best, best_angle = math.inf, 0.0
    for angle in np.unique(np.round(np.arctan2(edges[:, 1], edges[:, 0]) % (np.pi / 2), 6)):
        c, s = math.cos(angle), math.sin(angle)
        u, v = hull @ np.array([c, s]), hull @ np.array([-s, c])
        area = (np.ptp(u) + 1) * (np.ptp(v) + 1)  # +1: pixels, not their centres
        if area < best:
            best, best_angle = area, float(angle)
    return float(mask.sum() / best), best_angle - np.pi / 2 if best_angle > np.pi / 4 else best_angle


@dataclass(frozen=True)
class Page:
    """A sheet of paper found on a picture: ``mask`` (bool, the picture's shape: the sheet with the
    writing on it) and ``angle``, how far its sides are turned from level (radians, clockwise on the
    picture, in (-π/4, π/4])."""

    mask: np.ndarray
    angle: float


def find_page(grey: np.ndarray) -> Page | None:
    """Where a sheet of paper photographed on a darker desk lies (:class:`Page`), or ``None`` when
    the picture is not one.

    A phone photo of a note on a table is mostly desk when the note is small in it; read as a whole,
    the desk looks like a board and the sheet like chalk, and nothing is read. A sheet is the largest
    bright region (Otsu on a reduced copy) that covers :data:`PAGE_AREA` of the picture, is
    rectangular (:data:`PAGE_RECTANGULARITY`: a heavy 0 or a blot is not), mostly paper with
    something darker written inside it (:data:`PAGE_PAPER_SHARE`), much brighter than what lies
    around it (:data:`PAGE_DESK_RATIO`: a shadow's edge dims paper less), and has desk beyond at
    least three of its sides (a shadow across a sheet leaves lit paper at the frame on two or more),
    or two when the desk is much darker (:data:`PAGE_CORNER_DESK_RATIO`: a slip in a corner).
    When the bright region fails these tests, a second look follows the light across it
    (:func:`_lit_paper`), for a sheet whose far end lies in a shadow's gradient, and asks for a
    clearly darker desk (:data:`PAGE_LIT_DESK_RATIO`).
    """
    height, width = grey.shape
    # Desk beyond three sides: three sides of the frame mostly dark next to the brightest paper.
    # Most pictures stop here, at the cost of four medians.
    sides = (grey[0], grey[-1], grey[:, 0], grey[:, -1])
    if sum(float(np.median(side)) <= PAGE_DESK_RATIO * float(grey.max()) for side in sides) < 3:
        return None
    factor = max(1.0, max(height, width) / PAGE_WORK_SIDE)
    size = (max(1, round(width / factor)), max(1, round(height / factor)))
    small = ndi.gaussian_filter(_resize(grey, size, Image.Resampling.BOX) if factor > 1 else grey, 1.0)
    if min(small.shape) < 16:
        return None
    bright = small > otsu_threshold(small)
    labels, count = ndi.label(bright)
    if count == 0:
        return None
    paper = labels == 1 + int(np.argmax(np.bincount(labels.ravel())[1:]))
    found = _sheet(small, paper)
    if found is None:
        # A shadow's gradient across the sheet: its far end is darker than one threshold for the
        # whole picture. Look again with a threshold halfway between the desk and the paper's light
        # as it falls off across the part found (a plane fitted to it, carried on over the picture).
        paper = _lit_paper(small, paper)
        found = None if paper is None else _sheet(small, paper, PAGE_LIT_DESK_RATIO)
    if found is None:
        return None
    sheet, angle = found
    return Page(_resize(sheet.astype(np.float32), (width, height)) > 0.5, angle)


def _sheet(
    small: np.ndarray, paper: np.ndarray, desk_ratio: float = PAGE_DESK_RATIO
) -> tuple[np.ndarray, float] | None:
    """The sheet (``paper`` with what is written on it) and its angle, if it passes the tests of
    :func:`find_page` (the desk at most ``desk_ratio`` of the paper's brightness), else ``None``."""
    filled = ndi.binary_fill_holes(paper)
    if not PAGE_AREA[0] * small.size <= int(filled.sum()) <= PAGE_AREA[1] * small.size:
        return None
    # Nothing written inside: a ruled line or a stroke running to the sheet's edge opens the writing
    # to the desk, and filling holes leaves it out. The paper's convex hull closes it (the sheet's
    # shape is still judged as filled).
    sheet = filled if (filled & ~paper).any() else _filled_hull(filled)
    if sheet.all():  # the hull fills the picture: no desk shows round the sheet
        return None
    area = int(sheet.sum())
    written = area - int(paper.sum())
    if not 0 < written <= (1 - PAGE_PAPER_SHARE) * area:
        return None
    desk = float(np.median(small[~sheet])) / float(np.median(small[paper]))
    if desk > desk_ratio:
        return None
    ys, xs = np.nonzero(sheet)
    margin = max(1, round(0.02 * min(small.shape)))
    sides = (
        int(xs.min() >= margin)
        + int(ys.min() >= margin)
        + int(xs.max() < small.shape[1] - margin)
        + int(ys.max() < small.shape[0] - margin)
    )
    rectangular, angle = _enclosing_rectangle(filled)
    if sides < (2 if desk <= PAGE_CORNER_DESK_RATIO else 3) or rectangular < PAGE_RECTANGULARITY:
        return None
    return sheet, angle


def _lit_paper(small: np.ndarray, paper: np.ndarray) -> np.ndarray | None:
    """The paper joined to ``paper`` when the light falls off across it: brighter than halfway
    between the desk and a plane fitted to the brightness of ``paper``."""
    ys, xs = np.nonzero(paper)
    if ys.size < 16:
        return None
    design = np.column_stack([np.ones(ys.size), xs, ys]).astype(np.float64)
    coef, *_ = np.linalg.lstsq(design, small[paper].astype(np.float64), rcond=None)
    yy, xx = np.mgrid[0 : small.shape[0], 0 : small.shape[1]]
    light = coef[0] + coef[1] * xx + coef[2] * yy
    beyond = ~ndi.binary_dilation(ndi.binary_fill_holes(paper), iterations=2)
    if not beyond.any():  # the bright region fills the picture: no desk to look at
        return None
    desk = float(np.median(small[beyond]))
    labels, _ = ndi.label(small > desk + 0.5 * (light - desk))
    joined = np.bincount(labels[paper], minlength=labels.max() + 1)
    joined[0] = 0
    return labels == int(np.argmax(joined)) if joined.max() else None


def exposed(loaded: LoadedImage) -> LoadedImage:
    """``loaded`` brightened if it is underexposed (see :data:`DIM_PICTURE`), else itself."""
    grey = loaded.grey
    if grey.size == 0 or float(grey.max()) >= DIM_PICTURE:
        return loaded
    brightest = float(_smooth(grey).max())
    if brightest >= DIM_PICTURE or brightest <= 0.0:
        return loaded
    gain = min(MAX_GAIN, EXPOSURE_TARGET / brightest)
    return replace(loaded, grey=np.clip(grey * gain, 0.0, 1.0).astype(np.float32))


def on_the_page(loaded: LoadedImage, dark_on_light: bool | None = None) -> LoadedImage:
    """The sheet of paper :func:`find_page` finds, cut out of the picture and turned level (writing
    runs along a sheet's sides), the desk in the corners painted over as paper; or ``loaded``
    itself when there is none, or when the caller reads the picture as light ink on a dark ground
    (``dark_on_light=False``: chalk on a board is no sheet on a desk). An underexposed picture is
    brightened first (:func:`exposed`), and glare is taken off the paper last (:func:`deglared`)."""
    loaded = exposed(loaded)
    page = None if dark_on_light is False else find_page(loaded.grey)
    if page is None:
        return deglared(loaded, dark_on_light)
    # The sheet's own edge is blurred into the desk: keep clear of it.
    inside = ndi.binary_erosion(page.mask, iterations=max(2, round(0.01 * max(loaded.grey.shape))))
    ys, xs = np.nonzero(inside)
    if ys.size < 64:
        return loaded
    c, s = math.cos(page.angle), math.sin(page.angle)
    u, v = xs * c + ys * s, -xs * s + ys * c  # the sheet's own axes
    u0, v0 = float(u.min()), float(v.min())
    size = (int(u.max() - u0) + 1, int(v.max() - v0) + 1)
    # Pixel (i, j) of the level sheet is (u0 + i, v0 + j) on its axes: back on the picture, that is
    # x = c·u − s·v, y = s·u + c·v.
    to_picture = (c, -s, c * u0 - s * v0, s, c, s * u0 + c * v0)
    paper = float(np.median(loaded.grey[inside]))
    grey = Image.fromarray(loaded.grey, mode="F").transform(
        size, Image.Transform.AFFINE, to_picture, Image.Resampling.BILINEAR, fillcolor=paper
    )
    on_sheet = Image.fromarray(inside.astype(np.uint8) * 255).transform(
        size, Image.Transform.AFFINE, to_picture, Image.Resampling.NEAREST, fillcolor=0
    )
    grey = np.where(np.asarray(on_sheet) > 0, np.asarray(grey, dtype=np.float32), paper).astype(np.float32)
    return deglared(replace(loaded, grey=grey, placement=_compose(loaded.placement, to_picture)), dark_on_light)


def deglared(loaded: LoadedImage, dark_on_light: bool | None = None) -> LoadedImage:
    """``loaded`` with the glare on its paper taken off (see :data:`GLARE_LIGHT`), else itself.

    Only for dark writing on light paper (median brightness at least :data:`LIGHT_PAPER`, unless
    ``dark_on_light`` says so): on a dark board the chalk is the bright part. The paper is seen
    through a grey closing wider than the strokes on a copy :data:`BACKGROUND_SIDE` pixels high,
    as :func:`_background` sees it; its excess over the median, in linear light, is the glare if
    the picture shows a lamp's reflection: paper burnt out, and the ink under the bright part
    fainter than the ink beside it.
    """
    glare = _glare(loaded.grey, dark_on_light, GLARE_BURNT, MIN_INK_CONTRAST)
    if glare is None:
        return loaded
    light = np.maximum(loaded.grey**GAMMA - glare, 0.0)
    return replace(loaded, grey=(light ** (1 / GAMMA)).astype(np.float32), glare=True)


def _glare(grey: np.ndarray, dark_on_light: bool | None, burnt: float, least_faded: float) -> np.ndarray | None:
    """The glare on ``grey``'s paper in linear light (H, W), or ``None`` when the picture shows none
    (see :func:`deglared`): the paper's brightest at ``burnt`` or more, the ink under the glare's
    brighter half at least ``least_faded`` but fainter than the ink beside it."""
    height, width = grey.shape
    if dark_on_light is False or min(height, width) < MNIST_SIZE:
        return None
    small = _reduced(grey)
    if dark_on_light is None and float(np.median(small)) < LIGHT_PAPER:
        return None
    window = _paper_window(small.shape, 3)
    paper = ndi.grey_closing(small, size=(window, window), mode="reflect")
    if float(paper.max()) < burnt:
        return None
    paper = paper**GAMMA
    glare = ndi.gaussian_filter(np.maximum(paper - float(np.median(paper)), 0.0), 1.0, mode="nearest")
    top = float(glare.max())
    if top < GLARE_LIGHT:
        return None
    found = _ink_and_mask(_smooth(grey), _paper_window(grey.shape), True, 0.0)
    if found is None:
        return None
    ink, mask, _ = found
    glare = _resize(glare, (width, height))
    # Printed lines are fainter than writing wherever they are: only the writing's fading counts.
    marks = ink > MIN_INK_CONTRAST / 2
    writing = np.ones_like(marks)
    for horizontal in (True, False):
        for line in find_lines(
            marks, horizontal, round(0.5 * (width if horizontal else height)), 0.05 * min(height, width), gap=3
        ):
            writing &= ~line.pixels
    under, beside = writing & (glare > 0.5 * top), writing & mask & (glare < 0.2 * top)
    if under.sum() < GLARE_INK_PIXELS or beside.sum() < GLARE_INK_PIXELS:
        return None
    faded = float(np.percentile(ink[under], 99.5))
    if not least_faded <= faded <= GLARE_FADED * float(np.percentile(ink[beside], 90)):
        return None
    return glare


def _faded_under_glare(loaded: LoadedImage, ink: InkMap) -> InkMap:
    """``ink`` (one digit's, dark on light, no glare taken off), or the ink kept down to
    :data:`FAINT_INK_SHARE_OF_PEAK` (or Otsu's threshold, the higher) where joined to ink that
    passes, when a weaker glare on the paper fades the digit's strokes (see
    :data:`GLARE_HINT_BURNT`). Only writing as strong as ink
    (median contrast twice :data:`MIN_INK_CONTRAST`) is looked at so: a shadow's band across a blank
    page fades where the paper is lighter too."""
    grey = loaded.grey
    if ink.contrast is None or float(np.median(ink.contrast[ink.mask])) < 2 * MIN_INK_CONTRAST:
        return ink
    if _glare(grey, True, GLARE_HINT_BURNT, 0.0) is None:
        return ink
    fainter = extract_ink(grey, dark_on_light=True, faint_share=FAINT_INK_SHARE_OF_PEAK)
    if fainter.blank or fainter.contrast is None:
        return ink
    size = _paper_window(grey.shape)
    paper = ndi.grey_closing(_smooth(grey), size=(size, size), mode="reflect")
    light = paper[fainter.mask].astype(np.float64) ** GAMMA
    ridge = ndi.maximum_filter(fainter.contrast, size=3)[fainter.mask].astype(np.float64)
    if light.size < GLARE_INK_PIXELS or light.std() < 1e-6 or ridge.std() < 1e-6:
        return ink  # paper evenly lit (or burnt out) under all the writing: nothing fades with it
    if not float(np.corrcoef(ridge, light)[0, 1]) <= GLARE_FADING:
        return ink
    return replace(fainter, polarity_sure=ink.polarity_sure)


def _paper_window(shape: tuple[int, ...], least: int = 5) -> int:
    """The side of the grey closing that sees the paper in a picture of ``shape``: wider than any stroke."""
    return max(least, round(0.3 * min(shape[:2])), round(0.08 * max(shape[:2])))


def _compose(outer: tuple[float, ...], inner: tuple[float, ...]) -> tuple[float, float, float, float, float, float]:
    """The affine map ``inner`` followed by ``outer`` (each (a, b, c, d, e, f): (x, y) → (a·x + b·y
    + c, d·x + e·y + f)), as one such map."""
    a, b, c, d, e, f = outer
    p0, p1, p2, p3, p4, p5 = inner
    return (
        a * p0 + b * p3,
        a * p1 + b * p4,
        a * p2 + b * p5 + c,
        d * p0 + e * p3,
        d * p1 + e * p4,
        d * p2 + e * p5 + f,
    )


def level(loaded: LoadedImage, angle: float, ink: np.ndarray, writing: np.ndarray, within: bool = False) -> LoadedImage:
    """The picture turned so that writing running at ``angle`` (radians, clockwise from the
    picture's rows, as y grows downwards) runs level: the ``writing`` (bool, the picture's size;
    all of it for the whole picture) with :data:`LEVEL_MARGIN` of its height round it, as far as
    the turned picture reaches. What lies beyond the old picture is its border's paper carried on
    outwards (the border's ``ink`` pixels, bool, replaced by the paper beside them), so that its
    frame leaves no edge to be taken for ink. ``within``: only as far as the largest level
    rectangle inside the turned picture, round its centre, so that lines which ran out of the old
    frame run out of the new one too (see :func:`inside_turned`). Boxes map back to the original
    through ``placement``."""
    grey = np.asarray(loaded.grey, dtype=np.float32)
    height, width = grey.shape
    c, s = math.cos(angle), math.sin(angle)

    def axes(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return xs * c + ys * s, -xs * s + ys * c  # the writing's own axes, as in on_the_page

    u, v = axes(np.array([0.0, width, 0.0, width]), np.array([0.0, 0.0, height, height]))
    wy, wx = np.nonzero(writing)
    wu, wv = axes(wx.astype(np.float64), wy.astype(np.float64))
    margin = LEVEL_MARGIN * float(wv.max() - wv.min()) if wv.size else math.inf
    u0, u1 = (
        max(float(u.min()), float(wu.min(initial=np.inf)) - margin),
        min(float(u.max()), float(wu.max(initial=-np.inf)) + margin),
    )
    v0, v1 = (
        max(float(v.min()), float(wv.min(initial=np.inf)) - margin),
        min(float(v.max()), float(wv.max(initial=-np.inf)) + margin),
    )
    if within:
        cu, cv = axes(np.array(width / 2), np.array(height / 2))  # the old picture's centre
        inner_u, inner_v = inside_turned(width, height, angle)
        u0, u1 = max(u0, float(cu) - inner_u / 2), min(u1, float(cu) + inner_u / 2)
        v0, v1 = max(v0, float(cv) - inner_v / 2), min(v1, float(cv) + inner_v / 2)
    size = (max(1, math.ceil(u1 - u0)), max(1, math.ceil(v1 - v0)))
    to_picture = (c, -s, c * u0 - s * v0, s, c, s * u0 + c * v0)
    border = grey.copy()
    for side in (np.s_[0, :], np.s_[-1, :], np.s_[:, 0], np.s_[:, -1]):
        line, inked = border[side], ink[side]
        paper = float(np.median(line[~inked])) if (~inked).any() else float(np.median(grey))
        border[side] = ndi.uniform_filter1d(np.where(inked, paper, line), size=9, mode="nearest")
    reach = math.ceil((size[0] + size[1]) * abs(s)) + 2  # how far the turned picture reaches beyond the old
    padded = np.pad(border, reach, mode="edge")
    padded[reach : reach + height, reach : reach + width] = grey
    a, b, cc, d, e, f = to_picture
    turned = Image.fromarray(padded, mode="F").transform(
        size,
        Image.Transform.AFFINE,
        (a, b, cc + reach, d, e, f + reach),
        Image.Resampling.BILINEAR,
        fillcolor=float(np.median(grey)),
    )
    placement = _compose(loaded.placement, to_picture)
    return replace(loaded, grey=np.asarray(turned, dtype=np.float32), placement=placement)


# ---------------------------------------------------------------------------------------------
# Ruled lines and box borders
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Line:
    """A straight, thin, long run of ink: a ruled line, an underline or a box border."""

    horizontal: bool
    position: float  # centre row (horizontal) or column (vertical), in pixels
    start: int
    stop: int
    thickness: float
    pixels: np.ndarray  # bool mask of its pixels, same shape as the image


def inside_turned(width: float, height: float, angle: float) -> tuple[float, float]:
    """Width and height of the largest level rectangle, centred, inside a ``width`` × ``height``
    rectangle turned by ``angle`` radians (|angle| below 45°): where its corners touch the turned
    sides, or, for a long thin picture, where its long sides touch both turned long sides."""
    s, c = abs(math.sin(angle)), abs(math.cos(angle))
    long_side, short_side = max(width, height), min(width, height)
    if short_side <= 2 * s * c * long_side or abs(c - s) < 1e-9:
        half = short_side / 2
        return (half / s, half / c) if width >= height else (half / c, half / s)
    cos2 = c * c - s * s
    return (width * c - height * s) / cos2, (height * c - width * s) / cos2


def long_runs(mask: np.ndarray, min_length: int) -> np.ndarray:
    """The pixels of horizontal runs at least ``min_length`` long: the binary opening of ``mask`` by a
    1×``min_length`` bar, computed from run lengths (linear time, whatever the bar's length)."""
    rows, cols = mask.shape
    edges = np.diff(
        np.pad(mask.view(np.int8) if mask.dtype == bool else mask.astype(np.int8), ((0, 0), (1, 1))), axis=1
    )
    start_r, start_c = np.nonzero(edges == 1)
    _, stop_c = np.nonzero(edges == -1)  # same rows and order as the starts
    long = (stop_c - start_c) >= min_length
    marks = np.zeros((rows, cols + 1), np.int32)
    np.add.at(marks, (start_r[long], start_c[long]), 1)
    np.add.at(marks, (start_r[long], stop_c[long]), -1)
    return np.cumsum(marks[:, :cols], axis=1) > 0


# Tilts (degrees) at which :func:`find_tilted_lines` looks for lines, and the share of a line's
# pixels already found at another tilt that makes it the same line.
TILTS = tuple(d for d in range(-14, 15, 2) if d)
TILTED_TAKEN = 0.5
# A tilted line found must run along this share of its length once strokes crossing it are left out,
# and its centre stray no more than this (pixels, standard deviation) from straight (see _printed).
TILTED_COVERED = 0.5
TILTED_STRAIGHT = 0.5
# Only tilts at which two neighbouring bands of TILTED_BAND rows of the sheared picture hold
# TILTED_VOTES times the least length of a line in ink pixels are searched (the search is the cost).
TILTED_BAND = 4
TILTED_VOTES = 0.8


def find_lines(
    mask: np.ndarray, horizontal: bool, min_length: int, max_thickness: float, gap: int = 0, extend_gap: int = 0
) -> list[Line]:
    """Thin straight lines at least ``min_length`` long along one axis.

    A morphological opening with a 1×``min_length`` bar keeps only long runs (the standard table-line
    extraction); the mask is first thickened across the line a little so a line tilted by a degree
    or two still has long runs. ``extend_gap`` > 0: each line found is then traced beyond its ends
    (see :func:`_extend_line`), across breaks of up to that many pixels.
    """
    grid = mask if horizontal else mask.T
    rows, cols = grid.shape
    if cols < min_length or min_length < 2:
        return []
    tolerance = max(1, round(0.02 * rows))
    closed = grid
    if gap > 0:  # bridge breaks of up to `gap` pixels: a faint line is only partly above the threshold
        bridged = ndi.maximum_filter1d(grid.view(np.uint8), gap + 1, axis=1)
        closed = ndi.minimum_filter1d(bridged, gap + 1, axis=1).view(bool)
    thick = ndi.maximum_filter1d(closed.view(np.uint8), 2 * tolerance + 1, axis=0)
    runs = long_runs(thick.view(bool), min_length) & closed
    labels, _ = ndi.label(runs, structure=np.ones((3, 3)))
    lines = []
    for index, sl in enumerate(ndi.find_objects(labels), start=1):
        length = sl[1].stop - sl[1].start
        if length < min_length:
            continue
        pixels = (labels[sl] == index) & grid[sl]
        # Thickness: the median number of line pixels per column it covers.
        per_column = pixels.sum(axis=0)
        thickness = float(np.median(per_column[per_column > 0]))
        if thickness > max_thickness:
            continue
        full = np.zeros_like(grid)
        full[sl] = pixels
        start, stop = sl[1].start, sl[1].stop
        if extend_gap > 0:
            start, stop = _extend_line(grid, full, thickness, extend_gap)
        rows_idx = np.nonzero(full)[0]
        lines.append(Line(horizontal, float(rows_idx.mean()), start, stop, thickness, full if horizontal else full.T))
    return lines


def find_tilted_lines(
    mask: np.ndarray, min_length: int, max_thickness: float, gap: int, extend_gap: int, found: list[Line]
) -> list[Line]:
    """Horizontal lines tilted by more than :func:`find_lines` tolerates (a comb or ruled lines
    photographed turned or from one side, where the box's top and bottom run towards each other),
    that are not among ``found``.

    The mask is sheared so that lines of each slope in :data:`TILTS` run level, searched as
    :func:`find_lines` searches, and what is found is sheared back.
    """
    taken = np.zeros_like(mask)
    for line in found:
        taken |= line.pixels
    # A line runs within one piece of ink at least that long (its breaks bridged as find_lines
    # bridges them) once the lines found are left out: most pictures have none, and are not searched.
    rest = mask & ~taken
    bridged = ndi.binary_closing(rest, structure=np.ones((1, gap + 1), bool)) if gap > 0 else rest
    labels, _ = ndi.label(bridged, structure=np.ones((3, 3)))
    if not any(sl[1].stop - sl[1].start >= min_length for sl in ndi.find_objects(labels)):
        return []
    rows, cols = mask.shape
    x = np.arange(cols)
    ys, xs = np.nonzero(rest)
    lines: list[Line] = []
    for degrees in TILTS:
        shift = np.round(math.tan(math.radians(degrees)) * (x - cols / 2)).astype(np.int64)
        shift -= shift.min()
        # A line at this tilt piles its pixels into a few rows once sheared (a Hough transform's
        # vote): unless two neighbouring bands of rows hold a line's worth, nothing is looked for.
        votes = np.bincount((ys + shift[xs]) // TILTED_BAND, minlength=2)
        if (votes[:-1] + votes[1:]).max() < TILTED_VOTES * min_length:
            continue
        index = np.arange(rows)[:, None] + shift[None, :]
        sheared = np.zeros((rows + int(shift.max()), cols), bool)
        sheared[index, x[None, :]] = mask
        for line in find_lines(sheared, True, min_length, max_thickness, gap=gap, extend_gap=extend_gap):
            pixels = line.pixels[index, x[None, :]]
            if not pixels.any() or (pixels & taken).sum() > TILTED_TAKEN * pixels.sum():
                continue
            position = float(np.nonzero(pixels)[0].mean())
            tilted = Line(True, position, line.start, line.stop, line.thickness, pixels)
            if _printed(thin_course(mask, tilted)):
                taken |= pixels
                lines.append(tilted)
    return lines


def _printed(line: Line) -> bool:
    """Whether a horizontal line's own pixels (:func:`thin_course`) run as a printed line does: along
    most of its length (:data:`TILTED_COVERED`) and straight to a fraction of a pixel
    (:data:`TILTED_STRAIGHT`). The tops or bottoms of touching digits lined up at a slant are
    crossed by their strokes along much of the way, and wander."""
    columns = np.nonzero(line.pixels.any(axis=0))[0]
    if columns.size < max(4, TILTED_COVERED * (line.stop - line.start)):
        return False
    rows = np.arange(line.pixels.shape[0], dtype=np.float64)
    weights = line.pixels[:, columns]
    centres = (rows @ weights) / weights.sum(axis=0)
    fit = np.polyval(np.polyfit(columns, centres, 1), columns)
    return float(np.std(centres - fit)) <= TILTED_STRAIGHT


def _extend_line(grid: np.ndarray, pixels: np.ndarray, thickness: float, max_gap: int) -> tuple[int, int]:
    """Trace a line found by :func:`find_lines` beyond its ends, adding to ``pixels`` (in place).

    A faint or dashed line breaks up at the threshold, and only its longest stretches are long runs;
    the rest stays behind as short dashes that join box borders and digits into one piece. From each
    end, the line's fitted course (least squares, so a line tilted by perspective is followed) is
    walked column by column: thin ink on it is line, and the walk stops after ``max_gap`` columns
    with no thin ink on the course (ink thicker than the line there is a stroke crossing it, kept).
    Returns the line's new extent along its axis.
    """
    rows, cols = np.nonzero(pixels)
    if np.ptp(cols) < 2:
        return int(cols.min()), int(cols.max()) + 1
    slope, intercept = np.polyfit(cols, rows, 1)
    reach = max(1, math.ceil(thickness / 2) + 1)  # rows either side of the course that may be line
    thin = math.ceil(thickness) + 2
    height, width = grid.shape
    extent = [int(cols.min()), int(cols.max())]
    for step, begin in ((-1, extent[0] - 1), (1, extent[1] + 1)):
        empty, col = 0, begin
        while 0 <= col < width and empty <= max_gap:
            centre = slope * col + intercept
            lo, hi = max(0, math.floor(centre) - reach), min(height, math.ceil(centre) + reach + 1)
            band = grid[lo:hi, col]
            if lo < hi and 0 < np.count_nonzero(band) <= thin:
                pixels[lo:hi, col] |= band
                extent[0 if step < 0 else 1] = col
                empty = 0
            else:
                empty += 1
            col += step
    return extent[0], extent[1] + 1


def line_width(line: Line) -> float:
    """A line's own width: its width where it is thinnest along a quarter of its length or more
    (:attr:`Line.thickness`, the median, counts the strokes that cross or follow it too)."""
    across = line.pixels.sum(axis=0 if line.horizontal else 1)
    return float(np.percentile(across[across > 0], 25)) if across.any() else 0.0


# In :func:`thin_course`, ink on a line's course is a stroke crossing it when it runs on at least
# this many pixels past the line's reach: a line a pixel thicker in places than its thinnest quarter
# (blur, a grid photographed at an angle) ends within that. At 1 pixel, such a stretch of a row's
# border was kept where a cell's border met it, joined the two into a piece read as writing, and a
# row of cells lost its last digit (tests/data/grid-row-8078.jpg). Tuning seeds 1-4 of
# benchmarks/realistic.py, 1 / 2 pixels: grid rows 1,095 / 1,092, squared paper 1,051 / 1,052 of
# 1,200 read exactly, every other read set the same.
RUN_ON = 2


def thin_course(mask: np.ndarray, line: Line, resting: bool = False) -> Line:
    """``line`` with only its own pixels: the ink on its fitted course that stops within its reach.

    Where writing runs along a line or crosses it, :func:`find_lines` takes the writing's long runs
    for line too (a 4's stem on a column of squared paper, a 5's bar on its row); erased, the
    digit loses them. Here the course is fitted on the stretches where the line is alone, and along
    it only a run of ink that stops within the line's reach on both sides is line: a stroke crossing
    or following it is kept whole, and nothing needs bridging. ``resting``: writing stands on the
    line (an underline drawn touching it): only a stroke running on past it on both sides crosses
    it, and under a stroke that stops on it the line goes too (left, it hung a stub of the line
    under each small digit it touched).
    """
    grid = mask if line.horizontal else mask.T
    pixels = line.pixels if line.horizontal else line.pixels.T
    rows, cols = np.nonzero(pixels)
    if cols.size == 0:
        return line
    width = line_width(line)
    alone = pixels.sum(axis=0)[cols] <= math.ceil(width) + 1
    if np.count_nonzero(alone) < 2 or np.ptp(cols[alone]) < 2:
        return line
    slope, intercept = np.polyfit(cols[alone], rows[alone], 1)
    reach = max(1, math.ceil(width / 2) + 1)
    height = grid.shape[0]
    out = np.zeros_like(grid)
    for col in range(line.start, line.stop):
        centre = slope * col + intercept
        lo, hi = max(0, math.floor(centre) - reach), min(height, math.ceil(centre) + reach + 1)
        if lo >= hi or not grid[lo:hi, col].any():
            continue
        before = grid[max(0, lo - RUN_ON) : lo, col].sum() == RUN_ON
        after = grid[hi : hi + RUN_ON, col].sum() == RUN_ON
        if (before and after) if resting else (before or after):
            continue  # the ink runs on past the line's reach: a stroke
        out[lo:hi, col] = grid[lo:hi, col]
    return Line(line.horizontal, line.position, line.start, line.stop, width, out if line.horizontal else out.T)


def erase_lines(mask: np.ndarray, lines: list[Line]) -> np.ndarray:
    """Remove line pixels, then re-join strokes that crossed a line (ink on both sides of it)."""
    if not lines:
        return mask
    out = mask.copy()
    for line in lines:
        out &= ~line.pixels
        # The erased band is as tall as the line's most pixels in one column (where a stroke
        # crosses it, the line's pixels take in the stroke's too): bridge at least that.
        covered = int(line.pixels.sum(axis=0 if line.horizontal else 1).max())
        span = max(int(np.ceil(line.thickness)) * 2, covered) + 3
        structure = np.ones((span, 1) if line.horizontal else (1, span), dtype=bool)
        bridged = ndi.binary_closing(out, structure=structure) & line.pixels
        # A bridge is kept only where the stroke really continues on both sides; the closing ensures it.
        out |= bridged
    return out


def _remove_boxes(mask: np.ndarray, cells: bool = False) -> np.ndarray:
    """Erase the sides of closed boxes drawn around the writing, wherever they lie in the picture.

    A piece is a box when ink runs along all four sides of its bounding box (within a band of
    :data:`BOX_BAND` of its size), each for at least :data:`BOX_COVER` of the side: no digit is that
    square (the arcs of a 0 touch its box only in the middle of each side). The bands are erased;
    a digit touching the box loses only the tip of the stroke that touched it. With ``cells`` (a
    line of digits), a box parted into cells (a comb field of two or three, too short for its lines
    to be found as lines) loses its dividers too: see :func:`_box_dividers`.
    """
    labels, count = ndi.label(mask, structure=np.ones((3, 3)))
    if count == 0:
        return mask
    out = mask.copy()
    short = min(mask.shape)
    for index, sl in enumerate(ndi.find_objects(labels), start=1):
        h, w = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        if min(h, w) < 0.3 * short:
            continue
        piece = labels[sl] == index
        band = max(2, round(BOX_BAND * min(h, w)))
        sides = (
            piece[:band].any(axis=0),
            piece[-band:].any(axis=0),
            piece[:, :band].any(axis=1),
            piece[:, -band:].any(axis=1),
        )
        if min(float(side.mean()) for side in sides) < BOX_COVER:
            continue
        frame = np.zeros_like(piece)
        frame[:band] = frame[-band:] = True
        frame[:, :band] = frame[:, -band:] = True
        if cells:
            for run in _box_dividers(piece, band):
                frame[:, run] = True
        out[sl] &= ~(piece & frame)
    return out


def _box_dividers(box: np.ndarray, band: int) -> list[slice]:
    """The columns of the dividers parting a closed box (``box``: its piece, cut to its bounding
    box; ``band``: how far in its sides reach) into cells: runs of columns inked over at least
    :data:`BOX_COVER` of the rows between the top and bottom sides, no wider than the box's sides
    are thick (twice, and a pixel: a pen's 1 is wider than a printed line), and parting the box into
    cells of about equal width, each at least :data:`MIN_CELL_ASPECT` of the box's height wide (a
    1 written from the top of a box to its bottom, alone in it, parts it into two cells half as
    wide as it is tall, or unequal ones)."""
    h, w = box.shape
    inside = box[band : h - band, band : w - band]
    if inside.size == 0:
        return []
    covered = np.flatnonzero(inside.mean(axis=0) >= BOX_COVER) + band
    if covered.size == 0:
        return []
    side = _side_width(box[band : h - band, : 2 * band])
    runs = np.split(covered, np.flatnonzero(np.diff(covered) > 1) + 1)
    if any(run.size > 2 * side + 1 for run in runs):
        return []
    edges = [0.0, *((run[0] + run[-1]) / 2 for run in runs), float(w - 1)]
    widths = np.diff(edges)
    if widths.min() < MIN_CELL_ASPECT * h or widths.max() > CELL_WIDTH_RATIO * widths.min():
        return []
    return [slice(int(run[0]), int(run[-1]) + 1) for run in runs]


def _side_width(strip: np.ndarray) -> float:
    """How thick the box's left side is: the median, over the rows of ``strip`` (the rows between
    the top and bottom sides, the columns of the left side's band and as many again), of the first
    run of ink's length."""
    widths = []
    for row in strip:
        inked = np.flatnonzero(row)
        if inked.size:
            gaps = np.flatnonzero(np.diff(inked) > 1)
            widths.append((inked[gaps[0]] if gaps.size else inked[-1]) - inked[0] + 1)
    return float(np.median(widths)) if widths else 1.0


def _line_policy(mask: np.ndarray, lines_of_writing: bool = False) -> np.ndarray:
    """Remove the lines around and across one digit: box borders, ruled lines, underlines.

    A long horizontal run is not part of a digit when it is much longer than the rest of the ink is
    tall (digits are taller than wide), or when it is one of several parallel lines or part of a box.
    A vertical run near the frame is a border only when it is part of a box or of a cell's two
    sides, or stands apart from the rest of the ink; a lone tall stroke is a 1.

    A digit cropped tightly (its box is the frame: USPS-style scans, cells cut to the ink) has
    strokes along the frame too: the base of a 2, the sides of a 0. A run joined in one piece with
    most of the writing counts as a border or rule only when it runs (nearly) across the picture
    (:data:`LINE_SPAN`). With the frame rule of :func:`extract_ink`'s polarity, 500 MNIST test digits
    cut tightly (``benchmarks/realistic.py``'s ``tight_crops``, seeds 0 and 1) are read 98.8% and
    98.6%, not 94.2% and 95.0%.

    ``lines_of_writing``: the picture may hold several digits, in lines one above another (a column
    of numbers photographed about square, read by :mod:`digitocr.segment`); a line found across two
    pieces of writing or more is none (see :func:`_across_writing`).
    """
    mask = _remove_boxes(mask)
    height, width = mask.shape
    hlines = find_lines(mask, True, max(3, int(0.5 * width)), max(1.5, 0.12 * height), gap=int(0.04 * width))
    vertical = find_lines(mask, False, max(3, int(0.5 * height)), max(1.5, 0.12 * width), gap=int(0.04 * height))
    if not hlines and not vertical:
        return mask
    labels, _ = ndi.label(mask, structure=np.ones((3, 3)))
    if lines_of_writing:
        areas = np.bincount(labels.ravel())
        hlines = [line for line in hlines if not _across_writing(labels, areas, line)]
        vertical = [line for line in vertical if not _across_writing(labels, areas, line)]
    near_frame = [line.position < 0.2 * width or line.position > 0.8 * width for line in vertical]
    vlines = [line for line, near in zip(vertical, near_frame, strict=True) if near]
    # A cell cut off-centre from a grid has a border further in: a line running the picture's height.
    inner = [
        line
        for line, near in zip(vertical, near_frame, strict=True)
        if not near and line.stop - line.start >= LINE_SPAN * height
    ]
    if not hlines and not vlines and not inner:
        return mask
    writing = mask.copy()
    for line in hlines + vlines + inner:
        writing &= ~line.pixels
    writing_labels = labels[writing]

    def joined(line: Line) -> bool:
        """In one piece with most of the ink that is no line (a stroke of the digit, or a line it touches)."""
        own = np.unique(labels[line.pixels])
        beside = int(np.isin(writing_labels, own[own > 0]).sum())  # what is left of a box corner is no digit
        return beside >= 0.5 * writing_labels.size and beside >= 0.5 * int(line.pixels.sum())

    def border(line: Line, is_joined: bool) -> bool:
        """May be a border or a rule: apart from the writing, or running (nearly) across the picture."""
        extent = width if line.horizontal else height
        return not is_joined or line.stop - line.start >= LINE_SPAN * extent

    h_joined = [joined(line) for line in hlines]
    h_border = [border(line, is_joined) for line, is_joined in zip(hlines, h_joined, strict=True)]
    v_border = [border(line, joined(line)) for line in vlines]
    boxed = any(h_border) and any(v_border)
    # Several lines: parallel rules, or the top and bottom of a box (pieces of one line do not count).
    positions = sorted(line.position for line in hlines)
    parallel = len(positions) >= 2 and positions[-1] - positions[0] >= 0.3 * height
    remove: list[Line] = []
    columns, (top, bottom) = _writing_extent(erase_lines(mask, hlines))
    for line, is_border, is_joined in zip(hlines, h_border, h_joined, strict=True):
        rest = erase_lines(mask, [line])
        rows = np.nonzero(rest.any(axis=1))[0]
        rest_height = rows[-1] - rows[0] + 1 if rows.size else 0
        if is_joined and rows.size:
            # Joined to the writing, a line takes the strokes running into it with it (a heavy 2's
            # base, the foot of its bow): the writing is as tall as it and the line, less the line.
            line_rows = np.nonzero(line.pixels.any(axis=1))[0]
            whole = max(rows[-1], line_rows[-1]) - min(rows[0], line_rows[0]) + 1
            rest_height = max(rest_height, whole - line.thickness)
        # A rule runs past the writing. The top and bottom bars of a 2, 5 or 7 are parallel too, but
        # each starts at the digit's stem: a line joined to the writing must pass it on both sides,
        # or, through the writing (a bar is at its top or bottom), by far on one (a thick digit may
        # hide a rule's start).
        over = [(columns[0] - line.start) / width, (line.stop - 1 - columns[-1]) / width] if columns.size else [1, 1]
        through = top + RULE_INSIDE * (bottom - top) < line.position < bottom - RULE_INSIDE * (bottom - top)
        runs_through = through and max(over) >= RULE_OVERHANG
        past = min(over) > 0.05 or (max(over) > 0.05 and not is_joined) or runs_through
        is_border = is_border or (parallel and runs_through)
        # A cell's border along the top or bottom of the picture, across it, with the digit hanging
        # from its middle (the cell's other sides faint or cut off): no digit's bar spans the picture
        # and runs a fifth of it past the rest of the digit on both sides.
        edge = min(line.position, height - 1 - line.position) < EDGE_BORDER * height
        lone_border = is_joined and line.stop - line.start >= LINE_SPAN * width and edge and min(over) >= EDGE_OVERHANG
        if (
            (is_border and (boxed or (parallel and past)))
            or lone_border
            or (line.stop - line.start) >= 1.5 * rest_height
        ):
            remove.append(line)
    for line, is_border in zip(vlines, v_border, strict=True):
        rest = erase_lines(mask, [line])
        cols = np.nonzero(rest.any(axis=0))[0]
        left_side = line.position < width / 2
        # All the other ink on the inner side: a border standing apart (or the left side of a 6 or a
        # 0 filling the picture, with the rest of the digit inside it too: border() tells them apart).
        inside = cols.size > 0 and (
            cols.min() > line.position + line.thickness if left_side else cols.max() < line.position - line.thickness
        )
        both_sides = any((other.position < width / 2) != left_side for other in vlines if other is not line)
        if is_border and (boxed or both_sides or inside):
            remove.append(line)
    # An inner line is a border when it stands apart from writing at least as big as it is (a lone
    # tall 1 beside a few crumbs is the writing itself) and is clearly taller than the writing's
    # biggest piece (a 1 or a 4's stem beside another digit in a number cut tightly is as tall).
    pieces, count = ndi.label(writing, structure=np.ones((3, 3))) if inner else (None, 0)
    if count:
        areas = np.bincount(pieces.ravel(), minlength=count + 1)
        rows = np.nonzero((pieces == int(np.argmax(areas[1:])) + 1).any(axis=1))[0]
        tall = INNER_BORDER * (rows[-1] - rows[0] + 1)
        inner = [
            line
            for line in inner
            if not joined(line) and line.stop - line.start >= tall and areas[1:].sum() >= line.pixels.sum()
        ]
    else:
        inner = []
    cleaned = erase_lines(mask, remove + inner)
    # A cell's borders bound its digit: what lies beyond one shows the neighbouring cells.
    return _drop_beyond(cleaned, (remove if boxed else []) + inner)


def _across_writing(labels: np.ndarray, areas: np.ndarray, line: Line) -> bool:
    """A line found across pieces of writing, not a rule or a border: two pieces or more (of the
    picture's connected pieces, ``labels``, of ``areas`` pixels each) with most of their ink off it. A column of numbers
    photographed about square, its digits stacked and bridged across small gaps by
    :func:`find_lines`, made "lines" of three to five digits each, and a cell's border among them,
    beyond which every line of writing but one was dropped (:func:`_drop_beyond`). A rule or a
    border is one piece, or pieces mostly on it where it breaks, with at most the digit it touches."""
    on = np.bincount(labels[line.pixels], minlength=areas.size)
    off = [k for k in np.nonzero(on)[0] if k > 0 and on[k] < ACROSS_WRITING * areas[k]]
    return len(off) >= 2


def _drop_beyond(mask: np.ndarray, borders: list[Line]) -> np.ndarray:
    """Drop the pieces of ``mask`` lying wholly on the other side of a border line from the digit
    (the biggest piece). Each line's course is fitted to its pixels, so a tilted border counts.

    A neighbour's stroke that reaches the border from beyond, where the digit's own stroke reaches it
    from inside, is joined to the digit by the bridge :func:`erase_lines` lays across the erased line
    (a 7's stem and the top of the digit below it in a grid). So the digit's piece is taken apart at
    the bridges, and a part wholly beyond a line across the picture that runs out of the picture (it
    touches the frame on the far side) is dropped with its bridges: a stroke of the digit
    overflowing its cell stays inside the picture cut round the cell. The biggest part stays.
    """
    if not borders:
        return mask
    on_border = np.zeros_like(mask)
    for line in borders:
        on_border |= line.pixels
    whole, count = ndi.label(mask, structure=np.ones((3, 3)))
    if count == 0:
        return mask
    areas = np.bincount(whole.ravel(), minlength=count + 1)
    areas[0] = 0
    main = int(np.argmax(areas))
    # The digit's piece taken apart at the bridges: its parts beyond a line are judged one by one.
    bridges = mask & on_border & (whole == main)
    parts, part_count = ndi.label((whole == main) & ~bridges, structure=np.ones((3, 3)))
    part_areas = np.bincount(parts.ravel(), minlength=part_count + 1)
    part_areas[0] = 0
    ys, xs = np.nonzero(mask)
    owner, part = whole[ys, xs], parts[ys, xs]
    height, width = mask.shape
    margin = _frame_margin(mask.shape)
    drop = np.zeros(count + 1, dtype=bool)
    drop_part = np.zeros(part_count + 1, dtype=bool)
    for line in borders:
        rows, cols = np.nonzero(line.pixels)
        along, across = (cols, rows) if line.horizontal else (rows, cols)
        if along.size < 2 or np.ptp(along) < 2:
            continue
        slope, intercept = np.polyfit(along, across, 1)
        offset = (ys - (slope * xs + intercept)) if line.horizontal else (xs - (slope * ys + intercept))
        side = np.sign(np.median(offset[owner == main]))
        other = np.sign(offset) != side
        drop |= np.bincount(owner, weights=other, minlength=count + 1) >= areas
        # Only a line across the picture bounds a cell: a digit cut tightly has its own strokes
        # along the frame taken for a box (a 4's bar and arm), and its stem runs out of the picture.
        coord, size = (ys, height) if line.horizontal else (xs, width)
        if line.stop - line.start < LINE_SPAN * size:
            continue
        far = coord if side > 0 else size - 1 - coord  # from the frame on the other side of the line
        beyond = np.bincount(part, weights=other, minlength=part_count + 1) >= part_areas
        at_frame = np.bincount(part, weights=far < margin, minlength=part_count + 1) > 0
        drop_part |= beyond & at_frame
    drop[0] = drop[main] = False
    drop_part[0] = False
    if part_count:
        drop_part[int(np.argmax(part_areas))] = False
    kept = mask & ~drop[whole] & ~drop_part[parts]  # parts is 0 outside the digit's piece
    if drop_part.any():  # a bridge to a dropped part goes with it
        pieces, _ = ndi.label(bridges, structure=np.ones((3, 3)))
        near = ndi.binary_dilation(drop_part[parts], structure=np.ones((3, 3))) & bridges
        kept &= ~np.isin(pieces, np.unique(pieces[near]))
    return kept


def _writing_extent(mask: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The columns, and the first and last rows, of the pieces of ``mask`` that matter
    (:data:`PIECE_SHARE` of its ink or more): the crumbs an erased line leaves along its course do
    not widen the writing to the whole rule."""
    labels, keep = _stroke_pieces(mask)
    kept = keep[labels]
    rows = np.nonzero(kept.any(axis=1))[0]
    if rows.size == 0:  # no ink, or only crumbs alike (more than 1 / PIECE_SHARE of them: dots, specks)
        return np.zeros(0, dtype=np.intp), (0, 0)
    return np.nonzero(kept.any(axis=0))[0], (int(rows[0]), int(rows[-1]))


def _frame_margin(shape: tuple[int, ...], share: float = EDGE_MARGIN) -> int:
    """A piece touches a side of a picture of ``shape`` when it comes this close (pixels, ``share``
    of the short side): the edge of a page photographed in perspective runs a pixel or two inside
    the frame."""
    return max(1, round(share * min(shape[:2])))


def _drop_frame_fragments(mask: np.ndarray) -> np.ndarray:
    """Drop thin pieces of neighbouring cells' borders that touch the frame (within
    :data:`EDGE_MARGIN`) and run along it."""
    height, width = mask.shape
    margin = _frame_margin(mask.shape)
    labels, count = ndi.label(mask, structure=np.ones((3, 3)))
    drop = np.zeros(count + 1, dtype=bool)
    for index, sl in enumerate(ndi.find_objects(labels), start=1):
        y0, y1, x0, x1 = sl[0].start, sl[0].stop, sl[1].start, sl[1].stop
        h, w = y1 - y0, x1 - x0
        touches_side = x0 < margin or x1 > width - margin
        touches_top = y0 < margin or y1 > height - margin
        vertical_sliver = touches_side and w <= 0.08 * width and h >= 2.5 * w
        horizontal_sliver = touches_top and h <= 0.08 * height and w >= 2.5 * h
        drop[index] = vertical_sliver or horizontal_sliver
    return mask & ~drop[labels]


def _drop_neighbours(mask: np.ndarray) -> np.ndarray:
    """Drop what shows of the digits in neighbouring cells (see :data:`NEIGHBOUR_GAP`): pieces at a
    side of the frame lying wholly between that side and the digit, well apart from it (a break in
    a digit's own stroke is narrower). The digit is the biggest piece clear of the frame, and only
    one at least a quarter of the picture's height counts (the crumbs along a blank page's edge do
    not): a neighbour's piece may be bigger than a thin digit."""
    labels, count = ndi.label(mask, structure=np.ones((3, 3)))
    if count <= 1:
        return mask
    height, width = mask.shape
    margin = _frame_margin(mask.shape, NEIGHBOUR_MARGIN)
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    boxes = [(sl[0].start, sl[0].stop, sl[1].start, sl[1].stop) for sl in ndi.find_objects(labels)]
    clear = [
        i
        for i, (y0, y1, x0, x1) in enumerate(boxes)
        if y0 >= margin and x0 >= margin and y1 <= height - margin and x1 <= width - margin
    ]
    if not clear:
        return mask
    main = max(clear, key=lambda i: areas[i + 1])
    my0, my1, mx0, mx1 = boxes[main]
    if my1 - my0 < 0.25 * height:
        return mask
    gap = NEIGHBOUR_GAP * (my1 - my0)
    drop = np.zeros(count + 1, dtype=bool)
    for i, (y0, y1, x0, x1) in enumerate(boxes):
        drop[i + 1] = (
            (x0 < margin and x1 + gap <= mx0)
            or (x1 > width - margin and x0 >= mx1 + gap)
            or (y0 < margin and y1 + gap <= my0)
            or (y1 > height - margin and y0 >= my1 + gap)
        )
    return mask & ~drop[labels]


def _select_digit(mask: np.ndarray) -> np.ndarray:
    """Keep the digit: the biggest piece and the pieces that belong with it (a broken 5 or 7), but
    not an underline: a flat bar wholly below it (a 7's lifted bar is above, a 2's base joins it)."""
    labels, count = ndi.label(mask, structure=np.ones((3, 3)))
    if count <= 1:
        return mask
    areas = ndi.sum(mask, labels, index=np.arange(1, count + 1))
    objects = ndi.find_objects(labels)
    main = int(np.argmax(areas))
    my0, my1 = objects[main][0].start, objects[main][0].stop
    mx0, mx1 = objects[main][1].start, objects[main][1].stop
    reach = 0.35 * max(my1 - my0, mx1 - mx0)
    keep = np.zeros(count + 1, dtype=bool)
    for i, sl in enumerate(objects):
        dy = max(0, my0 - sl[0].stop, sl[0].start - my1)
        dx = max(0, mx0 - sl[1].stop, sl[1].start - mx1)
        keep[i + 1] = areas[i] >= 0.15 * areas[main] or (areas[i] >= 0.02 * areas[main] and max(dx, dy) <= reach)
        height, width = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        below = sl[0].start >= my1 - 0.05 * (my1 - my0)
        if i != main and below and height <= 0.2 * (my1 - my0) and width >= 3 * height:
            keep[i + 1] = False
    return keep[labels]


# ---------------------------------------------------------------------------------------------
# Ink of one digit → 28×28
# ---------------------------------------------------------------------------------------------


def stroke_width(image: np.ndarray) -> float:
    """Mean stroke width of a (soft) ink image: 2·area / perimeter of its >0.5 mask, in pixels."""
    mask = image > 0.5
    area = int(mask.sum())
    if area == 0:
        return 0.0
    perimeter = int((mask & ~ndi.binary_erosion(mask)).sum())
    return 2.0 * area / max(perimeter, 1)


def disk(radius: int) -> np.ndarray:
    """A disk-shaped footprint for grey dilation and erosion, (2r+1, 2r+1) bool."""
    y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return (x * x + y * y) <= radius * radius + radius  # a rounder disk than r² for small radii


def ink_to_mnist(ink: np.ndarray, normalize_stroke: bool = True, hairline: bool = False) -> np.ndarray:
    """The ink of one digit (float (h, w) in [0, 1], white on black, nothing else on it) → 28×28.

    Crop to the ink, scale so the long side is :data:`WORK_BOX`, bring the stroke width into
    MNIST's range by grey dilation or erosion with a disk, reduce to fit 20×20 (anti-aliased by
    Pillow's resampling), and paste into 28×28 with the centre of mass at (14, 14), shifted by
    whole pixels as MNIST was. ``hairline``: a digit drawn with a hairline, faded to a trace by the
    reduction, is first brought back to full strength (see :data:`HAIRLINE_SHARE`); for a picture
    of one digit, not for the pieces a number is cut into, where a faint sliver would gain a
    digit's strength.
    """
    ink = np.asarray(ink, dtype=np.float32)
    out = np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float32)
    rows = np.nonzero((ink > 0.05).any(axis=1))[0]
    cols = np.nonzero((ink > 0.05).any(axis=0))[0]
    if rows.size == 0:
        return out
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    height, width = crop.shape
    scale = WORK_BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    work = np.clip(_resize(crop, size), 0.0, 1.0)
    if normalize_stroke:
        pad = WORK_BOX // 4
        work = np.pad(work, pad)
        low, high = STROKE_RANGE
        current = stroke_width(work)
        traced = work > 0.05
        if hairline and (work > 0.5).sum() < HAIRLINE_SHARE * traced.sum():
            # A hairline (a fine pen drawn large, a 1-px line on a big canvas) is averaged away when
            # the digit is reduced: what is left is a faint trace of the stroke. Bring it back to
            # full strength, so that it can be widened like any thin stroke.
            work = np.clip(work / max(float(np.percentile(work[traced], 95)), 1e-3), 0.0, 1.0)
            current = stroke_width(work)
        if 0 < current < low:
            radius = max(1, round((STROKE_TARGETS[0] - current) / 2))
            work = ndi.grey_dilation(work, footprint=disk(radius))
        elif current > high:
            radius = max(1, round((current - STROKE_TARGETS[1]) / 2))
            thinned = ndi.grey_erosion(work, footprint=disk(radius))
            if (thinned > 0.5).sum() >= 0.25 * (work > 0.5).sum():  # never erase the digit
                work = thinned
        rows = np.nonzero((work > 0.05).any(axis=1))[0]
        cols = np.nonzero((work > 0.05).any(axis=0))[0]
        work = work[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        height, width = work.shape
    else:
        height, width = work.shape
    scale = MNIST_BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    box = np.clip(_resize(work, size), 0.0, 1.0)
    total = float(box.sum())
    if total <= 0:
        return out
    cy, cx = ndi.center_of_mass(box)
    top = int(np.clip(round(MNIST_CENTRE - cy), 0, MNIST_SIZE - size[1]))
    left = int(np.clip(round(MNIST_CENTRE - cx), 0, MNIST_SIZE - size[0]))
    out[top : top + size[1], left : left + size[0]] = box
    return out


# ---------------------------------------------------------------------------------------------
# One digit, end to end
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preprocessed:
    """What the model sees for one image, and what was found on the way.

    ``image``: float32 (28, 28) in [0, 1], ink white on black (all zeros when blank).
    ``box``: (x0, y0, x1, y1) of the ink kept as the digit, in the original image's pixels
    (x1, y1 exclusive), or ``None`` when blank. ``dark_on_light``: the detected polarity.
    ``ink_fraction``: share of the 28×28 image that is ink (>0.5), a shape-sanity signal.
    ``pieces``: how many connected pieces the kept ink has (each at least :data:`PIECE_SHARE` of it).
    ``polarity_sure``: whether the picture settled its polarity (see :class:`InkMap`).
    """

    image: np.ndarray
    box: tuple[int, int, int, int] | None
    blank: bool
    dark_on_light: bool
    ink_fraction: float
    pieces: int
    polarity_sure: bool = True


def _drop_frame_edges(mask: np.ndarray, depth_unit: float | None = None) -> np.ndarray:
    """Drop pieces lying along the frame: the edge of a shadow, of the page or of a neighbouring
    cell, photographed at the border, straight along one side or bent round a corner.

    A piece is such an edge when it covers at least :data:`EDGE_RUN` of a side of the frame and every
    pixel of it lies within :data:`EDGE_DEPTH` of the sides it touches (within :data:`EDGE_MARGIN`)
    without touching the opposite one: a digit cropped tightly touches opposite sides (its box is the
    frame), a digit with a margin touches none, and a cell box with a digit in it reaches across.
    Depth is a share of the picture's side, or of ``depth_unit`` pixels when given: on a long line of
    digits, where a quarter of the width would hold whole digits, an edge can run the full height
    and bend along the bottom, so every side a piece touches counts (the caller gives back 1s cropped
    tightly at the ends).
    """
    height, width = mask.shape
    labels, count = ndi.label(mask, structure=np.ones((3, 3)))
    if count == 0:
        return mask
    drop = np.zeros(count + 1, dtype=bool)
    margin = _frame_margin(mask.shape)
    units = (height, height, width, width) if depth_unit is None else (depth_unit,) * 4
    for index, sl in enumerate(ndi.find_objects(labels), start=1):
        near = (sl[0].start < margin, sl[0].stop > height - margin, sl[1].start < margin, sl[1].stop > width - margin)
        if not any(near):
            continue
        ys, xs = np.nonzero(labels[sl] == index)
        ys, xs = ys + sl[0].start, xs + sl[1].start
        # how far each pixel lies from each side (top, bottom, left, right), counting the pixel itself
        reach = (ys + 1, height - ys, xs + 1, width - xs)
        along = [
            np.unique((xs, xs, ys, ys)[k][reach[k] <= margin]).size / (width, width, height, height)[k]
            for k in range(4)
        ]
        touches = [a > 0 for a in along]
        open_sides = [k for k in range(4) if touches[k] and (depth_unit is not None or not touches[k ^ 1])]
        if not any(along[k] >= EDGE_RUN for k in open_sides):
            continue
        depth = np.min([reach[k] / units[k] for k in open_sides], axis=0)
        drop[index] = depth.max() <= EDGE_DEPTH
    return mask & ~drop[labels]


def box_intersection(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> int:
    """The area two boxes (x0, y0, x1, y1; x1, y1 exclusive) share (0 when they do not meet)."""
    return max(min(a[2], b[2]) - max(a[0], b[0]), 0) * max(min(a[3], b[3]) - max(a[1], b[1]), 0)


def box_area(box: tuple[int, int, int, int]) -> int:
    """The area of a box (x0, y0, x1, y1; x1, y1 exclusive)."""
    return (box[2] - box[0]) * (box[3] - box[1])


def only_at_the_frame(mask: np.ndarray) -> bool:
    """Whether every pixel of ``mask`` lies within :data:`FRAME_BAND` of a side of the frame."""
    height, width = mask.shape
    ys, xs = np.nonzero(mask)
    depth = np.minimum(np.minimum(ys, height - 1 - ys) / height, np.minimum(xs, width - 1 - xs) / width)
    return bool(depth.size) and float(depth.max()) <= FRAME_BAND


def clean_mask(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lines and frame fragments removed, specks dropped: the ink that may be writing, and the
    pixels of lines and box borders that were erased."""
    mask = _drop_frame_edges(mask)  # first: a page edge is no box side that makes a digit's bar a line
    lined = _line_policy(mask)
    erased = mask & ~lined
    mask = _drop_frame_fragments(lined)
    return _drop_specks(mask, speck_size(mask.shape)), erased


def _digit_mask(ink: InkMap) -> tuple[np.ndarray, np.ndarray]:
    """The digit's pixels in ``ink``'s thresholded mask, and the pixels of lines that were erased."""
    cleaned, erased = clean_mask(ink.mask)
    return _select_digit(_drop_neighbours(_without_faint_lines(ink, cleaned))), erased


def _without_faint_lines(ink: InkMap, mask: np.ndarray) -> np.ndarray:
    """``mask`` (what the line rules left of ``ink.mask``) without the dashes of lines found only in a
    fainter mask (the ink down to half the threshold).

    A grid line fainter than the writing straddles the threshold: it breaks into dashes, too short to
    be found as a line, that stay beside the digit (crosses at a grid's corners, a comb of dashes
    along a cell's side). Down at half the threshold the line is whole, and :func:`_line_policy`
    finds it. Only pieces lying wholly on what it erases there go: a stroke joined to the rest of the
    digit stays (at half the threshold a 2's base runs on into the rule beneath it, and a thick digit
    cut tightly is all lines along the frame). Coming after the line rules, it cannot change what
    they decide (an empty cell's border seen whole is a box; without its dashes it was no longer)."""
    labels, count = ndi.label(mask, structure=np.ones((3, 3)))
    if count <= 1:  # a piece alone is left to the line rules, which have judged it already
        return mask
    faint = _drop_specks(ink.ink > 0, speck_size(mask.shape)) | ink.mask
    erased = faint & ~_line_policy(_drop_frame_edges(faint))
    if not erased.any():
        return mask
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    on_lines = np.bincount(labels[erased], minlength=count + 1)
    drop = on_lines >= FAINT_LINE_SHARE * areas
    drop[0] = False
    return mask & ~drop[labels]


def soft_ink(ink: InkMap, keep: np.ndarray) -> np.ndarray:
    """The anti-aliased ink restricted to the kept mask (plus a one-pixel rim for the soft edges)."""
    rim = ndi.binary_dilation(keep, structure=np.ones((3, 3), dtype=bool))
    return np.where(rim, ink.ink, 0.0).astype(np.float32)


def best_turn(score: Callable[[float], float], limit: float, step: float = 0.5) -> float:
    """The turn in degrees, within ±``limit``, that ``score`` finds best: every ``step`` degrees,
    then every tenth of a degree within a step of the best."""
    coarse = np.arange(-limit, limit + step / 2, step)
    best = float(coarse[np.argmax([score(d) for d in coarse])])
    fine = best + np.arange(-step, step + 0.05, 0.1)
    return float(fine[np.argmax([score(d) for d in fine])])


def box_turn(mask: np.ndarray) -> float | None:
    """How far a box round the writing (a cell's borders, photographed askew) is turned from level
    (radians, clockwise), or ``None`` when there is no such box or it stands level.

    For each turn up to :data:`MAX_BOX_TURN` degrees (every half degree, then every tenth round the
    best), the ink is projected across and along that direction, one pixel a bin: a straight line
    piles up in one or two bins. A box is there when, turned, the fullest bin across holds
    :data:`BOX_LINE_SHARE` of the picture's width and the fullest bin along it that share of its
    height (a line each way: a digit's strokes are curved or short), or when two bins apart hold
    :data:`BOX_PAIR_SHARE` each way (the four sides of a cell cut off-centre, whose lines run out
    of the frame: no digit has two long parallel strokes each way); it is turned when that is at
    least :data:`MIN_BOX_TURN` degrees and level its lines pile up less than :data:`BOX_LEVEL_SHARE`
    as high.
    """
    height, width = mask.shape
    ys, xs = np.nonzero(mask)
    # A box's lines span most of the picture both ways, turned or not (a quick way out for a digit).
    if ys.size == 0 or np.ptp(xs) < BOX_LINE_SHARE * width or np.ptp(ys) < BOX_LINE_SHARE * height:
        return None
    step = max(1, ys.size // BOX_TURN_SAMPLE)
    ys, xs = ys[::step].astype(np.float64), xs[::step].astype(np.float64)

    def piles(degrees: float) -> tuple[np.ndarray, np.ndarray]:
        """The ink piled up in one-pixel bins across and along ``degrees``, as shares of the
        picture's width and height (what a line each way holds of the side it runs along)."""
        angle = math.radians(degrees)
        c, s = math.cos(angle), math.sin(angle)
        across = np.round(ys * c - xs * s).astype(np.int64)
        along = np.round(xs * c + ys * s).astype(np.int64)
        return np.bincount(across - across.min()) * step / width, np.bincount(along - along.min()) * step / height

    def lines(degrees: float) -> float:
        rows, columns = piles(degrees)
        return float(min(rows.max(), columns.max()))

    def other_side(pile: np.ndarray, side: int) -> float:
        """The fullest bin :data:`BOX_PAIR_APART` of the side or more from the fullest one."""
        far = np.abs(np.arange(pile.size) - int(np.argmax(pile))) >= BOX_PAIR_APART * side
        return float(pile[far].max()) if far.any() else 0.0

    best = best_turn(lines, MAX_BOX_TURN)
    rows, columns = piles(best)
    found = float(min(rows.max(), columns.max()))
    pairs = min(other_side(rows, height), other_side(columns, width))
    if (
        (found < BOX_LINE_SHARE and pairs < BOX_PAIR_SHARE)
        or abs(best) < MIN_BOX_TURN
        or lines(0.0) >= BOX_LEVEL_SHARE * found
    ):
        return None
    return math.radians(best)


def preprocess(source: Any, dark_on_light: bool | None = None) -> Preprocessed:
    """Any image of one digit → :class:`Preprocessed` (the 28×28 MNIST-style image and more).

    ``source``: anything :func:`open_image` reads, or a :class:`LoadedImage`. ``dark_on_light``
    forces the polarity (by default the picture decides: :func:`polarity`).
    """
    loaded = on_the_page(source if isinstance(source, LoadedImage) else open_image(source), dark_on_light)
    return _preprocess(loaded, dark_on_light)


def _preprocess(
    loaded: LoadedImage, dark_on_light: bool | None, zoom: bool = True, refocus: bool = True
) -> Preprocessed:
    faint = FAINT_INK_SHARE_OF_PEAK if loaded.enlarged or loaded.scale > 1 else None
    floor = FAINT_INK_SHARE_OF_PEAK if loaded.glare else INK_SHARE_OF_PEAK
    ink = extract_ink(loaded.grey, floor, dark_on_light=dark_on_light, faint_share=faint)
    if faint is None and not loaded.glare and not ink.blank and ink.dark_on_light:
        ink = _faded_under_glare(loaded, ink)
    blank = Preprocessed(
        np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32), None, True, ink.dark_on_light, 0.0, 0, ink.polarity_sure
    )
    if ink.blank:
        return blank
    turn = box_turn(ink.mask)
    if turn is not None:  # a cell photographed askew: the whole picture turned level, then read
        loaded, sure = level(loaded, turn, ink.mask, np.ones_like(ink.mask), within=True), ink.polarity_sure
        ink = extract_ink(loaded.grey, floor, dark_on_light=ink.dark_on_light, faint_share=faint)
        ink = replace(ink, polarity_sure=sure)
        if ink.blank:
            return blank
    mask, erased = _digit_mask(ink)
    lines = None
    if erased.any() and (mask.sum() < LINES_DOMINATE * erased.sum() or _pieces(mask) > MAX_PIECES):
        # Box borders or rules were the darkest ink, and the threshold set by them (Otsu's, parting
        # the lines from the rest, and a share of the darkest writing's contrast) left crumbs of a
        # fainter digit (grainy pencil breaks up), or nothing: look again, with a lower floor and
        # the lines left out of the threshold's statistics.
        # Only a digit found this way must pass the edge test for writing between lines (as in
        # segment._ink_and_writing); the one found first is judged as any other.
        around = ndi.binary_dilation(erased, iterations=2)
        fainter = extract_ink(
            loaded.grey, FAINT_INK_SHARE_OF_PEAK, dark_on_light=ink.dark_on_light, faint_share=faint, ignore=around
        )
        if not fainter.blank:
            again, _ = _digit_mask(fainter)
            if again.sum() > mask.sum():
                ink, mask, lines = replace(fainter, polarity_sure=ink.polarity_sure), again, around
    # Fragments of an empty cell's border, photographed in perspective, or the edge of a shadow may
    # survive the line rules; a digit reaches into the picture, and stands out from the paper.
    if not mask.any() or only_at_the_frame(mask) or not stands_out(ink, mask, lines):
        return blank
    if refocus and (sharper := refocused(loaded, ink, mask)) is not None:
        # Taken out of focus: everything found again on the picture sharpened.
        return replace(_preprocess(sharper, ink.dark_on_light, zoom, refocus=False), polarity_sure=ink.polarity_sure)
    rows = np.nonzero(mask.any(axis=1))[0]
    cols = np.nonzero(mask.any(axis=0))[0]
    height, width = mask.shape
    tall, wide = rows[-1] + 1 - rows[0], cols[-1] + 1 - cols[0]
    if zoom and tall < ZOOM_SHARE * height and wide < ZOOM_SHARE * width:
        # A digit small in the picture (a form cell in a photo nobody cropped): the rules for box
        # borders and frames work on a picture of the cell, so look again at the part round it.
        reach = round(ZOOM_MARGIN * max(tall, wide))
        y0, y1 = max(0, rows[0] - reach), min(height, rows[-1] + 1 + reach)
        x0, x1 = max(0, cols[0] - reach), min(width, cols[-1] + 1 + reach)
        part = replace(
            loaded,
            grey=loaded.grey[y0:y1, x0:x1].copy(),
            placement=_compose(loaded.placement, (1.0, 0.0, float(x0), 0.0, 1.0, float(y0))),
        )
        return replace(_preprocess(part, ink.dark_on_light, zoom=False, refocus=False), polarity_sure=ink.polarity_sure)
    image = ink_to_mnist(soft_ink(ink, mask), hairline=True)
    box = loaded.box(cols[0], rows[0], cols[-1] + 1, rows[-1] + 1)
    pieces = _pieces(mask)
    return Preprocessed(image, box, False, ink.dark_on_light, float((image > 0.5).mean()), pieces, ink.polarity_sure)


def _pieces(mask: np.ndarray) -> int:
    """How many strokes ``mask`` holds (see :func:`_stroke_pieces`)."""
    return int(_stroke_pieces(mask)[1].sum())


def _stroke_pieces(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The connected pieces of ``mask`` (labels) and, for each label, whether the piece counts as a
    stroke: it holds at least :data:`PIECE_SHARE` of the ink (crumbs of texture or shadow kept beside
    a digit, or left along an erased line, are not strokes; label 0, the background, never is)."""
    labels, count = ndi.label(mask, structure=np.ones((3, 3)))
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    keep = areas >= PIECE_SHARE * areas[1:].sum()
    keep[0] = False
    return labels, keep


def to_mnist(source: Any) -> np.ndarray:
    """Any image of one digit → float32 (28, 28) in [0, 1], ink white on black, MNIST-style."""
    return preprocess(source).image
