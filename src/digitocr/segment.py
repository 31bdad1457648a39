"""A picture of a number written on one line → one crop per digit, left to right (and a picture of
several lines one above another → each line's crops, line by line).

Owns: finding the digits of a number. The ink comes from :func:`digitocr.preprocess.extract_ink`;
writing turned from level is measured (a projection profile's sharpness, the classic skew
estimate) and the picture turned level first; ruled lines, underlines and cell borders are
removed; connected components are the starting point;
pieces of one digit (a broken 5, a 7 whose bar lifted off) are merged, by shape and then — with a
classifier — when the whole reads better than its parts (a 4 written in two strokes); specks,
separators (``. , ' - = / :``) and a label printed before the number are dropped; groups too wide for
one digit (measured in the digits' height, fitted along the line when it was photographed from one
side) are cut into several, choosing the cut points by the vertical ink projection, or — when a
``score`` function is passed — by how much a classifier believes each piece is a digit (the
segmentation-by-recognition of Casey & Lecolinet, "A survey of methods and strategies in character
segmentation", 1996). Lines of writing one above another are told apart by the bands their
digit-sized pieces fill (see :data:`LINE_GAP`) and read one at a time. Does not classify itself:
pieces shaped like brackets are measured (``DigitCrop.bow``) for the caller's classifier to confirm
(a bracket reads as a 1); one touching the first or the last digit is cut off it first.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from digitocr.preprocess import (
    LINES_DOMINATE,
    InkMap,
    Line,
    LoadedImage,
    _drop_frame_edges,
    _drop_frame_fragments,
    _drop_specks,
    _frame_margin,
    _line_policy,
    _remove_boxes,
    best_turn,
    erase_lines,
    extract_ink,
    find_lines,
    find_tilted_lines,
    ink_to_mnist,
    level,
    line_width,
    long_runs,
    on_the_page,
    open_image,
    refocused,
    speck_size,
    stands_out,
    stroke_width,
    thin_course,
)

# The classifier's belief in each of a list of 28×28 MNIST-style images as one digit: its confidence
# (e.g. the top calibrated probability), or an (n, 2) array of the confidence and the two likeliest
# digits' probabilities together (how `read` judges a piece at an end of a line: see UNSURE_END).
Score = Callable[[list[np.ndarray]], Sequence[float] | np.ndarray]

# Writing turned from level (a number written on a rising line, a photo taken turned): the turns
# searched (degrees, each way, in steps of TURN_STEP, on at most TURN_SAMPLE ink pixels), the least
# turn that is undone, how long the writing must be (times the height of the band holding 90% of its
# ink, and times the digit height), how much sharper its projection profile must be turned than
# level, and how much narrower its band, for the turn to be trusted (see _turn_of_writing). Tuning
# seeds: turned numbers 432 -> 482 and 454 -> 496 of 600, every other set unchanged; looser terms
# (sharper 1.1, no narrowing, no digit heights) read 490 and 503 but turned '=5', '=67', a heavy
# '2995' and a grid row's '716' by 7-15 degrees and misread them.
MAX_TURN = 20.0
TURN_STEP = 0.5
TURN_SAMPLE = 4000
MIN_TURN = 2.0
TURN_MIN_LENGTH = 3.0
TURN_MIN_DIGITS = 2.75
TURN_MIN_GAIN = 1.15
TURN_MIN_NARROWING = 1.05

# A group wider than this many digit heights is certainly more than one digit (MNIST widths are at
# most 1.25 heights for 99% of digits); narrower groups are only split when a classifier says so.
MAX_DIGIT_ASPECT = 1.1
# With a classifier, groups at least this wide (in digit heights) are tried for a split.
MIN_SPLIT_ASPECT = 0.7
# Narrowest piece a cut may leave, in digit heights (a 1 is about 0.2 of its height wide).
MIN_PIECE_ASPECT = 0.18
# Each extra cut costs this much log-probability, so a digit is not cut into two plausible halves
# (0.7 before the marker-pen model: 1.0 read 3-7 more numbers of 800 on the tuning seeds, each of four models).
CUT_PENALTY = 1.0
# ... and each stroke it crosses after the first this much more.
CROSSING_PENALTY = 0.7
# A group the classifier believes less than this as one digit is probably more than one (touching
# digits that no single digit resembles): its cuts cost UNSURE_CUT_SCALE of the usual (tuning seeds:
# numbers exact 686 -> 689 of 800, five touching numbers gained, two lost to a blotted 8 or 2 cut in two).
UNSURE_WHOLE = 0.3
UNSURE_CUT_SCALE = 0.5
# ... and a group at either end of the line whose two likeliest digits together are believed less
# than this (with a Score giving them): `read` leaves out such a piece at an end (see
# predict.READ_END_TOP_TWO), so touching digits read as one unsure digit there were dropped whole
# ('9316' read '93'). Only cuts crossing one stroke are cheaper for it (a 0 cut down the middle
# leaves two confident 1s). Tuning seeds 1-2 of benchmarks/realistic.py, ten read sets, columns,
# and the numbers of the dim-light, glare, faint-pencil, out-of-focus and old-paper sets (9,600
# pictures): +6 / -1 read exactly (lost: an equals sign touching a 2 cut off as a 5). On the
# confidence alone: +9 / -2, a blotted 8 that `read` keeps (its two likeliest pass) cut in two 1s.
UNSURE_END = 0.75
# A mark written touching the first or last digit ("$6", "*8" before an amount): such a piece at
# an end, read as no digit (two likeliest under UNSURE_END, so that `read` leaves it out whole), at
# least MARK_TOUCHING_WIDE digit heights wide (wider than any mark: marks left out at the ends of
# the tuning seeds' lines measure 0.51-0.87, 5th-95th percentiles), is cut into the mark and the
# digit when a cut leaves an outer part at most MARK_TOUCHING_NARROW wide whose two likeliest digits
# hold under MARK_TOUCHING_FLAT (a mark is torn between many readings) and an inner part read at
# MARK_TOUCHING_DIGIT or more. Touching digits read as none too: offered to the cut search as
# marks, such parts lost 275 pictures (narrower than 0.9, still '792' read '2'); asked after it,
# only of a piece the search left whole and `read` would lose whole, none. Tuning seeds 1-2, every
# read set: +8 / -0 (cheque amounts +3 and +4); at 0.9 wide, 0.35 and 0.9, a last 8 of an
# underlined number was lost for nothing more. See benchmarks/README.md, the fifty-second pass.
MARK_TOUCHING_WIDE = 1.0
MARK_TOUCHING_NARROW = 0.9
MARK_TOUCHING_FLAT = 0.3
MARK_TOUCHING_DIGIT = 0.95
# The cut points tried in one group: this many, or CUTS_PER_HEIGHT per digit height of its width
# (a run of ten touching digits needs nine cuts and a few to choose from).
MAX_CUT_CANDIDATES = 10
CUTS_PER_HEIGHT = 2.5
# Neighbouring pieces at most this far apart (in digit heights; negative: overlapping) are tried as
# one digit, and become one when the classifier believes the whole more than both parts together by
# this much log-probability (two confident digits therefore never merge).
MERGE_GAP = 0.1
MERGE_PENALTY = 0.1
# Digits on one line are about equally tall: a piece shorter than this share of the digit height is
# probably part of a digit (the bar of a 4 written apart, a stroke parted by an erased line).
MIN_DIGIT_HEIGHT = 0.8
# ... and only into a piece the classifier is this sure of (an unsure whole is no better reading).
MERGE_MIN_CONFIDENCE = 0.8
# ... and no wider than this many digit heights (99% of MNIST digits are at most 1.25 heights wide).
MAX_MERGED_ASPECT = 1.3
# A piece at an end of the number sharing less than this share of its (or its neighbour's) rows
# with its neighbour is off the line.
OFF_LINE_SHARE = 0.3
# A crumb of an erased printed line is at most this many digit heights thick (the line under the
# "/-" closing a cheque amount in its printed box: 0.02-0.05; a thin pen's 5 broken into its three
# bars, 0.12-0.25). Stacked under a dash, it made one piece with it, read as a 5 ('1250/-' read '125015').
LINE_CRUMB = 0.08
# A digit broken into crumbs (_join_crumbs): pieces shorter than CRUMB_SMALL digit heights, each
# within CRUMB_GAP digit heights of the run before it, that together are at least CRUMB_HEIGHT digit
# heights tall (tuning seeds 1-4: numbers +8 of 1,200, cheque amounts +3, nothing lost; at 0.7 a
# small 0 and the comma after it became a 9).
CRUMB_SMALL = 0.6
CRUMB_GAP = 0.15
CRUMB_HEIGHT = 0.75
# Stacked pieces of one digit at most STACK_GAP of the shorter one's height apart may together be
# STACK_HEIGHT digit heights tall: when a digit breaks across the middle and is the whole number
# (or most of it), the digit height is measured on its halves.
STACK_GAP = 0.2
STACK_HEIGHT = 2.3
# Lines of writing one above another (a column of numbers, two fields of a form in one picture) are
# read one at a time: the digit-sized pieces clear of the frame fall into bands, and two bands are
# two lines when LINE_GAP digit heights or more of bare paper lie between them and the lower one's
# first piece is no half of a digit broken across its middle (see _belongs_together). A first (last)
# line touching the top (bottom) of the picture in every piece makes a band too, by its whole digits
# there (as _drop_other_rows keeps them: OTHER_ROW_WHOLE as tall as the writing, not thin, clear of
# the frame's sides, under LINE_FRAME_TALL): before the fifty-third pass it joined the line below,
# whose digits were then dropped as off the line ('54444' over '362' read '444'). Tuning seeds 1-2,
# every read set: +2 / -0 (both columns of seed 1), every other picture read as before.
LINE_GAP = 0.15
# ... and each band's tallest piece is LINE_MIN_HEIGHT of the tallest piece of all or more, or the band
# holds a piece at least OTHER_ROW_WIDE as wide as it is tall (a grid line's crumb is thinner). The digit
# height here is the writing's, measured on the pieces clear of the frame when they are most of the
# pieces: a shadow or a page's edge at the frame, taken for ink, is far taller than any digit. Such a
# piece, LINE_FRAME_TALL digit heights tall or more, belongs to no line. Pieces LINE_BIT_WIDTH times
# as wide as they are tall, or wider, are bits of a ruled line and do not count.
LINE_MIN_HEIGHT = 0.75
LINE_FRAME_TALL = 2.0
LINE_BIT_WIDTH = 4.0
# Lines written closer than LINE_GAP fall into one band: a band LINE_SPLIT_HEIGHT digit heights tall
# or more holds two lines or more, parted where the middles of its pieces, in order, jump by
# LINE_SPLIT_GAP digit heights or more; not between the parts of a broken digit (one shorter than a
# whole digit, or the band's only two pieces, when the digit height was measured on them), and only
# when every line it gives holds a whole digit (see _split_band).
LINE_SPLIT_HEIGHT = 1.7
LINE_SPLIT_GAP = 0.8
# A piece inside another's box, give or take INSIDE_SLACK digit heights, is part of it: a stroke
# broken off a 0's side pokes a pixel or two past the rest of the 0. Not a flat piece (a dash or an
# equals sign's bar before an amount, a crumb of a grid's line) nor a loop (a percent sign's circle
# beside its slash: a broken stroke leaves no loop), which are joined only when wholly inside.
# Tuning seeds 1-2 of benchmarks/realistic.py (300 pictures per set): 7 more read exactly, 1 fewer
# (form fields, turned numbers, squared paper, grid rows, tight numbers, numbers at an angle); with
# flat pieces too, cheque amounts read 5 more, but a grid's crumb joined the remnants of its lines
# and cost a grid row (tests/data/grid-row-8078.jpg).
INSIDE_SLACK = 0.1
# A 5's bar written apart from its stem: a flat piece high in the writing's band (its middle at least
# TOP_BAR_HEIGHT digit heights above the baseline: a dash or an equals sign sits lower) that starts
# within TOP_BAR_GAP digit heights of a tall piece's right side, at that piece's top, is part of it.
TOP_BAR_HEIGHT = 0.7
TOP_BAR_GAP = 0.1
# Slants of the cut lines tried (x shift per pixel down; handwriting leans right, so x grows upwards).
# Slanted cuts (e.g. (0.0, -0.2, 0.2)) are supported but did not raise exact-string accuracy on
# benchmarks/realistic.py (73.0% vs 74.0% with vertical cuts only, n = 200) and cost 40% of `read`'s
# speed, so only vertical cuts are tried by default.
CUT_SLOPES: tuple[float, ...] = (0.0,)
# A vertical line leaning more than this (x change per pixel down, 14°) is a stroke, not a border
# (borders lean a few degrees in perspective, more where a stroke touching them is taken in).
MAX_BORDER_LEAN = 0.25
# A border taller than the digits, or one of a comb's, is printed thin: no thicker than this share of
# its length. A pen's stroke found as a line taller than the digits is thicker: a heavy 1 beside
# small letters ("Total 170"), an opening bracket, a 1 found as one line with the 1 under it in a
# column (the rule for tall borders before it asked this: tuning seeds 1-2 of benchmarks/realistic.py,
# 16 pictures of the ten read sets' 5,700 and 4 columns of 600 read right that were not, one lost).
BORDER_THINNESS = 0.08
# A comb field's borders may come with up to this many strokes found as lines among them, left out
# (see _comb_columns).
COMB_STRAYS = 2
# A lone upright piece is a straight border when its rows' centres (nine in ten of them) lie within
# this share of its height (or a pixel and a half) of a straight line; a bracket bows out further.
BORDER_BEND = 0.04
# A cell border spans the box between the top and bottom lines and stops within this share of the
# box's height (plus its own thickness) of them; a 1 written across a ruled line runs past it.
BOX_SLACK = 0.1
# ... or runs on past both (a grid), or past one to within this share of the picture's height of its edge.
BOX_EDGE = 0.03
# Squared paper: its lines run across this share of a picture of a number, both ways, and are at most
# this share of the picture's height wide (or 2 px).
GRID_SPAN = 0.9
GRID_LINE_WIDTH = 0.03
# A 1 touching the side of a number cut tightly stays within the writing's band, give or take this
# share; the border of a grid row, cut with the rows above and below, runs on past it (on the tuning
# seeds a 1 reached 0.15 of the band past it, a border 0.23 or more).
EDGE_ONE_SLACK = 0.2
# Digits of one number are written with one pen: a piece whose ink is under this share of the
# strongest digit's is a shadow, a page edge or a faint printed border (tuning seeds: 657 -> 661 of
# 800 exact, none lost; at 0.5, 664 but an MNIST digit written lightly beside dark ones was dropped).
# With today's reading code 0.5 drops what is left of a grid's faint borders between cells, which
# were read as 1s: tuning seeds 1-4, grid rows +22 of 1,200, cheque amounts +6, numbers +2, on a
# desk +1, nothing lost (at 0.55, numbers, tight numbers and desk numbers lost a faint digit).
FAINT_SHARE = 0.5
# A line cut from a ledger or a form with a margin shows what is written above and below it, cut by
# the frame: a piece within OTHER_ROW_MARGIN of the picture's height from the top (bottom) that ends
# above (starts below) the line's band is from another line (tuning seeds: numbers unchanged; rows
# of comb cells cut from a grid, seed 1: 64 → 83% exact).
OTHER_ROW_MARGIN = 0.04
# ... unless it is a whole digit of a line written near the frame (the first line of a column of
# numbers, even touching the top): at least OTHER_ROW_WHOLE as tall as the line's writing,
# OTHER_ROW_WIDE as wide as it is tall (a squared paper's grid leaves crumbs as tall as the digits
# near the frame, but thin), and clear of the frame's sides (in a corner, a shadow's or a page's
# edge joined to a digit). A 1 there is as thin as a crumb and is still dropped. Until the fortieth
# pass a whole digit also had to be clear of the top and bottom: columns of tuning seeds 1 / 2 lost
# their first line where it touched the top (196 -> 202 and 209 -> 211 of 300 read exactly).
OTHER_ROW_WHOLE = 0.8
OTHER_ROW_WIDE = 0.3
# An underline drawn by hand under a number, or under the cents written small and raised after an
# amount (125⁵⁰), is too short to be found as a printed line (1.5 picture heights, or 60% of a
# narrow picture) and is drawn with the writing's pen: joined to the digits it touches, or stacked
# under them, it made them one piece ('17' read '12', '837' read '31'). It is a straight level run,
# found as printed lines are (at least UNDERLINE_MIN_LENGTH digit heights long, at most
# UNDERLINE_THICKNESS thick and at least UNDERLINE_PEN as thick as the writing's strokes: what is left
# of a printed line is finer), clear of the picture's bottom edge (there, the feet of digits cut
# tightly), with writing resting on it: the pieces of ink above it, within UNDERLINE_ABOVE digit
# heights, that lie mostly over it, are UNDERLINE_WRITING digit heights tall or more and end at
# most UNDERLINE_GAP above it (not the line of writing above). A piece going on more than
# UNDERLINE_DEPTH below it crosses it (a 4's stem under its bar, a 9's tail through an underline):
# one beside a single resting piece makes it a digit's bar, and so does a piece hanging from it
# (a 7's stem). The run is at least UNDERLINE_LENGTH times as long as the writing on it is tall and
# UNDERLINE_WIDER times as wide as its widest piece (a 0's or a 2's own bottom is not); under a
# single piece, UNDERLINE_LONE times as long, the piece UNDERLINE_LONE_TALL digit heights tall and
# apart from it (a 2's foot touches its 2). Touching the writing, it reaches UNDERLINE_PAST digit
# heights past the pieces on it at both ends: a 2's foot running on under the next digit does not
# ('2097085562' read '7097085562'). Only its own pixels are erased (a stroke crossing it stays
# whole), over the pen's width (find_lines keeps only the long runs of its rows, which a hand's
# line, never quite level, does not fill), and under the digits standing on it too (kept, a stub of
# it hung under each: tuning seeds 1-2, underlined numbers 202 -> 222 and 211 -> 227 of 300). A
# heavy pen's line under small cents is thicker than a fifth of the digits' median height (at 0.2,
# '7909' read '75' and '208' read '26212'). A piece under UNDERLINE_PIECE digit heights tall within
# UNDERLINE_NEAR of a taller one's columns is a part of that digit broken off by the line's course
# (the loop at a 2's foot, its base's end turned up), not one of the pieces on the line: counted, a
# 2's foot running on under the next digit was under two pieces and erased ('27078' read '77078').
# Small cents stand further apart (0.08 digit heights or more on the tuning seeds), and are as
# little as 0.35 tall with a heavy pen.
UNDERLINE_MIN_LENGTH = 0.6
UNDERLINE_THICKNESS = 0.25
UNDERLINE_ABOVE = 1.5
UNDERLINE_WRITING = 0.3
UNDERLINE_LENGTH = 0.8
UNDERLINE_LONE = 1.2
UNDERLINE_LONE_TALL = 0.75
UNDERLINE_WIDER = 1.2
UNDERLINE_DEPTH = 0.03
UNDERLINE_PAST = 0.05
UNDERLINE_GAP = 0.3
UNDERLINE_PEN = 0.25
UNDERLINE_PIECE = 0.4
UNDERLINE_NEAR = 0.05
# A piece at least this many digit heights tall is cut into digits as if the line's digits were as
# tall as it: the digit height is the median of the tall pieces, and an amount's small raised cents
# (two pieces 0.45-0.65 as tall as the digits) set it low, so that a whole digit before them was as
# wide as two of that height and was cut in two ('4⁷⁰' read '2170').
TALL_PIECE = 1.4
# Cents written small and raised after an amount, the two digits touching ('326⁸⁵'), are one piece
# narrower than a digit of the line's height, so it was never cut, and `read` left it out as an
# unsure piece at the end. The last piece of a line, at most CENTS_HEIGHT digit heights tall,
# standing at least CENTS_RAISED of them above the baseline and its top within CENTS_TOP of them of
# the digits' tops (a "*" or a "=" closing an amount stands at the writing's middle), is cut by its
# own height.
CENTS_HEIGHT = 0.7
CENTS_RAISED = 0.2
CENTS_TOP = 0.2
# A line photographed from one side (the camera turned about the upright) has its near end's digits
# taller than the median, and a wide 5 or a heavy 8 there looked as wide as two digits and was cut
# in two ('53773' read '953773'). When the pieces at least ANGLE_PIECE digit heights tall
# (ANGLE_PIECES or more) grow along the line, a straight fit of their heights against where they
# stand explaining ANGLE_FIT of the heights' variance and ANGLE_TREND times as great at one end as at
# the other, with their tops and their bottoms both closing in towards the short end (each side's
# slope at least ANGLE_SIDES of the height's: cents written small and raised lower only the bottoms),
# a piece is cut as if the digits were as tall as the fit where it stands (no lower than
# ANGLE_LOWEST). A level line's digits vary in height too: from 3 pieces and with no condition on the
# fit, 2 more numbers at an angle were read right on the tuning seeds, and 5 of other sets lost.
ANGLE_PIECE = 0.7
ANGLE_PIECES = 4
ANGLE_FIT = 0.6
ANGLE_TREND = 1.15
ANGLE_SIDES = 0.25
ANGLE_LOWEST = 0.6
# A comma written with a thick pen is taller than a comma hanging from the baseline may be (0.45
# digit heights; '2856937' with '8,5' read '28156937', the comma 0.46 tall): a narrow piece under
# HEAVY_COMMA_HEIGHT digit heights whose top is at most COMMA_TOP of them above the baseline is one
# too (tuning seeds 1-2: cheque amounts +3, faint pencil +1, squared paper -1, a grid line's crumb).
HEAVY_COMMA_HEIGHT = 0.6
COMMA_TOP = 0.25
# An apostrophe (the thousands separator of Swiss amounts, 1'250) is a mark under this many digit
# heights tall (a thick pen's tick measures 0.46-0.47) and half as wide, wholly in the upper half of
# the writing, between two digits, once the merges are done (see _is_apostrophe). It was read as a 1.
APOSTROPHE_HEIGHT = 0.5
# A slash is one stroke: its ink spreads across its axis (standard deviation) by at most this many
# digit heights. A long run of touching digits, as elongated, is far thicker.
SLASH_THICKNESS = 0.1
# An amount closed by "/-": a straight stroke leaning right at least this much (degrees), followed
# by a dash ending within TERMINAL_DASH_GAP digit heights of it and nothing else, is that mark.
TERMINAL_SLASH_LEAN = 15.0
TERMINAL_DASH_GAP = 0.5
# A lone slash closing an amount ("1250/"): the last piece, one thin straight stroke leaning right
# at least LONE_SLASH_LEAN degrees, taller than the digits by LONE_SLASH_TALL and reaching below
# their baseline by LONE_SLASH_BELOW digit heights, as a slash is drawn across the line. A 1 as
# slanted stands on the line and is as tall as the digits: of the 260 numbers of tuning seeds 1-2
# ending in a 1 read right (cheque amounts, numbers, tight and marked numbers), none is all three
# (at 1.03 and 0.02 still none, but a pen's round end is that much); of the 33 amounts closed by a
# lone slash, 16 are (the rest lean less or stand on the line, and are read as 1s, as before).
# Only after two digits or more: '11' out of focus lost its second 1, heavier than the first.
LONE_SLASH_LEAN = 25.0
LONE_SLASH_TALL = 1.05
LONE_SLASH_BELOW = 0.03
# A slash written in one stroke: the left edge of its ink strays from a straight line by at most
# this many digit heights (median), see _is_slash_dash.
SLASH_WOBBLE = 0.03
# ... and reaches below its dash by at least this share of the piece's height (the closing "/-" of
# the benchmark's cheque amounts measure 0.31-0.35; a heavy 2 with its base raised, 0.17).
SLASH_BELOW_DASH = 0.25
# An equals sign touching the first or last digit, or a dash touching the first, is cut off it (see
# _split) when its middle lies at least this share of the group's height below the group's top: the
# bar of a 7 or a 5 made small by perspective lies as low as a dash, but at its digit's top.
BAR_MARK_BELOW = 0.2
# A hash sign at an end of an amount (see _is_hash): at most this many digit heights wide, its bars
# running across this share of its width (and this many digit heights: a 1's stem is as narrow as it
# is) at least HASH_BAR_GAP digit heights apart. Kept whole, not cut: tuning seeds 1-2 of
# benchmarks/realistic.py, cheque amounts 426 -> 463 of 600 read exactly, no other picture changed.
# A hash touching the first digit is cut with it, and its two pieces are joined again (_whole_hash):
# tuning seeds 1-4, cheque amounts 952 -> 968 of 1,200, every other read set unchanged.
HASH_ASPECT = 0.95
HASH_BAR_SHARE = 0.7
HASH_BAR_LENGTH = 0.4
HASH_BAR_GAP = 0.15
# A colon's two dots together stand at most this many digit heights tall.
COLON_HEIGHT = 0.8
# Brackets round a number or part of it ("(0161) 496 0000"): a single stroke (one run of ink across
# BRACKET_ONE_RUN of its rows, none BRACKET_RUN times as long as the median) at least BRACKET_HEIGHT
# digit heights tall and at most BRACKET_WIDTH of its own height or of the digits' wide (a bracket
# round small digits stands taller than they do, and is as wide for its height), whose middle lies
# BRACKET_BOW of its height or more off the straight line between its ends (left: an opening "(",
# right: a closing ")").
# ``DigitCrop.bow`` says so; whether it is one is for the classifier (a bracket reads as a 1).
BRACKET_BOW = 0.05
BRACKET_HEIGHT = 0.8
BRACKET_WIDTH = 0.6
BRACKET_ONE_RUN = 0.85
BRACKET_RUN = 2.5
# A bracket touching the digit beside it is cut off it when it stands this many times as tall as
# that digit and the line's digits (see _is_touching_bracket); a 0's or a 2's side bows as much.
BRACKET_TALLER = 1.1
# A printed label before the number ("No.", "Tel", "Qty"): two or more pieces at its start, each
# under LABEL_HEIGHT of the height of the writing after it (the 75th percentile of its pieces'),
# followed by a gap of LABEL_GAP digit heights or more and LABEL_APART times the widest gap between
# them (a word's letters stand closer together than it stands to the number). One small piece is a
# small digit: the first of a grid row's cells, with the cell's width after it.
# Letters of the label taken for marks count among its pieces when LABEL_MARK as tall as the
# smallest of them or more (a dot or a crumb after a small first digit does not): 'Qty' with its
# t and y taken for marks left its Q, read as a 0 ('34744' read '034744'), and 'ID:' with its I
# taken for a mark left its D.
LABEL_HEIGHT = 0.75
LABEL_GAP = 0.4
LABEL_APART = 1.5
LABEL_MARK = 0.5
# A percent sign after the number, its high circle apart from the slash: a small piece (under
# PERCENT_RING digit heights either way) high on the left of a stroke leaning right (its top
# PERCENT_LEAN of its height or more right of its foot), and the low circle on its right, apart or
# joined to its foot. Each piece was read on its own, a circle as a 0 and the slash as a 1.
PERCENT_RING = 0.55
PERCENT_LEAN = 0.25
# Written in one stroke with its slash, a percent sign is one piece no wider than PERCENT_WIDTH digit
# heights holding two small holes (each under PERCENT_HOLE digit heights across), one high on the left
# and one low on the right, at least PERCENT_APART of its width apart across (an 8's holes are above
# one another; two touching digits with such holes, a 9 and a 6, are wider), its slash's ends in the
# top right and bottom left corners of its box (an 8 leaning so that its holes are that far apart
# leaves those corners empty). A ring joined to the slash may close a third hole between them.
PERCENT_WIDTH = 0.95
PERCENT_HOLE = 0.25
PERCENT_APART = 0.25
# A percent sign whose circles are filled or open (see _is_slashed_ring): its slash inked at this
# share of the points along it or more, and cut out of the piece up to SLASH_BAND times its half
# width (a pen's edge is rough) before looking for the circles beside it.
SLASH_INKED = 0.85
SLASH_BAND = 1.4
# Its high circle's centre lies in the top PERCENT_HIGH of the box and its low one's in the bottom
# PERCENT_HIGH (a 4 leaning right, seen the same way, has its arm and its bar's end nearer the middle);
# a low circle apart from the slash has its centre above PERCENT_LOW_MARK of the box's height (a full
# stop after a 7 lies on the baseline).
PERCENT_HIGH = 0.32
PERCENT_LOW_MARK = 0.92
# A straight thin stroke at an end of the number at least this many digit heights tall is the side
# of a box drawn round it (a cheque's printed box, slanted in perspective, is not erased as a box;
# digits of one line are about equally tall). Tuning seeds: cheque amounts +2, nothing else changed.
# A box's side is also taller than every digit inside by TALL_STROKE_OVER: the median digit height
# of an amount with its cents written small is low, and its first 1 stood 1.49 of it tall (1.03
# times its tallest digit): '10489' read '0489'.
TALL_STROKE = 1.4
TALL_STROKE_OVER = 1.1


@dataclass(frozen=True)
class DigitCrop:
    """One digit found in a picture.

    ``image``: its ink, float32 (h, w) in [0, 1], white on black, nothing else on it.
    ``image28``: the same in the MNIST convention, float32 (28, 28), ready for a model.
    ``box``: (x0, y0, x1, y1) in the original picture's pixels (x1, y1 exclusive).
    ``bow``: for a piece shaped like a bracket, how far its middle lies off the straight line between
    its ends, in shares of its height: positive (left) for an opening one, negative for a closing one;
    0 for any other shape (see :data:`BRACKET_BOW`). A classifier reads a bracket as a 1, so only the
    two together can tell them apart. ``line``: which line of writing the digit is on, counted from
    the top (0 when the picture holds one, see :func:`_lines_of_writing`).
    """

    image: np.ndarray
    image28: np.ndarray
    box: tuple[int, int, int, int]
    bow: float = 0.0
    line: int = 0


@dataclass
class _Group:
    mask: np.ndarray  # bool, full working-image size
    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def cropped(self) -> np.ndarray:
        """The group's mask cut to its box."""
        return self.mask[self.y0 : self.y1, self.x0 : self.x1]


# A band of writing (see _lines_of_writing): its top, its bottom and the digit-sized pieces in it.
_Band = tuple[float, float, list[_Group]]


def _not_thin(g: _Group) -> bool:
    """At least OTHER_ROW_WIDE as wide as it is tall, as most digits are: no crumb of a grid's line."""
    return g.width >= OTHER_ROW_WIDE * g.height


def _whole_near_frame(g: _Group, writing_height: float, edge: float) -> bool:
    """A whole digit of a line written near the frame, even touching its top or bottom (see
    OTHER_ROW_WHOLE): as tall as the writing, not thin, and clear of the frame's sides (``edge``)."""
    width = g.mask.shape[1]
    return g.height >= OTHER_ROW_WHOLE * writing_height and _not_thin(g) and edge < g.x0 and g.x1 < width - edge


def _group(mask: np.ndarray) -> _Group | None:
    rows = np.nonzero(mask.any(axis=1))[0]
    cols = np.nonzero(mask.any(axis=0))[0]
    if rows.size == 0:
        return None
    return _Group(mask, int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)


def _remove_number_lines(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Underlines, ruled lines, box edges and cell borders of a line of digits.

    A horizontal run longer than 1.5 image heights (or 60% of a narrow image) cannot be a stroke of
    a digit; once found, it is followed across the whole picture (a faint line breaks up). A thin,
    upright vertical run is a cell border when it is clearly taller than the digits and thin for its
    length (:data:`BORDER_THINNESS`), or spans the box between two horizontal lines. Evenly spaced
    borders make a comb field: there, a border touching a digit is erased too, and so are thin
    fragments left on the comb's columns. Also returns the pixels of the lines found tilted (see
    :func:`~digitocr.preprocess.find_tilted_lines`), which tell how the writing is turned.
    """
    height, width = mask.shape
    mask = _remove_squared_paper(mask)
    if width < 1.2 * height:
        # About square: one digit in its cell (two cells are comb-like), or a column of numbers.
        return _line_policy(mask, lines_of_writing=True), np.zeros_like(mask)
    # Faint comb and ruled lines break up at the threshold: bridge gaps of a few pixels (far less than
    # the 1.5 heights a line must run, so the bars of neighbouring digits do not become a line).
    length, thickness, gap = (
        max(3, int(min(0.6 * width, 1.5 * height))),
        max(1.5, 0.1 * height),
        max(2, int(0.05 * height)),
    )
    # A box or ruled line found along part of the picture runs on across the rest (extend_gap).
    hlines = find_lines(mask, True, length, thickness, gap=gap, extend_gap=width)
    # Photographed turned or from one side, a comb's or a ruled line runs too steeply for that (tuning
    # seeds 1-2 of benchmarks/realistic.py: turned numbers 495 -> 506, numbers from one side
    # 481 -> 493 of 600 read exactly, the other eight read sets text for text).
    tilted = find_tilted_lines(mask, length, thickness, gap=gap, extend_gap=width, found=hlines)
    # Only the lines' own pixels go (`thin_course`): a stroke crossing a ruled line, or lying along it
    # and reaching past it, stays whole, where erasing the line's long runs cut it (a heavy 8 in two)
    # or left a stub of the line on it (a 1 read 7). Tuning seeds 1-4 of benchmarks/realistic.py,
    # 1,200 pictures per set: grid rows 1,086 -> 1,092, on a desk 1,074 -> 1,079, cheque amounts
    # 968 -> 972 read exactly.
    courses = [thin_course(mask, line) for line in hlines + tilted]
    cleaned = erase_lines(mask, courses)
    turned = np.zeros_like(mask)
    for line in courses[len(hlines) :]:
        turned |= line.pixels
    # Cells of a comb field can be under half the picture's height: look for shorter runs, and
    # decide below which of them are borders.
    vlines = find_lines(
        cleaned,
        False,
        max(3, int(0.3 * height)),
        max(1.5, 0.1 * height),
        gap=max(2, int(0.05 * height)),
        extend_gap=max(3, int(0.1 * height)),
    )
    # Borders stand upright, or lean a little in perspective; a slanted 1 found as a line does not.
    vlines = [line for line in vlines if abs(_lean(line)) <= MAX_BORDER_LEAN]
    if not vlines:
        return cleaned, turned

    # The box the cells' borders run between: the lines found level, and those found tilted that an
    # upright line ends on (not a page's edge, which runs past the box in a photo from one side).
    def meets(course: np.ndarray, upright: Line) -> bool:
        row = float(np.polyval(course, upright.position))
        slack = BOX_SLACK * (upright.stop - upright.start) + upright.thickness
        return min(abs(row - upright.start), abs(row - upright.stop)) <= slack

    fitted = [(line, np.polyfit(*np.nonzero(line.pixels)[::-1], 1)) for line in tilted]
    tilted_box = [(line, course) for line, course in fitted if any(meets(course, upright) for upright in vlines)]
    level_box = hlines
    hlines = level_box + [line for line, _ in tilted_box]
    labels, _ = ndi.label(cleaned, structure=np.ones((3, 3)))
    objects = ndi.find_objects(labels)

    def piece_of(line) -> int:
        return int(np.bincount(labels[line.pixels]).argmax())

    def standalone(line) -> bool:
        # A border is a piece of its own once the horizontal box lines are gone; the side of a 0 or
        # the stem of a 4 belongs to a piece much wider than the line. It is straight (a bracket's
        # middle is found as a line too, and erasing it left the bracket's ends, read as a 1).
        k = piece_of(line)
        sl = objects[k - 1]
        return (sl[1].stop - sl[1].start) <= 3 * line.thickness + 2 and _straight(labels[sl] == k)

    alone = [line for line in vlines if standalone(line)]
    # The digits' height, from the pieces that are not lone vertical lines (borders are the tallest
    # pieces of a comb field and would set the scale they are measured against).
    line_pieces = {piece_of(line) for line in alone}
    heights = [sl[0].stop - sl[0].start for k, sl in enumerate(objects, start=1) if k not in line_pieces]
    heights = heights or [sl[0].stop - sl[0].start for sl in objects]
    tall = [h for h in heights if h >= 0.5 * max(heights)] if heights else []
    typical = float(np.median(tall)) if tall else 0.0
    positions = sorted(line.position for line in hlines)
    box_span = positions[-1] - positions[0] if len(positions) >= 2 else 0.0

    # Box lines found tilted run towards each other in perspective: then the box is measured where
    # the border stands, on their courses (the lines found level taken as level).
    def box_at(column: float) -> tuple[float, float]:
        if not tilted_box:
            return positions[0], positions[-1]
        rows = [line.position for line in level_box] + [float(np.polyval(c, column)) for _, c in tilted_box]
        return min(rows), max(rows)

    def spans_the_box(line) -> bool:
        # A cell border runs from one box line to the other and stops there, or runs on past both
        # (a grid), or past one to the picture's edge (a grid cut there). A 1 written across a ruled
        # line runs past it and stops in the writing (ruled paper: its lines are no box).
        top, bottom = box_at(line.position)
        if line.stop - line.start < 0.85 * (bottom - top):
            return False
        slack = BOX_SLACK * (bottom - top) + line.thickness
        above, below = line.start < top - slack, line.stop > bottom + slack
        edge = max(2.0, BOX_EDGE * height)
        return above == below or (above and line.start <= edge) or (below and line.stop >= height - edge)

    # Borders are as thin as each other; a lone 1 as tall as the box is written with a thicker pen.
    border_width = float(np.median([line.thickness for line in alone or vlines]))
    pen = max(2.0, 1.6 * border_width)
    thin_lines = [line for line in alone if line.thickness <= pen]
    extent = (min(line.start for line in hlines), max(line.stop for line in hlines)) if hlines else (0, width)
    comb_lines = [
        line
        for line in vlines
        if line.thickness <= pen
        and _thin_for_its_length(line)  # printed lines are thin
        and ((typical and line.stop - line.start >= 1.05 * typical) or (box_span and spans_the_box(line)))
    ]
    columns = _comb_columns(comb_lines, extent)
    # The comb's own borders are as tall as each other (digits nearly as tall as their cells make
    # the 1.25-digit-heights rule below miss them when one of the box lines was not found).
    comb_length = max(line.stop - line.start for line in comb_lines) if columns is not None else math.inf

    def on_column(centre: float) -> bool:
        return columns is not None and float(np.min(np.abs(columns[0] - centre))) <= 0.12 * columns[1]

    # In a comb field, a border touching a digit is not a piece of its own, but it lies on a column.
    touching = [
        line
        for line in vlines
        if columns is not None and line not in alone and line.thickness <= pen and on_column(line.position)
    ]
    # A form's printed lines are drawn with one pen: a border is no more than twice as wide as its box
    # lines. A heavy upright 1 written from one ruled line to the next spans the box too, and was
    # erased (tuning seeds 1-4: turned numbers +3, marked numbers +1, nothing lost).
    printed = 2 * max(line_width(line) for line in hlines) + 1 if hlines else math.inf
    borders = [
        line
        for line in thin_lines + touching
        if (
            (typical and (line.stop - line.start) >= 1.25 * typical and _thin_for_its_length(line))
            or (box_span and spans_the_box(line))
            or (line.stop - line.start) >= 0.8 * comb_length
        )
        and (columns is None or on_column(line.position))  # in a comb field, a border lies on its columns
        and line.thickness <= printed
    ]
    cleaned = erase_lines(cleaned, borders)
    if columns is None:
        return cleaned, turned
    # A comb field: what is left on its columns is border too — lone lines too short to count as
    # whole borders, and the fragments of a faint or tilted border that no line run found — as long
    # as the piece is thin and lies wholly on the column (a digit reaching across it is kept).
    thin = 3 * border_width + 2
    labels, _ = ndi.label(cleaned, structure=np.ones((3, 3)))
    for index, sl in enumerate(ndi.find_objects(labels), start=1):
        if sl[1].stop - sl[1].start <= thin and on_column((sl[1].start + sl[1].stop - 1) / 2):
            cleaned[sl] &= labels[sl] != index
    return cleaned, turned


def _thin_for_its_length(line: Line) -> bool:
    """Whether a vertical line found in the ink is as thin as a printed one (:data:`BORDER_THINNESS`)."""
    return line.thickness <= BORDER_THINNESS * (line.stop - line.start)


def _remove_squared_paper(mask: np.ndarray) -> np.ndarray:
    """Erase the printed lines of squared paper (an exercise book, graph paper), if the picture has any.

    Its lines run across the whole picture both ways and through the digits, so they are found
    as lines across this share of it (:data:`GRID_SPAN`), with breaks bridged (a faint printed line
    breaks up at the threshold into dashes), and as thin as printed lines (:data:`GRID_LINE_WIDTH`:
    where a digit crosses a line, its stroke counts in the line's width:
    :func:`digitocr.preprocess.line_width`). Squared paper has two such columns and two rows, or
    three evenly spaced columns and a row (a digit's stroke stops in the writing; the stems and tops
    of a few digits cut tightly, a pixel or two wide, can reach the picture's edges, but make no
    such grid); a picture about square needs three columns or rows, or it is a form's cell cut
    with its borders. Only each line's own pixels are erased
    (:func:`digitocr.preprocess.thin_course`): the strokes crossing it are kept whole. Columns
    that a stroke hides are looked for where the grid's spacing puts them
    (:func:`_missing_columns`), and what is left of the lines along their courses is dropped.
    """
    height, width = mask.shape
    thin = max(2.0, GRID_LINE_WIDTH * height)

    def across(horizontal: bool, gap: int) -> list[Line]:
        # Half the way is found as a run (a line turned by a degree drifts off any one row of pixels
        # over a wide picture), then traced on along its course.
        length = width if horizontal else height
        found = find_lines(mask, horizontal, int(0.5 * length), 0.3 * height, gap=gap, extend_gap=length)
        return [line for line in found if line.stop - line.start >= GRID_SPAN * length and line_width(line) <= thin]

    columns = [line for line in across(False, max(2, int(0.1 * height))) if abs(_lean(line)) <= MAX_BORDER_LEAN]
    if len(columns) < 2:
        return mask
    rows = across(True, max(2, int(0.2 * height)))
    # A cell of a form cut out with its borders is no squared paper: it has two lines each way at most
    # (the rules of its cell, which decide what is a neighbour's; see preprocess._line_policy).
    if not rows or (len(columns) < 3 and len(rows) < 3 and width < 1.2 * height):
        return mask
    # One row and two columns are also what the tops and stems of a few digits cut tightly can make:
    # squared paper shows two rows, or three evenly spaced columns.
    comb = _comb_columns(columns, (0.0, float(width)))
    if len(rows) < 2 and comb is None:
        return mask
    missing = _missing_columns(mask, columns, comb) if comb is not None else []
    cleaned = erase_lines(mask, [thin_course(mask, line) for line in columns + rows + missing])
    # What the erasing leaves of the lines (a corner where two meet, a stretch beside a stroke): the
    # pieces lying wholly within two line widths of what was erased.
    reach = max(2, math.ceil(2 * max(line_width(line) for line in columns + rows)))
    near = ndi.binary_dilation(mask & ~cleaned, structure=np.ones((2 * reach + 1, 2 * reach + 1), bool))
    labels, count = ndi.label(cleaned, structure=np.ones((3, 3)))
    if count:
        inside = ndi.minimum(near.view(np.uint8), labels, index=np.arange(1, count + 1))
        cleaned &= ~np.concatenate([[False], np.asarray(inside, bool)])[labels]
    return cleaned


def _row_centres(box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of a bool box that hold ink, and the mean column of each one's ink."""
    rows = np.nonzero(box.any(axis=1))[0]
    return rows, (box[rows] * np.arange(box.shape[1])).sum(axis=1) / box[rows].sum(axis=1)


def _straight(piece: np.ndarray) -> bool:
    """Whether an upright piece (a bool box) runs straight: see :data:`BORDER_BEND`."""
    rows, centres = _row_centres(piece)
    if rows.size < 3:
        return True
    slope, intercept = np.polyfit(rows, centres, 1)
    bend = np.percentile(np.abs(centres - (slope * rows + intercept)), 90)
    return bool(bend <= max(1.5, BORDER_BEND * rows.size))


def _missing_columns(mask: np.ndarray, columns: list[Line], comb: tuple[np.ndarray, float]) -> list[Line]:
    """The columns of a grid that were not found whole, where its spacing puts them.

    A column that a digit's stroke follows for a while is found as one piece with the stroke (too
    wide for a printed line), or not at all. Where the found columns' spacing (``comb``, from
    :func:`_comb_columns`) puts one and most rows have ink there, the ink in that band is handed to
    :func:`digitocr.preprocess.thin_course`, which keeps only what is as thin as a printed line.
    """
    height, width = mask.shape
    positions, spacing = comb
    reach = 0.12 * spacing
    thickness = float(np.median([line.thickness for line in columns]))
    missing = []
    for x in positions:
        lo, hi = max(0, math.floor(x - reach)), min(width, math.ceil(x + reach) + 1)
        if lo >= hi or any(abs(x - line.position) <= reach for line in columns):
            continue
        band = np.zeros_like(mask)
        band[:, lo:hi] = mask[:, lo:hi]
        if np.count_nonzero(band.any(axis=1)) >= GRID_SPAN * height:
            missing.append(Line(False, float(x), 0, height, thickness, band))
    return missing


def _lean(line) -> float:
    """How far a vertical line leans: its x change per pixel down (least squares over the middle of
    each of its rows, so a stroke touching it for a few rows hardly moves the fit)."""
    ys, xs = np.nonzero(line.pixels)
    rows = np.unique(ys)
    if rows.size < 2:
        return 0.0
    middles = ndi.median(xs, labels=ys, index=rows)
    return float(np.polyfit(rows, middles, 1)[0])


def _comb_columns(lines: list, extent: tuple[float, float]) -> tuple[np.ndarray, float] | None:
    """The columns of a comb field's borders, from its thin vertical lines as tall as the field.

    Three or more lines of about the same length, evenly spaced: a border may be missing (a gap of
    two to four cells), and the spacing may change slowly from cell to cell (perspective: at most
    20% from one gap to the next). Returns every border column — the missing ones too, and the
    field's continuation over ``extent`` (x0, x1: where its horizontal lines run) — and the median
    spacing; ``None`` when the lines make no comb.
    """
    # A border lies where the field's horizontal lines run (the edge of the page beyond them does not).
    slack = 0.1 * float(np.median([line.stop - line.start for line in lines])) if lines else 0.0
    lines = [line for line in lines if extent[0] - slack <= line.position <= extent[1] + slack]
    if len(lines) < 3:
        return None
    # Borders are as tall as each other; one may run on past the box where a stroke or a stain
    # touches it, so the length they are measured against is the second longest (old register pages
    # of tuning seed 2: one border joined to marks below the box left no other border whole, and
    # the borders were read as 1s; the ten read sets and the columns of tuning seeds 1-2 read text
    # for text as before).
    tall = sorted((line.stop - line.start for line in lines), reverse=True)[1]
    full = sorted(line.position for line in lines if line.stop - line.start >= 0.8 * tall)
    # A stroke or two found as tall thin lines (a 1, a 4's stem) break the spacing: the comb is then
    # what is left without them, when that is four lines or more and over twice as many as the strays
    # (with fewer, strays that happen to fall evenly make a comb of their own). Of the ways to leave
    # strays out that make a comb, the one taking fewest borders to be missing: a stroke past the
    # middle of its cell, kept while a true border is left out, makes a comb of half cells whose
    # columns run through the digits (old register pages of tuning seed 2: '8131' read '811'; the ten
    # read sets and the columns of tuning seeds 1-2 read text for text).
    for drop in range(min(COMB_STRAYS, (len(full) - 1) // 3) + 1):
        if drop and len(full) - drop < 4:
            break
        combs = [
            found
            for stray in itertools.combinations(range(len(full)), drop)
            if (found := _even_columns([x for k, x in enumerate(full) if k not in stray], extent)) is not None
        ]
        if combs:
            columns, spacing, _ = min(combs, key=lambda comb: comb[2])
            return columns, spacing
    return None


def _even_columns(full: list[float], extent: tuple[float, float]) -> tuple[np.ndarray, float, int] | None:
    """:func:`_comb_columns` for the columns ``full`` (sorted) when they are evenly spaced, and how
    many borders it takes to be missing between them."""
    if len(full) < 3:
        return None
    gaps = np.diff(full)
    # The spacing is followed from the first gap on, starting from the narrowest gap (the first may
    # span a missing border) or from the first gap (photographed from one side, the narrowest is at
    # the far end, and the near cells looked like two of its cells each).
    starts = [float(np.min(gaps))] + ([float(gaps[0])] if gaps[0] > np.min(gaps) else [])
    found = [comb for start in starts if (comb := _follow_columns(full, gaps, start, extent)) is not None]
    return min(found, key=lambda comb: comb[2], default=None)


def _follow_columns(
    full: list[float], gaps: np.ndarray, period: float, extent: tuple[float, float]
) -> tuple[np.ndarray, float, int] | None:
    """:func:`_even_columns` from the spacing ``period`` on."""
    if period <= 0:
        return None
    positions, spacings, single = [full[0]], [], 0
    for left, gap in zip(full[:-1], gaps, strict=True):
        count = round(gap / period)
        if not 1 <= count <= 4 or abs(gap / count - period) > 0.2 * period:
            return None
        period = gap / count  # follow the perspective
        positions += [left + period * k for k in range(1, count + 1)]
        spacings += [period] * count
        single += count == 1
    if single < 0.5 * len(gaps):
        return None  # mostly half cells: a 1 between two borders set the spacing, not the comb
    missing = len(positions) - len(full)
    # Beyond the borders found, the field goes on as it went. Photographed from one side, its cells
    # narrow steadily from one end to the other, and its continuation narrows with them: by the
    # mean step of the spacing, when each of three steps or more narrows (or each widens). At a
    # constant spacing, the far borders of a comb at an angle were off their columns and read as 1s
    # (tuning seed 1: '545937311' read '5459373111').
    # Without that steady trend, by its median spacing: a gap at an end is only as even as the
    # borders found there (with one hidden by a heavy 6, the first gap found was 78 pixels against
    # a median of 70.5, and the comb went on 17 pixels off its first border, read as a 1).
    steps = np.array(spacings[1:]) / np.array(spacings[:-1])
    steady = steps.size >= 3 and bool(np.all(steps < 1) or np.all(steps > 1))
    ratio = float((spacings[-1] / spacings[0]) ** (1 / (len(spacings) - 1))) if steady else 1.0
    first, last = (spacings[0], spacings[-1]) if steady else (float(np.median(spacings)),) * 2
    least, most = 0.5 * min(spacings), 2.0 * max(spacings)  # bounded: a narrowing comb ends
    while positions[0] - (step := min(max(first / ratio, least), most)) >= extent[0] - 0.5 * step:
        first = step
        positions.insert(0, positions[0] - step)
    while positions[-1] + (step := min(max(last * ratio, least), most)) <= extent[1] + 0.5 * step:
        last = step
        positions.append(positions[-1] + step)
    return np.array(positions), float(np.median(spacings)), missing


def _keep_edge_ones(mask: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Give back the 1s that :func:`_drop_frame_fragments` took for borders of neighbouring cells.

    A number cut tightly (a scanned register number, a cheque amount cropped to the ink) has its
    first or last 1 touching the frame: a thin upright piece along the side, like a border's
    fragment. A 1 stands in the writing's band, as tall as the digits, with the pen's width; the
    edge of a page, a shadow or a neighbouring cell reaches past the band or is thinner.
    """
    dropped = mask & ~kept
    if not dropped.any():
        return kept
    # The band of this line's writing: where its digits clear of the top and bottom lie; in a number
    # cut tightly (none are), all of it but what shows of the lines above and below.
    groups = _components(kept)
    clear = _clear_band(groups, mask.shape[0])
    if clear is None:
        writing = _drop_other_rows(groups, mask.shape[0])
        if not writing:
            return kept
        clear = min(g.y0 for g in writing), max(g.y1 for g in writing)
    top, bottom = clear
    band = bottom - top
    pen = stroke_width(kept.astype(np.float32))
    labels, _ = ndi.label(dropped, structure=np.ones((3, 3)))
    out = kept.copy()
    for index, sl in enumerate(ndi.find_objects(labels), start=1):
        height, width = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        within = sl[0].start >= top - EDGE_ONE_SLACK * band and sl[0].stop <= bottom + EDGE_ONE_SLACK * band
        if within and height >= 0.7 * band and width >= 0.7 * pen:
            out[sl] |= labels[sl] == index
    return out


def _components(mask: np.ndarray) -> list[_Group]:
    labels, _count = ndi.label(mask, structure=np.ones((3, 3)))
    groups = []
    for index, sl in enumerate(ndi.find_objects(labels), start=1):
        piece = np.zeros_like(mask)
        piece[sl] = labels[sl] == index
        groups.append(_Group(piece, sl[0].start, sl[0].stop, sl[1].start, sl[1].stop))
    return groups


def _drop_other_rows(groups: list[_Group], height: int) -> list[_Group]:
    """Drop what shows of the lines above and below, cut by the frame (see :data:`OTHER_ROW_MARGIN`):
    a piece touching the top (bottom) of the picture that ends above (starts below) the line's band,
    unless it is a whole digit (see :data:`OTHER_ROW_WHOLE`).
    The band is where the pieces clear of the top and bottom lie that are at least half as tall as
    the tallest piece; a number cut tightly has none (its digits touch both), nor does a digit
    broken into a long piece at the frame and a crumb."""
    band = _clear_band(groups, height)
    if band is None:
        return groups
    margin = max(1, round(OTHER_ROW_MARGIN * height))
    top, bottom = band
    edge = _frame_margin(groups[0].mask.shape)
    return [
        g
        for g in groups
        if _whole_near_frame(g, bottom - top, edge)
        or not ((g.y0 < margin and g.y1 <= top) or (g.y1 > height - margin and g.y0 >= bottom))
    ]


def _clear_band(groups: list[_Group], height: int) -> tuple[float, float] | None:
    """Where the line's writing lies (median top and bottom) by the pieces clear of the picture's
    top and bottom that are at least half as tall as the tallest piece; ``None`` when there are none
    (a number cut tightly, a digit broken into a long piece at the frame and a crumb)."""
    margin = max(1, round(OTHER_ROW_MARGIN * height))
    tallest = max((g.height for g in groups), default=0)
    band = [g for g in groups if g.y0 >= margin and g.y1 <= height - margin and g.height >= 0.5 * tallest]
    if not band:
        return None
    return float(np.median([g.y0 for g in band])), float(np.median([g.y1 for g in band]))


def _merge(a: _Group, b: _Group) -> _Group:
    return _Group(a.mask | b.mask, min(a.y0, b.y0), max(a.y1, b.y1), min(a.x0, b.x0), max(a.x1, b.x1))


def _belongs_together(a: _Group, b: _Group, digit_height: float) -> bool:
    """Pieces of one digit: stacked (they share columns but hardly any rows), or one inside the
    other's box (give or take :data:`INSIDE_SLACK`)."""
    x_overlap = min(a.x1, b.x1) - max(a.x0, b.x0)
    y_overlap = min(a.y1, b.y1) - max(a.y0, b.y0)
    narrow = min(a.width, b.width)
    if x_overlap >= 0.5 * narrow and y_overlap <= 0.3 * min(a.height, b.height):
        merged_height = max(a.y1, b.y1) - min(a.y0, b.y0)
        if -y_overlap <= STACK_GAP * min(a.height, b.height):  # broken across: the halves nearly touch
            return merged_height <= STACK_HEIGHT * digit_height
        if _line_crumb_under_bar(a, b, digit_height):
            return False
        return merged_height <= 1.6 * digit_height  # the height itself may come from broken pieces
    return _inside(a, b, digit_height) or _inside(b, a, digit_height)


def _line_crumb_under_bar(a: _Group, b: _Group, digit_height: float) -> bool:
    """Two flat pieces one above the other, one of them a crumb no thicker than a printed line
    (:data:`LINE_CRUMB`) and much thinner than the other: a dash over what is left of an erased box's
    line, not the pieces of one digit (a 5 of a thin pen broken into its bars is as flat, but its
    pieces are the pen's width, alike)."""
    if not (_flat(a.height, a.width, digit_height) and _flat(b.height, b.width, digit_height)):
        return False
    thin, thick = sorted((a.height, b.height))
    return thin <= LINE_CRUMB * digit_height and 2 * thin <= thick


def _encloses(big: _Group, small: _Group) -> bool:
    """``small``'s box lies wholly inside ``big``'s."""
    return big.x0 <= small.x0 and small.x1 <= big.x1 and big.y0 <= small.y0 and small.y1 <= big.y1


def _inside(small: _Group, big: _Group, digit_height: float) -> bool:
    """``small`` lies inside ``big``'s box, give or take :data:`INSIDE_SLACK` unless it is flat or
    holds a loop."""

    def within(slack: float) -> bool:
        return (
            big.x0 - slack <= small.x0
            and small.x1 <= big.x1 + slack
            and big.y0 - slack <= small.y0
            and small.y1 <= big.y1 + slack
        )

    if _encloses(big, small):
        return True
    if _flat(small.height, small.width, digit_height) or not within(INSIDE_SLACK * digit_height):
        return False
    piece = small.cropped
    return int(ndi.binary_fill_holes(piece).sum()) == int(piece.sum())  # no loop (a percent sign's circle)


def _join_top_bars(
    groups: list[_Group], marks: list[bool], digit_height: float, baseline: float
) -> tuple[list[_Group], list[bool]]:
    """Join a 5's bar written apart from its stem (see :data:`TOP_BAR_HEIGHT`) to the digit on its
    left; ``marks`` says which groups are separators (such a bar is one: it is flat)."""
    reach = TOP_BAR_GAP * digit_height
    out = list(zip(groups, marks, strict=True))
    for bar, mark in list(out):
        middle = (bar.y0 + bar.y1) / 2
        if not mark or not _flat(bar.height, bar.width, digit_height):
            continue
        if baseline - middle < TOP_BAR_HEIGHT * digit_height:
            continue
        stems = [
            k
            for k, (g, m) in enumerate(out)
            if not m
            and g.height >= 0.6 * digit_height
            and -reach <= bar.x0 - g.x1 <= reach
            and bar.y1 <= g.y0 + 0.35 * digit_height
            and max(g.x1, bar.x1) - g.x0 <= MAX_MERGED_ASPECT * digit_height
        ]
        if stems:
            k = min(stems, key=lambda k: abs(bar.x0 - out[k][0].x1))
            out[k] = (_merge(out[k][0], bar), False)
            out = [item for item in out if item[0] is not bar]
    return [g for g, _ in out], [m for _, m in out]


def _join_crumbs(
    groups: list[_Group], marks: list[bool], digit_height: float, baseline: float
) -> tuple[list[_Group], list[bool]]:
    """Join a digit broken into crumbs (a faint or thin stroke that the threshold parts into short
    pieces, each of which alone would pass for a dot, a dash or a fragment): a run of neighbouring
    short pieces (see :data:`CRUMB_SMALL`, :data:`CRUMB_GAP`) that together stand as tall as a digit
    (:data:`CRUMB_HEIGHT`), no wider than :data:`MAX_MERGED_ASPECT` digit heights, not hanging below
    the line (a comma beside a small 0) and not a separator themselves, become one digit.
    ``marks`` says which groups are separators; the result is the groups and marks after joining."""
    reach = CRUMB_GAP * digit_height
    out: list[tuple[_Group, bool]] = []
    run: list[tuple[_Group, bool]] = []

    def near(group: _Group) -> bool:
        return any(max(group.x0 - g.x1, g.x0 - group.x1, group.y0 - g.y1, g.y0 - group.y1) <= reach for g, _ in run)

    def close_run() -> None:
        if len(run) > 1:
            whole = run[0][0]
            for group, _ in run[1:]:
                whole = _merge(whole, group)
            if (
                whole.height >= CRUMB_HEIGHT * digit_height
                and whole.width <= MAX_MERGED_ASPECT * digit_height
                and whole.y1 <= baseline + reach
                and not _is_separator(whole, digit_height, baseline)
            ):
                out.append((whole, False))
                return
        out.extend(run)

    for k in sorted(range(len(groups)), key=lambda k: groups[k].x0):
        item = (groups[k], marks[k])
        if groups[k].height >= CRUMB_SMALL * digit_height:
            close_run()
            run = []
            out.append(item)
        elif run and near(groups[k]):
            run.append(item)
        else:
            close_run()
            run = [item]
    close_run()
    return [g for g, _ in out], [m for _, m in out]


def _digit_height(groups: list[_Group]) -> float:
    heights = np.array([g.height for g in groups], dtype=float)
    tall = heights[heights >= 0.5 * heights.max()]
    return float(np.median(tall))


def _height_along(groups: list[_Group], digit_height: float) -> Callable[[_Group], float] | None:
    """The digits' height where each group stands, when the line was photographed from one side
    (see ANGLE_TREND): the near end's digits are taller than the median and the far end's shorter,
    their tops and their bottoms closing in towards the far end. ``None`` for a line without that
    trend (cents written small and raised lower only the bottoms; a line's own heights vary)."""
    tall = [g for g in groups if g.height >= ANGLE_PIECE * digit_height]
    if len(tall) < ANGLE_PIECES:
        return None
    x = np.array([(g.x0 + g.x1) / 2 for g in tall], dtype=float)
    if np.ptp(x) < digit_height:
        return None
    centre = float(x.mean())
    design = np.stack([np.ones_like(x), x - centre], axis=1)

    def fit(values: list[float]) -> np.ndarray:
        return np.linalg.lstsq(design, np.array(values, dtype=float), rcond=None)[0]

    heights = np.array([g.height for g in tall], dtype=float)
    (mean, slope), top, bottom = fit(heights), fit([g.y0 for g in tall]), fit([g.y1 for g in tall])
    ends = mean + slope * (np.array([x.min(), x.max()]) - centre)
    if ends.min() <= 0 or ends.max() < ANGLE_TREND * ends.min():
        return None
    left = heights - (mean + slope * (x - centre))  # what the trend leaves of the heights' spread
    if np.sum(left**2) > (1 - ANGLE_FIT) * np.sum((heights - heights.mean()) ** 2):
        return None
    if not (top[1] * slope < 0 < bottom[1] * slope and min(abs(top[1]), abs(bottom[1])) >= ANGLE_SIDES * abs(slope)):
        return None  # only one side slopes: no perspective

    def height(g: _Group) -> float:
        fitted = float(mean + slope * ((g.x0 + g.x1) / 2 - centre))
        return max(fitted, ANGLE_LOWEST * digit_height)

    return height


def _is_separator(group: _Group, digit_height: float, baseline: float) -> bool:
    """A dot, comma, dash, equals sign, colon or slash rather than a digit."""
    h, w = group.height, group.width
    if _dot(h, w, digit_height):
        return True  # a dot, a comma, a speck
    if _flat(h, w, digit_height):
        return True  # a dash or an equals sign (its two bars merged as a stacked pair)
    if _is_equals_sign(group, digit_height):
        return True  # an equals sign written wider apart, before or after an amount (=125=)
    if w < 0.5 * digit_height and (
        (h < 0.45 * digit_height and group.y0 > baseline - 0.5 * digit_height)  # hanging from the baseline
        or (h < HEAVY_COMMA_HEIGHT * digit_height and group.y0 > baseline - COMMA_TOP * digit_height)  # heavy, below it
    ):
        return True  # a comma
    if _is_colon(group, digit_height):
        return True
    return _is_slash(group, digit_height)


def _is_apostrophe(group: _Group, digit_height: float, baseline: float) -> bool:
    """A short tick wholly in the upper half of the writing (see :data:`APOSTROPHE_HEIGHT`). Asked
    after pieces are merged by recognition: a 4's arm or a 7's bar written apart is as short and as
    high, and joins its digit there."""
    return (
        group.height < APOSTROPHE_HEIGHT * digit_height
        and group.width < 0.5 * digit_height
        and group.y1 < baseline - 0.5 * digit_height
    )


def _is_raised_small(group: _Group, digit_height: float, baseline: float, top: float) -> bool:
    """Small writing hanging from the digits' tops (``top``), above their baseline: cents written
    small and raised (see :data:`CENTS_HEIGHT`)."""
    return (
        group.height <= CENTS_HEIGHT * digit_height
        and group.y1 <= baseline - CENTS_RAISED * digit_height
        and group.y0 <= top + CENTS_TOP * digit_height
    )


def _is_colon(group: _Group, digit_height: float) -> bool:
    """Two dots one above the other (a colon: "14:30", "1:2"), merged as the stacked pieces of one
    digit: each what :func:`_is_separator` calls a dot alone, and roundish, together shorter than a
    digit (:data:`COLON_HEIGHT`: a faint digit broken in two small pieces is as tall as the others)."""
    if group.height > COLON_HEIGHT * digit_height:
        return False
    labels, count = ndi.label(group.cropped, structure=np.ones((3, 3)))
    if count != 2:
        return False
    sides = [(rows.stop - rows.start, cols.stop - cols.start) for rows, cols in ndi.find_objects(labels)]
    return all(_dot(h, w, digit_height) and max(h, w) <= 3 * min(h, w) + 1 for h, w in sides)


def _dot(height: float, width: float, digit_height: float) -> bool:
    """A dot: a full stop, a comma, a speck, one of a colon's dots."""
    return max(height, width) < 0.3 * digit_height


def _is_slash(group: _Group, digit_height: float) -> bool:
    """One thin straight stroke leaning more than 40° from vertical. Slanted 1s lean up to about 30°
    (MNIST test digit 2 leans 30°), so a steeper slash is read as a 1."""
    return group.height >= 0.6 * digit_height and _stroke_lean(group, digit_height) > 40


def _stroke_lean(group: _Group, digit_height: float) -> float:
    """How far (degrees) a group leans right from vertical if it is one thin straight stroke (a
    slash, or a 1), else -1."""
    ys, xs = np.nonzero(group.cropped)
    if ys.size < 5:
        return -1.0
    cov = np.cov(np.stack([xs, ys]).astype(float))
    evals, evecs = np.linalg.eigh(cov)
    straight = evals[0] < 0.04 * evals[1]
    # One stroke is thin across: a run of touching digits is as elongated, but as thick as a digit.
    thin = math.sqrt(max(float(evals[0]), 0.0)) <= SLASH_THICKNESS * digit_height
    if not (straight and thin and evecs[0, 1] * evecs[1, 1] < 0):
        return -1.0
    return math.degrees(math.atan2(abs(evecs[0, 1]), abs(evecs[1, 1])))  # of the main axis from vertical


def _is_touching_bracket(piece: _Group, group: _Group, digit_height: float, opening: bool) -> bool:
    """A bracket written touching the first digit (``opening``) or the last: a piece cut from the
    start (the end) of ``group`` shaped like an opening (a closing) bracket (see :func:`_bow`) and
    BRACKET_TALLER times as tall as the rest of the group and as the line's digits (a 0's side bows
    as much). Whole, "(3" reads as a confident 0."""
    bow = _bow(piece, digit_height)
    if not (bow > 0 if opening else bow < 0):
        return False
    box = (slice(group.y0, group.y1), slice(group.x0, group.x1))  # the rest of the group lies in its box
    rows = np.nonzero((group.cropped & ~piece.mask[box]).any(axis=1))[0]
    tallest = max(digit_height, rows[-1] + 1 - rows[0]) if rows.size else digit_height
    return piece.height >= BRACKET_TALLER * tallest


def _is_bar_mark(piece: _Group, group: _Group, digit_height: float, baseline: float, dash: bool) -> bool:
    """The two bars of an equals sign, or a dash too when ``dash``, about halfway up the writing and
    below the top of ``group``, which it was cut from (a 7's or a 5's bar at its top is no mark,
    however small the digit)."""
    if (piece.y0 + piece.y1) / 2 < group.y0 + BAR_MARK_BELOW * group.height:
        return False
    if not _halfway_up(piece, digit_height, baseline):
        return False
    return (dash and _flat(piece.height, piece.width, digit_height)) or _is_equals_sign(piece, digit_height)


def _is_equals_sign(group: _Group, digit_height: float) -> bool:
    """Two flat bars or more one above the other, shorter together than a digit."""
    return group.height < 0.6 * digit_height and _flat_bars(group.cropped, digit_height) is not None


def _halfway_up(group: _Group, digit_height: float, baseline: float) -> bool:
    """The group's middle lies about halfway up the writing, where a dash is written."""
    middle = (group.y0 + group.y1) / 2
    return baseline - 0.8 * digit_height <= middle <= baseline - 0.2 * digit_height


def _flat(height: float, width: float, digit_height: float) -> bool:
    """A flat bar: a dash, one bar of an equals sign, the rest of an erased line."""
    return height < 0.35 * digit_height and width >= 1.3 * height


def _is_dash(group: _Group, digit_height: float, baseline: float) -> bool:
    """A flat bar about halfway up the writing."""
    return _flat(group.height, group.width, digit_height) and _halfway_up(group, digit_height, baseline)


def _drop_terminal_slash(
    groups: list[_Group], separators: list[_Group], digit_height: float, baseline: float
) -> list[_Group]:
    """An amount closed by "/-" (as amounts are on Indian cheques: "1250/-") ends with a slash
    followed by a dash. Alone, that slash leans no more than a slanted 1, but a straight stroke
    leaning right with a dash just after it, and nothing after that, is the closing mark; so is
    the last of several pieces when it is that mark written in one piece (see :func:`_is_slash_dash`),
    and a slash alone drawn across the line after two digits or more (see :func:`_is_lone_slash`)."""
    if not groups:
        return groups
    last = max(groups, key=lambda g: g.x1)
    # The dash lies right of the slash's middle (the slash's top reaches over its start) and ends
    # past the slash, within TERMINAL_DASH_GAP.
    after = [
        g
        for g in separators
        if _is_dash(g, digit_height, baseline)
        and g.x0 + g.x1 > last.x0 + last.x1
        and last.x1 <= g.x1 <= last.x1 + TERMINAL_DASH_GAP * digit_height
    ]
    if after and _stroke_lean(last, digit_height) >= TERMINAL_SLASH_LEAN:
        groups = [g for g in groups if g is not last]
    if len(groups) > 1 and _is_slash_dash(last := max(groups, key=lambda g: g.x1), digit_height, baseline):
        groups = [g for g in groups if g is not last]
    # A lone slash: after two digits at least (beside one, the digits' height and baseline are its own).
    if len(groups) > 2 and _is_lone_slash(last := max(groups, key=lambda g: g.x1), groups, digit_height, baseline):
        groups = [g for g in groups if g is not last]
    return groups


def _is_lone_slash(group: _Group, groups: list[_Group], digit_height: float, baseline: float) -> bool:
    """A slash closing an amount on its own ("1250/"): one thin straight stroke leaning right,
    taller than the digits and reaching below their baseline, as a slash is written across the line
    (see :data:`LONE_SLASH_LEAN`), and clear of the digits' columns (a 4's stem written apart from
    its arm leans as much); a 1 stands on the line as the other digits do."""
    return (
        group.height >= LONE_SLASH_TALL * digit_height
        and group.y1 >= baseline + LONE_SLASH_BELOW * digit_height
        and _stroke_lean(group, digit_height) >= LONE_SLASH_LEAN
        and not _overlaps_writing(group, groups, digit_height)
    )


def _is_slash_dash(group: _Group, digit_height: float, baseline: float) -> bool:
    """A "/-" written in one piece, its dash touching the slash (a thick pen): the left edge of the
    ink is one straight line leaning right at least :data:`TERMINAL_SLASH_LEAN` (the slash; a 4's
    stem or a 7's bars break it), and what lies right of the slash's stroke is a dash halfway up
    reaching past the slash, with the slash running on below it (:data:`SLASH_BELOW_DASH`). Cut, it
    was read as a 1 and a 6, or whole as a 1."""
    if group.height < 0.6 * digit_height:
        return False
    crop = group.cropped
    rows = np.nonzero(crop.any(axis=1))[0]
    if rows.size < 5:  # too few rows to tell a line's lean (a picture a few pixels tall)
        return False
    left = crop[rows].argmax(axis=1).astype(float)
    # The slash's pen: the narrowest run of ink starting at the left edge in the rows it is alone.
    run = np.array([np.argmin(np.append(crop[r, int(x) :], False)) for r, x in zip(rows, left, strict=True)])
    pen = float(np.percentile(run, 25))
    slope, offset = np.polyfit(rows.astype(float), left, 1)
    wobble = np.median(np.abs(left - (slope * rows + offset)))
    if -slope < math.tan(math.radians(TERMINAL_SLASH_LEAN)) or wobble > SLASH_WOBBLE * digit_height:
        return False
    cols = np.arange(crop.shape[1])[None, :]
    rest = crop & (cols > (slope * np.arange(crop.shape[0]) + offset)[:, None] + 1.5 * pen + 1)
    if rest.sum() < 0.1 * crop.sum():
        return False
    beside = np.zeros_like(group.mask)
    beside[group.y0 : group.y1, group.x0 : group.x1] = rest
    dash = _group(beside)
    if dash is None:
        return False
    # The slash reaches well below its dash: a 2 written with a heavy pen, its base raised and its
    # stroke running on below it, has that shape too, with the stroke short under the base.
    below = (group.y1 - dash.y1) / group.height
    return _is_dash(dash, digit_height, baseline) and dash.x1 >= group.x1 - 1 and below >= SLASH_BELOW_DASH


def _flat_bars(mask: np.ndarray, digit_height: float) -> list[tuple[slice, slice]] | None:
    """The boxes of the pieces of ``mask`` when it is two or more separate flat bars, one above
    another (the pieces of a digit broken apart are not all flat: a 5's or a 7's bar comes with its
    body or stem); else ``None``."""
    labels, count = ndi.label(mask, structure=np.ones((3, 3)))
    if count < 2:
        return None
    boxes = ndi.find_objects(labels)
    flat = all(_flat(rows.stop - rows.start, cols.stop - cols.start, digit_height) for rows, cols in boxes)
    return boxes if flat else None


def _is_hash(group: _Group, digit_height: float) -> bool:
    """A hash sign (#), as written before or after an amount: no wider than HASH_ASPECT digit
    heights, crossed between its ends by two separate bars that each run across most of its width.
    Cut down the middle, its halves read as a confident 1, 4 or 7; two touching digits narrow enough
    to be mistaken for it have one such bar at most (a 7's, a 2's foot). One digit may pass for it
    (a fat 8, 1% of MNIST's test digits): kept whole, it is still read."""
    if group.width > HASH_ASPECT * digit_height:
        return False
    box = group.cropped
    bar = math.ceil(max(HASH_BAR_SHARE * group.width, HASH_BAR_LENGTH * digit_height))
    bars, count = ndi.label(long_runs(box, bar).any(axis=1))
    # The bars cross the strokes between their ends (a 0's top and bottom arcs lie at its ends).
    centres = [c for (c,) in ndi.center_of_mass(np.ones(len(box)), bars, range(1, count + 1))]
    centres = [c for c in centres if 0.2 * len(box) <= c <= 0.8 * len(box)]
    return len(centres) >= 2 and max(centres) - min(centres) >= HASH_BAR_GAP * digit_height


def _whole_hash(pieces: list[_Group], digit_height: float) -> list[_Group]:
    """A hash sign touching the first digit ("#37") is cut with it into a 1 and a 4 before that digit
    ("1437"): the first two pieces make one again when together they are a hash (:func:`_is_hash`).
    Only before the number: after it, two heavy 1s touching passed for one, and no # there was cut.
    ``pieces`` are left to right, as :func:`_split` gives them."""
    if _is_hash(joined := _merge(pieces[0], pieces[1]), digit_height):
        return [joined, *pieces[2:]]
    return pieces


def _is_tall_stroke(group: _Group, digits: list[_Group], digit_height: float) -> bool:
    """One straight thin stroke much taller than the digits (:data:`TALL_STROKE`), ``digits`` and
    every other of them: the side of a box drawn round them, not a 1."""
    tallest = max((g.height for g in digits if g is not group), default=0)
    return (
        group.height >= TALL_STROKE * digit_height
        and group.height >= TALL_STROKE_OVER * tallest
        and _stroke_lean(group, digit_height) >= 0
    )


def _is_sliver(group: _Group, digit_height: float) -> bool:
    """What cutting and merging can leave behind that is no digit: a flat sliver (the rest of an
    erased line, a bar cut off a digit), a hairline (the edge of an erased border), or flat bars a
    digit height apart or more (what is left of a cell's top and bottom lines: a faint digit broken
    into flat pieces is no taller than the digits beside it)."""
    if _flat(group.height, group.width, digit_height) or group.width <= max(1.0, 0.04 * digit_height):
        return True
    bars = _flat_bars(group.cropped, digit_height)
    if bars is None:
        return False
    centres = [(rows.start + rows.stop) / 2 for rows, _ in bars]
    return max(centres) - min(centres) >= digit_height


def _bow(group: _Group, digit_height: float) -> float:
    """How far the middle of a bracket-like stroke lies left of the straight line between its ends,
    in shares of its height (negative: right of it); 0 for any other shape, or a straighter stroke
    (see :data:`BRACKET_BOW`)."""
    box = group.cropped
    h = box.shape[0]
    if h < BRACKET_HEIGHT * digit_height or group.width > BRACKET_WIDTH * max(h, digit_height) or h < 7:
        return 0.0
    # One stroke: nearly every row crosses it once (a narrow 0 twice), and none runs along a row for
    # long (a 7's or a 5's bar).
    runs = (np.diff(box.astype(np.int8), axis=1, prepend=0) == 1).sum(axis=1)
    counts = box.sum(axis=1)
    if np.mean(runs == 1) < BRACKET_ONE_RUN or np.percentile(counts, 95) > BRACKET_RUN * np.median(counts):
        return 0.0
    rows, centres = _row_centres(box)
    band = max(1, h // 7)

    def at(start: int, stop: int) -> float:  # the mean centre of the inked rows in [start, stop)
        among = (rows >= start) & (rows < stop)
        return float(centres[among].mean()) if among.any() else np.nan

    middle = at((h - band) // 2, (h + band) // 2 + 1)
    bow = ((at(0, band) + at(h - band, h)) / 2 - middle) / h
    return 0.0 if math.isnan(bow) or abs(bow) < BRACKET_BOW else bow


def _drop_label(digits: list[_Group], digit_height: float, marks: list[_Group]) -> list[_Group]:
    """Drop a label printed before the number (see :data:`LABEL_HEIGHT`): its letters are smaller
    than handwritten digits and close together, and a T or an I reads as a 1. Its small letters
    (an o, an m) and its stops were taken for ``marks`` (dots, dashes); they still stand in its gaps,
    and count among its pieces when they are as tall as letters (:data:`LABEL_MARK`)."""
    heights = [g.height for g in digits]
    small = 0
    while small < len(digits) - 1 and heights[small] < LABEL_HEIGHT * float(np.percentile(heights[small + 1 :], 75)):
        small += 1
    # The label ends before one of the small pieces: the last after which the gap is a label's (the
    # first digit may be small too).
    for k in range(small, 0, -1):
        start = digits[k].x0
        inside = [m for m in marks if m.x1 <= start]
        letter = LABEL_MARK * min(heights[:k])
        letters = k + sum(m.height >= letter for m in inside)
        if letters < 2:
            continue
        spans = sorted((g.x0, g.x1) for g in [*digits[:k], *inside])
        ends = np.maximum.accumulate([x1 for _, x1 in spans])
        gaps = [x0 - end for (x0, _), end in zip(spans[1:], ends[:-1], strict=True)]
        after = start - ends[-1]
        if after >= LABEL_GAP * digit_height and not any(LABEL_APART * gap > after for gap in gaps):
            return digits[k:]
    return digits


def _drop_percent(digits: list[_Group], digit_height: float, marks: list[_Group]) -> list[_Group]:
    """Drop a percent sign written after the number (see :data:`PERCENT_RING` and
    :func:`_is_slashed_ring`)."""
    if len(digits) >= 2 and _is_slashed_ring(digits[-1], digit_height, marks):
        return digits[:-1]
    if len(digits) >= 3 and _is_slashed_ring(_merge(digits[-2], digits[-1]), digit_height, marks):
        return digits[:-2]  # cut in two as touching digits (a 9 and a 6)

    def ring(g: _Group) -> bool:
        return max(g.height, g.width) < PERCENT_RING * digit_height

    def over(g: _Group, slash: _Group) -> bool:  # most of g's columns are the slash's too
        return min(g.x1, slash.x1) - max(g.x0, slash.x0) >= 0.5 * g.width

    end = len(digits)
    if end >= 3 and ring(digits[-1]) and digits[-1].y0 >= (digits[-2].y0 + digits[-2].y1) / 2:
        end -= 1  # the low circle, apart from the slash
        if not over(digits[-1], digits[-2]):
            return digits
    if end < 2:
        return digits
    high, slash = digits[end - 2], digits[end - 1]
    if not (
        ring(high)
        and over(high, slash)
        and slash.height >= 0.6 * digit_height
        and high.y1 <= slash.y0 + 0.5 * slash.height
        and high.x0 + high.x1 < slash.x0 + slash.x1
    ):
        return digits
    box = slash.cropped
    band = max(1, slash.height // 4)
    top, foot = np.nonzero(box[:band])[1], np.nonzero(box[-band:])[1]
    # The slash's top is right of its foot; a low circle joined to it pulls its foot's ink right.
    if top.size == 0 or foot.size == 0 or top.mean() - foot.min() < PERCENT_LEAN * slash.height:
        return digits
    return digits[: end - 2]


def _is_slashed_ring(group: _Group, digit_height: float, marks: list[_Group]) -> bool:
    """A percent sign whose circles may be filled (a marker, a soft pencil) or open: a straight
    stroke from the top right of the piece to its bottom left, leaning right (see
    :data:`PERCENT_LEAN`), continuously inked, with a small round piece high on its left and one low
    on its right (see :data:`PERCENT_RING` and :data:`PERCENT_HIGH`), each either part of the piece
    or a mark beside it (a small or filled circle apart from the slash was taken for a full stop)."""
    h, w = group.height, group.width
    if h < 0.6 * digit_height or w > PERCENT_WIDTH * max(h, digit_height):
        return False
    box = group.cropped
    band = max(1, h // 8)
    # The runs of inked columns in the top and bottom bands, left to right.
    tops = ndi.find_objects(ndi.label(box[:band].any(axis=0))[0])
    feet = ndi.find_objects(ndi.label(box[-band:].any(axis=0))[0])
    if not tops or not feet:
        return False
    (right,), (left,) = tops[-1], feet[0]  # the rightmost ink at the top, the leftmost at the foot
    top = np.array([(right.start + right.stop - 1) / 2, band / 2])
    foot = np.array([(left.start + left.stop - 1) / 2, h - band / 2])
    if top[0] - foot[0] < PERCENT_LEAN * h:
        return False
    along = np.linspace(0, 1, 25)[:, None] * (foot - top) + top
    rows = np.clip(np.rint(along[:, 1]).astype(int), 0, h - 1)
    cols = np.clip(np.rint(along[:, 0]).astype(int), 0, w - 1)
    inked = box[rows, cols]
    if inked.mean() < SLASH_INKED:
        return False
    half_pen = float(np.median(ndi.distance_transform_edt(box)[rows, cols][inked]))
    unit = (foot - top) / np.linalg.norm(foot - top)

    def side(x: np.ndarray | float, y: np.ndarray | float) -> Any:  # < 0 left of the slash, > 0 right
        return (x - top[0]) * unit[1] - (y - top[1]) * unit[0]

    yy, xx = np.mgrid[0:h, 0:w]
    rest = box & (np.abs(side(xx, yy)) > SLASH_BAND * half_pen + 1)
    labels, count = ndi.label(rest, structure=np.ones((3, 3)))
    sizes = ndi.sum(rest, labels, range(1, count + 1)) if count else np.zeros(0)
    pieces = [
        _Group(labels == k + 1, ys.start, ys.stop, xs.start, xs.stop)
        for k, (ys, xs) in enumerate(ndi.find_objects(labels))
        if sizes[k] >= 0.2 * sizes.max()
    ]

    def ring(piece: _Group, dx: int = 0, dy: int = 0) -> tuple[float, float] | None:
        """Where a small round piece lies: its centre's height in the box, its side of the slash."""
        across, long = min(piece.height, piece.width), max(piece.height, piece.width)
        if not (0.15 * digit_height <= long < PERCENT_RING * digit_height and across >= 0.35 * long):
            return None
        y, x = (piece.y0 + piece.y1) / 2 - dy, (piece.x0 + piece.x1) / 2 - dx
        return y / h, side(x, y)

    found = [ring(p) for p in pieces]
    if len(found) > 2 or None in found:
        return False
    # A circle apart from the slash, filled or small, may have been taken for a full stop.
    beside = [m for m in marks if group.x0 - 0.1 * digit_height <= m.x0 and m.x1 <= group.x1 + 0.3 * digit_height]
    found += [f for f in (ring(m, group.x0, group.y0) for m in beside) if f is not None]
    high = [f for f in found if f[0] < PERCENT_HIGH and f[1] < 0]
    low = [f for f in found if 1 - PERCENT_HIGH < f[0] < PERCENT_LOW_MARK and f[1] > 0]
    return len(high) == 1 and len(low) >= 1


def _is_percent_sign(group: _Group, digit_height: float) -> bool:
    """A percent sign written as one piece (see :data:`PERCENT_WIDTH`)."""
    if group.width > PERCENT_WIDTH * digit_height or group.height < 0.6 * digit_height:
        return False
    box = group.cropped
    holes, count = ndi.label(ndi.binary_fill_holes(box) & ~box)
    if count < 2:
        return False
    found = ndi.find_objects(holes)
    if any(max(rows.stop - rows.start, cols.stop - cols.start) >= PERCENT_HOLE * digit_height for rows, cols in found):
        return False
    # The highest and the lowest hole, as (row, column) of their centres in shares of the box.
    (top, left), *_, (bottom, right) = sorted(
        ((rows.start + rows.stop) / 2 / group.height, (cols.start + cols.stop) / 2 / group.width)
        for rows, cols in found
    )
    if not (top < 0.4 and bottom > 0.6 and right - left >= PERCENT_APART):
        return False
    # The slash's ends fill the top right and the bottom left corners (an 8's loops leave them empty).
    rows, cols = max(1, group.height // 5), max(1, group.width * 3 // 10)
    return bool(box[:rows, -cols:].any() and box[-rows:, :cols].any())


def _drop_off_the_line(digits: list[_Group]) -> list[_Group]:
    """Drop pieces at either end that stand above or below the line their neighbour is written on:
    a mark or the corner of a page edge beside the number, not its first or last digit."""
    digits = list(digits)
    for end, neighbour in ((0, 1), (-1, -2)):
        while len(digits) > 1:
            piece, other = digits[end], digits[neighbour]
            shared = min(piece.y1, other.y1) - max(piece.y0, other.y0)
            if shared >= OFF_LINE_SHARE * min(piece.height, other.height):
                break
            del digits[end]
    return digits


def _overlaps_writing(group: _Group, groups: list[_Group], digit_height: float) -> bool:
    """A tall stroke reaching well into a digit's columns is part of it (the slanted stem of a 4
    written apart from its arm), not a slash or a dash between two digits."""
    if group.height < 0.6 * digit_height:
        return False
    for other in groups:
        if other is group or other.height < 0.3 * digit_height:
            continue
        overlap = min(group.x1, other.x1) - max(group.x0, other.x0)
        # Well into: a 1's flag just touching a slash's foot is no part of it (2 px of a 47 px slash).
        if overlap >= max(0.3 * min(group.width, other.width), 0.15 * digit_height):
            return True
    return False


@dataclass(frozen=True)
class _Cut:
    """A straight cut line through a group: x = ``x`` + ``slope`` · (y − ``yc``), in image pixels.

    ``crossings`` is how many strokes the line crosses (runs of ink along it): 0 between separate
    digits, 1 where two digits touch, 2 or more through the loop of a 0, 6, 8 or 9.
    """

    x: float
    slope: float
    yc: float
    crossings: int

    def at(self, rows: np.ndarray) -> np.ndarray:
        return self.x + self.slope * (rows - self.yc)


def _crossings(mask: np.ndarray, cut: _Cut, y0: int, y1: int) -> int:
    rows = np.arange(y0, y1)
    cols = np.clip(np.round(cut.at(rows)).astype(int), 0, mask.shape[1] - 1)
    # A stroke crossed at a slant covers a pixel or two beside the line: look one pixel each side.
    on = mask[rows, cols] | mask[rows, np.clip(cols - 1, 0, mask.shape[1] - 1)]
    on = on | mask[rows, np.clip(cols + 1, 0, mask.shape[1] - 1)]
    return int(np.count_nonzero(np.diff(on.astype(np.int8), prepend=0) == 1))


def _cut_candidates(mask: np.ndarray, group: _Group, digit_height: float) -> list[_Cut]:
    """Straight cuts, vertical or slanted like the writing, through little ink: for each slant, the
    minima of the ink projected along it; the best few, spread out, sorted left to right.

    Slanted cuts separate slanted touching digits that no vertical line can (Casey & Lecolinet,
    1996, §3: "dissection" along the writing's slant).
    """
    ys, xs = np.nonzero(mask[group.y0 : group.y1, group.x0 : group.x1])
    if ys.size == 0:
        return []
    yc = (group.height - 1) / 2
    margin = max(1, int(MIN_PIECE_ASPECT * digit_height))
    spacing = max(2, int(0.15 * digit_height))
    found: list[tuple[float, float, float]] = []  # (ink on the cut, x in group coordinates, slope)
    for slope in CUT_SLOPES:
        shifted = np.round(xs - slope * (ys - yc)).astype(int)  # (N,) the column each pixel projects to
        offset = int(shifted.min())
        columns = np.bincount(shifted - offset).astype(float)
        smooth = ndi.uniform_filter1d(columns, size=3, mode="constant")
        for c in range(1, len(smooth) - 1):
            x = c + offset
            if not margin <= x <= group.width - margin:
                continue
            if smooth[c] <= smooth[c - 1] and smooth[c] <= smooth[c + 1]:
                found.append((smooth[c] + 0.5 * abs(slope), float(x), slope))  # vertical wins ties
    found.sort()
    chosen: list[tuple[float, float]] = []
    for _ink, x, slope in found:
        if all(abs(x - other) >= spacing for other, _ in chosen):
            chosen.append((x, slope))
        if len(chosen) >= max(MAX_CUT_CANDIDATES, round(CUTS_PER_HEIGHT * group.width / digit_height)):
            break
    cuts = []
    for x, slope in sorted(chosen):
        cut = _Cut(group.x0 + x, slope, group.y0 + yc, 0)
        cuts.append(_Cut(cut.x, slope, cut.yc, _crossings(mask, cut, group.y0, group.y1)))
    return cuts


def _piece(group: _Group, left: _Cut | None, right: _Cut | None) -> _Group | None:
    """The ink of ``group`` between two cut lines (``None``: the group's own edge)."""
    y0, y1, x0, x1 = group.y0, group.y1, group.x0, group.x1
    rows = np.arange(y0, y1)[:, None]
    cols = np.arange(x0, x1)[None, :]
    piece = group.cropped.copy()  # the work stays in the group's box: the cut search makes many pieces
    if left is not None:
        piece &= cols >= left.at(rows)
    if right is not None:
        piece &= cols < right.at(rows)
    # A cut through a slanted neighbour leaves slivers of it behind; drop them.
    labels, count = ndi.label(piece, structure=np.ones((3, 3)))
    if count > 1:
        areas = ndi.sum(piece, labels, index=np.arange(1, count + 1))
        keep = np.concatenate([[False], areas >= 0.1 * areas.max()])
        piece = keep[labels]
    found = _group(piece)
    if found is None:
        return None
    mask = np.zeros_like(group.mask)
    mask[y0:y1, x0:x1] = piece
    return _Group(mask, y0 + found.y0, y0 + found.y1, x0 + found.x0, x0 + found.x1)


def _width_prior(width: float, digit_height: float) -> float:
    """Log-prior of a piece's width: a piece wider than a digit is unlikely to be one digit."""
    aspect = width / digit_height
    return -4.0 * max(0.0, aspect - MAX_DIGIT_ASPECT)


def _height_prior(height: float, digit_height: float) -> float:
    """Log-prior of a piece's height: a piece much shorter than the line's digits is unlikely to be one."""
    return -6.0 * max(0.0, MIN_DIGIT_HEIGHT - height / digit_height)


def _cut_cost(cut: _Cut, scale: float = 1.0) -> float:
    """Log-cost of cutting here: every cut costs, and every stroke past the first one it crosses
    costs more (cutting a 0 down the middle crosses two strokes and leaves two believable 1s)."""
    return scale * (CUT_PENALTY + CROSSING_PENALTY * max(0, cut.crossings - 1))


def _beliefs(score: Score, images: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``score`` of ``images`` (see :data:`Score`): each one's confidence, and its two likeliest
    digits' probabilities together (the confidence again when ``score`` gives only that)."""
    values = np.asarray(score(images), dtype=float)
    if values.ndim == 2:
        return values[:, 0], values[:, 1]
    return values, values


def _split(
    ink: InkMap,
    mask: np.ndarray,
    group: _Group,
    digit_height: float,
    score: Score | None,
    baseline: float,
    ends: tuple[bool, bool],
) -> list[_Group]:
    """Cut a group into the digits it holds (itself when it is one digit).

    Candidate cuts come from :func:`_cut_candidates`; every run of pieces between them is scored
    (classifier confidence × width prior, or width alone without a classifier), and a dynamic
    program over the cut points picks the best set of cuts, each paying :func:`_cut_cost` (less when
    the classifier hardly believes the whole group is one digit, or, at an end of the line, is unsure
    of it: :data:`UNSURE_WHOLE`, :data:`UNSURE_END`). When the group begins or ends the
    line (``ends``), an equals sign written touching its first or last digit ("=4", "125=") or a
    dash before the first is a mark: cut off, that piece pays for its own cut instead of being read
    as a digit (whole, "=4" reads as a confident 7). Not a dash after the last: the "/" of a "/-"
    whose dash is cut off is left to be read as a 1. A mark written touching the first or last digit
    is cut off it after the search (see :func:`_mark_cut_off`).
    """
    aspect = group.width / digit_height
    if aspect < (MIN_SPLIT_ASPECT if score else MAX_DIGIT_ASPECT):
        return [group]
    cuts = _cut_candidates(mask & group.mask, group, digit_height)
    if not cuts:
        return [group]
    points: list[_Cut | None] = [None, *cuts, None]
    last = len(points) - 1
    xs = [float(group.x0), *(c.x for c in cuts), float(group.x1)]
    min_width = MIN_PIECE_ASPECT * digit_height
    max_width = 1.6 * digit_height
    spans = [
        (i, j)
        for i in range(len(points))
        for j in range(i + 1, len(points))
        if min_width <= xs[j] - xs[i] <= max_width or (i == 0 and j == last)
    ]
    pieces = {span: _piece(group, points[span[0]], points[span[1]]) for span in spans}
    spans = [span for span in spans if pieces[span] is not None]
    whole = whole_two = 1.0  # the classifier's belief in the group as one digit, and in its two likeliest
    if score is not None:
        images = [ink_to_mnist(_soft(ink, pieces[span])) for span in spans]
        beliefs, top_twos = _beliefs(score, images)
        confidences = dict(zip(spans, map(float, beliefs), strict=True))
        value = {
            span: math.log(max(c, 1e-6)) + _width_prior(pieces[span].width, digit_height)
            for span, c in confidences.items()
        }
        twos = dict(zip(spans, map(float, top_twos), strict=True))
        whole = confidences.get((0, last), 1.0)
        whole_two = twos.get((0, last), 1.0)
    else:
        # Without a classifier: prefer pieces of typical digit width (0.7 heights).
        value = {
            span: -abs(pieces[span].width / digit_height - 0.7) + _width_prior(pieces[span].width, digit_height)
            for span in spans
        }

    def cost(cut: _Cut) -> float:
        # A group hardly believable as one digit is probably more (see UNSURE_WHOLE): cutting costs
        # less; at an end of the line (UNSURE_END), only cuts crossing a single stroke (a loop cut
        # in two still pays in full).
        cheap = whole < UNSURE_WHOLE or (any(ends) and whole_two < UNSURE_END and cut.crossings <= 1)
        return _cut_cost(cut, UNSURE_CUT_SCALE if cheap else 1.0)

    for i, j in spans:
        at_an_end = (i == 0 < j < last and ends[0]) or (0 < i < j == last and ends[1])
        if at_an_end and (
            _is_bar_mark(pieces[(i, j)], group, digit_height, baseline, dash=i == 0)
            or _is_touching_bracket(pieces[(i, j)], group, digit_height, opening=i == 0)
        ):
            value[(i, j)] = cost(points[j if i == 0 else i])  # a mark: it pays for its cut
    # Best path from the first point to the last through the cut points (dynamic programming).
    best: dict[int, tuple[float, list[tuple[int, int]]]] = {0: (0.0, [])}
    for j in range(1, len(points)):
        options = [
            (best[i][0] + value[(i, j)] - (cost(points[i]) if i > 0 else 0.0), [*best[i][1], (i, j)])
            for i in range(j)
            if i in best and (i, j) in value
        ]
        if options:
            best[j] = max(options, key=lambda option: option[0])
    if last not in best:
        return [group]
    path = best[last][1]
    if score is not None:
        path = _mark_cut_off(path, pieces, confidences, twos, digit_height, ends)
    return [pieces[span] for span in path]


def _mark_cut_off(
    path: list[tuple[int, int]],
    pieces: dict[tuple[int, int], _Group],
    confidences: dict[tuple[int, int], float],
    twos: dict[tuple[int, int], float],
    digit_height: float,
    ends: tuple[bool, bool],
) -> list[tuple[int, int]]:
    """``path`` (the spans :func:`_split` chose) with a mark written touching the first or last
    digit cut off it: a piece at an end of the line wider than any mark (:data:`MARK_TOUCHING_WIDE`)
    that the classifier cannot read (its two likeliest under :data:`UNSURE_END`: `read` would leave
    it out whole), whose outer part reads as no digit (:data:`MARK_TOUCHING_FLAT`) and whose inner
    part reads as one (:data:`MARK_TOUCHING_DIGIT`)."""
    for first in (True, False):
        if not ends[0 if first else 1]:
            continue
        i, j = path[0] if first else path[-1]
        if twos.get((i, j), 1.0) >= UNSURE_END or pieces[(i, j)].width < MARK_TOUCHING_WIDE * digit_height:
            continue
        options = []
        for m in range(i + 1, j):
            outer, inner = ((i, m), (m, j)) if first else ((m, j), (i, m))
            if (
                outer in twos
                and inner in confidences
                and twos[outer] < MARK_TOUCHING_FLAT
                and pieces[outer].width <= MARK_TOUCHING_NARROW * digit_height
                and confidences[inner] >= MARK_TOUCHING_DIGIT
            ):
                options.append((confidences[inner], outer, inner))
        if options:
            _, outer, inner = max(options)
            path = [outer, inner, *path[1:]] if first else [*path[:-1], inner, outer]
    return path


def _merge_by_recognition(ink: InkMap, digits: list[_Group], digit_height: float, score: Score) -> list[_Group]:
    """Join neighbouring pieces that read better as one digit than as two: a 4 or a 5 written in
    two strokes that do not touch, a stroke parted by an erased ruled line, a fragment beside its
    digit. ``digits`` are sorted left to right; the most believable merge is made first, then the
    next, until no merge pays ``MERGE_PENALTY``."""
    while len(digits) > 1:
        pairs = []
        for k in range(len(digits) - 1):
            a, b = digits[k], digits[k + 1]
            gap = max(a.x0, b.x0) - min(a.x1, b.x1)
            joined = _merge(a, b)
            if (
                gap <= MERGE_GAP * digit_height
                and joined.width <= MAX_MERGED_ASPECT * max(digit_height, joined.height)
                and joined.height <= 1.6 * digit_height
            ):
                pairs.append((k, joined))
        if not pairs:
            break
        involved = sorted({k for k, _ in pairs} | {k + 1 for k, _ in pairs})
        confidences, _ = _beliefs(
            score,
            [ink_to_mnist(_soft(ink, digits[k])) for k in involved]
            + [ink_to_mnist(_soft(ink, joined)) for _, joined in pairs],
        )
        single = {
            k: math.log(max(c, 1e-6)) + _height_prior(digits[k].height, digit_height)
            for k, c in zip(involved, confidences[: len(involved)], strict=True)
        }
        gains = [
            (math.log(max(c, 1e-6)) - MERGE_PENALTY - single[k] - single[k + 1], k, joined)
            for (k, joined), c in zip(pairs, confidences[len(involved) :], strict=True)
            if c >= MERGE_MIN_CONFIDENCE
        ]
        if not gains:
            break
        gain, k, joined = max(gains, key=lambda item: item[0])
        if gain <= 0:
            break
        digits = [*digits[:k], joined, *digits[k + 2 :]]
    return digits


def _drop_faint(ink: InkMap, digits: list[_Group]) -> list[_Group]:
    """Drop pieces much fainter than the number's strongest digit (see :data:`FAINT_SHARE`): the
    median of each piece's soft ink, which is 1 wherever the ink is as dark as the picture's median
    writing."""
    if len(digits) < 2:
        return digits
    strength = [float(np.median(ink.ink[g.mask])) for g in digits]
    strongest = max(strength)
    return [g for g, st in zip(digits, strength, strict=True) if st >= FAINT_SHARE * strongest]


def _soft(ink: InkMap, group: _Group) -> np.ndarray:
    """The anti-aliased ink of one group (with a one-pixel rim for soft edges), cropped to it."""
    y0, y1 = max(0, group.y0 - 1), group.y1 + 1
    x0, x1 = max(0, group.x0 - 1), group.x1 + 1
    rim = ndi.binary_dilation(group.mask[y0:y1, x0:x1], structure=np.ones((3, 3), dtype=bool))
    return np.where(rim, ink.ink[y0:y1, x0:x1], 0.0).astype(np.float32)


def _writing(mask: np.ndarray) -> tuple[np.ndarray, list[_Group], np.ndarray]:
    """The ink with lines, boxes, the frame's edges and specks removed, its connected pieces
    (without what shows of the lines of writing above and below), and the lines erased that were
    found tilted."""
    height = mask.shape[0]
    mask, tilted = _remove_number_lines(mask)
    # A box drawn around a short number is too short to be found as lines: erase closed boxes too,
    # and the dividers of a short comb field (an old register page of tuning seed 2: a 0 touching
    # the divider made one piece with it, read as no digit: '70' read '7').
    mask = _remove_boxes(mask, cells=True)
    mask = _keep_edge_ones(mask, _drop_frame_fragments(_drop_frame_edges(mask, depth_unit=height)))
    mask = _drop_specks(mask, speck_size(mask.shape))
    mask, groups = _remove_underlines(mask, _components(mask))
    return mask, _drop_other_rows(groups, height), tilted


def _remove_underlines(mask: np.ndarray, groups: list[_Group]) -> tuple[np.ndarray, list[_Group]]:
    """``mask`` without the underlines drawn by hand under its writing (see :data:`UNDERLINE_LENGTH`),
    and its pieces (``groups``, the pieces before, when there were none)."""
    if not groups:
        return mask, groups
    digit_height = _digit_height(groups)
    lines = find_lines(
        mask,
        True,
        max(3, round(UNDERLINE_MIN_LENGTH * digit_height)),
        max(1.5, UNDERLINE_THICKNESS * digit_height),
        gap=max(1, round(0.03 * digit_height)),
    )
    if not lines:
        return mask, groups
    whole, _ = ndi.label(mask, structure=np.ones((3, 3)))
    underlines = [pixels for line in lines if (pixels := _underline(mask, whole, line, digit_height)) is not None]
    if not underlines:
        return mask, groups
    for pixels in underlines:
        mask = mask & ~pixels
    mask = _drop_specks(mask, speck_size(mask.shape))
    return mask, _components(mask)


def _underline(mask: np.ndarray, whole: np.ndarray, line: Line, digit_height: float) -> np.ndarray | None:
    """The pixels of ``line`` (found level) when it runs under writing as an underline does (see
    :data:`UNDERLINE_LENGTH`), else ``None``. ``whole``: the mask's connected pieces, labelled."""
    course = thin_course(mask, line).pixels
    rows = np.nonzero(course.any(axis=1))[0]
    if rows.size == 0 or rows[-1] >= mask.shape[0] - 1:  # none, or the foot of digits cut tightly
        return None
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    labels, _ = ndi.label(mask & ~course, structure=np.ones((3, 3)))
    window = labels[max(0, top - round(UNDERLINE_ABOVE * digit_height)) : top, line.start : line.stop]
    objects = ndi.find_objects(labels)
    resting: dict[int, tuple[slice, ...]] = {}
    crossing = 0
    for index in np.unique(window[window > 0]):
        piece = objects[index - 1]
        if piece[0].stop - piece[0].start < UNDERLINE_WRITING * digit_height:
            continue  # a crumb
        if 2 * (min(piece[1].stop, line.stop) - max(piece[1].start, line.start)) < piece[1].stop - piece[1].start:
            continue  # mostly beside it: the digit before the cents an underline starts under
        if piece[0].stop > bottom + max(1.0, UNDERLINE_DEPTH * digit_height):
            crossing += 1  # a stroke going on below it: a 4's stem under its bar, a 9's tail
        elif piece[0].stop >= top - UNDERLINE_GAP * digit_height:  # not the line of writing above
            resting[int(index)] = piece
    # A small piece beside a taller one is what erasing the line's course broke off that digit (the
    # loop at a 2's foot, its base's end turned up), not writing of its own.
    resting = {index: piece for index, piece in resting.items() if not _broken_off(piece, resting, digit_height)}
    if not resting or (crossing and len(resting) < 2):
        return None
    own = set(np.unique(whole[course]).tolist())

    def touches(index: int) -> bool:
        return bool(own & set(np.unique(whole[labels == index]).tolist()))

    # A digit's bar has its stem hanging from it (a 7's, under the line of writing above).
    below = labels[bottom : bottom + round(UNDERLINE_ABOVE * digit_height), line.start : line.stop]
    for index in np.unique(below[below > 0]):
        piece = objects[index - 1]
        if piece[0].start >= top - 1 and piece[0].stop - bottom >= UNDERLINE_WRITING * digit_height and touches(index):
            return None
    # Touching the writing, it may be a digit's own foot: under one piece, that piece's (a 2's);
    # under more, running on under the digit after it (a 2's under the 0 after it) it does not
    # reach past the pieces on it at both ends.
    first = min(piece[1].start for piece in resting.values())
    last = max(piece[1].stop for piece in resting.values())
    past = UNDERLINE_PAST * digit_height
    reaches_past = line.start <= first - past and line.stop >= last + past
    if (len(resting) == 1 or not reaches_past) and any(touches(index) for index in resting):
        return None
    length = line.stop - line.start
    tall = top - min(piece[0].start for piece in resting.values())
    widest = max(piece[1].stop - piece[1].start for piece in resting.values())
    # Under one piece only, the run may be that digit's own foot (a 2's): it must be longer, and
    # the piece a whole digit.
    if len(resting) == 1 and tall < UNDERLINE_LONE_TALL * digit_height:
        return None
    least = UNDERLINE_LENGTH if len(resting) > 1 else UNDERLINE_LONE
    if length < least * tall or length < UNDERLINE_WIDER * widest:
        return None
    # Drawn with the writing's pen, not what is left of a printed line (a pixel or two wide).
    # find_lines keeps only the long runs of its rows, which a hand's line, never quite straight,
    # does not fill to the pen's width: grown to the ink round them, the line goes whole.
    pen = stroke_width(mask.astype(np.float32))
    if line.thickness < UNDERLINE_PEN * pen:
        return None
    grown = ndi.binary_dilation(
        line.pixels, structure=np.ones((3, 1), bool), iterations=math.ceil(max(pen, line.thickness))
    )
    return thin_course(mask, replace(line, pixels=grown & mask), resting=True).pixels | course


def _broken_off(piece: tuple[slice, ...], resting: dict[int, tuple[slice, ...]], digit_height: float) -> bool:
    """Whether ``piece``, standing on an underline, is a part of a taller piece standing on it (see
    :data:`UNDERLINE_PIECE`)."""
    height = piece[0].stop - piece[0].start
    near = UNDERLINE_NEAR * digit_height
    return height < UNDERLINE_PIECE * digit_height and any(
        other[0].stop - other[0].start > height
        and piece[1].start < other[1].stop + near
        and other[1].start < piece[1].stop + near
        for other in resting.values()
    )


def _ink_and_writing(
    grey: np.ndarray, dark_on_light: bool | None
) -> tuple[InkMap, np.ndarray, list[_Group], np.ndarray | None, np.ndarray]:
    """The ink of a picture of a line of writing, the writing in it and its pieces (see
    :func:`_writing`), the printed lines left out of the threshold's statistics (``None`` when
    none were), and the lines erased that were found tilted.

    No floor relative to the darkest writing here: faint comb fields and ruled lines must stay
    whole to be found and removed (77.5% vs 73.5% exact strings on benchmarks/realistic.py, n = 200).
    The window is not widened for thick strokes here: on lines of digits, where blur merges
    neighbours into wide blobs, it cost as much as it gained (benchmarks/realistic.py). Printed lines
    much darker than faint writing take Otsu's threshold for themselves (it parts them from
    everything else): when the writing left is tiny beside what was erased, look again with the
    lines left out of the threshold's statistics (see :data:`~digitocr.preprocess.LINES_DOMINATE`).
    """
    ink = extract_ink(grey, peak_share=0.0, thick_strokes=False, dark_on_light=dark_on_light)
    if ink.blank:
        return ink, ink.mask, [], None, np.zeros_like(ink.mask)
    mask, groups, tilted = _writing(ink.mask)
    erased = ink.mask & ~mask
    if mask.sum() < LINES_DOMINATE * erased.sum():
        lines = ndi.binary_dilation(erased, iterations=2)
        fainter = extract_ink(grey, peak_share=0.0, thick_strokes=False, dark_on_light=ink.dark_on_light, ignore=lines)
        if not fainter.blank:
            again, pieces, turned = _writing(fainter.mask)
            if again.sum() > mask.sum():
                return replace(fainter, polarity_sure=ink.polarity_sure), again, pieces, lines, turned
    return ink, mask, groups, None, tilted


def _ink_and_writing_again(
    loaded: LoadedImage, ink: InkMap
) -> tuple[InkMap, np.ndarray, list[_Group], np.ndarray | None, np.ndarray]:
    """:func:`_ink_and_writing` of ``loaded``, a picture sharpened or turned level from the one
    ``ink`` was found on: read with the same polarity, and as sure of it."""
    again, mask, groups, lines, tilted = _ink_and_writing(loaded.grey, ink.dark_on_light)
    return replace(again, polarity_sure=ink.polarity_sure), mask, groups, lines, tilted


def _union(groups: list[_Group]) -> np.ndarray:
    """The pixels of all ``groups`` (not empty), as one mask."""
    union = np.zeros_like(groups[0].mask)
    for g in groups:
        union |= g.mask
    return union


def _turn_of_writing(groups: list[_Group], lines: np.ndarray | None = None) -> float | None:
    """How far the line of writing is turned from level (radians, clockwise), or ``None`` when it
    runs level or is too short to tell.

    The writing's direction is the one along which its ink piles up most sharply: the projection
    profile across it (a histogram of the ink's distance from a line in that direction, one pixel
    a bin) has the largest sum of squares, the classic estimate of a document's skew (searched
    every :data:`TURN_STEP` degrees up to :data:`MAX_TURN`, then every 0.1 degree round the best).
    Rules and a comb's box, turned with the writing, sharpen it. The turn is trusted only when it
    is :data:`MIN_TURN` degrees or more, the writing is :data:`TURN_MIN_LENGTH` times as long as the
    band holding 90% of its ink and :data:`TURN_MIN_DIGITS` digit heights long (the strokes of one
    or two digits pile up along a bar or a stem at any angle; a comb's box still round the digits,
    turned too far for the line rules to find, is left out of the digit height), the profile is
    :data:`TURN_MIN_GAIN` times as sharp turned as level, and the band :data:`TURN_MIN_NARROWING`
    times as wide level as turned. ``lines``: the pixels of printed lines found tilted and erased
    (a comb or a ruled line turned with the writing), counted with the writing, as they were before
    such lines were found.
    """
    if not groups:
        return None
    ys, xs = np.nonzero(_union(groups) if lines is None else _union(groups) | lines)
    step = max(1, ys.size // TURN_SAMPLE)
    ys, xs = ys[::step].astype(np.float64), xs[::step].astype(np.float64)

    def across(degrees: float) -> np.ndarray:
        angle = math.radians(degrees)
        return ys * math.cos(angle) - xs * math.sin(angle)

    def sharpness(degrees: float) -> float:
        bins = np.round(across(degrees)).astype(np.int64)
        counts = np.bincount(bins - bins.min())
        return float(np.sum(counts.astype(np.float64) ** 2))

    best = best_turn(sharpness, MAX_TURN, TURN_STEP)

    def band(degrees: float) -> float:
        low, high = np.percentile(across(degrees), [5, 95])
        return float(high - low)

    angle = math.radians(best)
    along = xs * math.cos(angle) + ys * math.sin(angle)
    length = float(np.percentile(along, 99) - np.percentile(along, 1))
    # A box holding other pieces (a turned comb's, in one piece) is not a digit's height.
    holding = [g for g in groups if any(h is not g and _encloses(g, h) for h in groups)]
    digits = [g for g in groups if all(g is not h for h in holding)] or groups
    if abs(best) < MIN_TURN or length < max(TURN_MIN_LENGTH * band(best), TURN_MIN_DIGITS * _digit_height(digits)):
        return None
    if sharpness(best) < TURN_MIN_GAIN * sharpness(0.0) or band(0.0) < TURN_MIN_NARROWING * band(best):
        return None
    return angle


def split_digits(image: Any, score: Score | None = None, dark_on_light: bool | None = None) -> list[DigitCrop]:
    """Find the digits of a number written on one line, left to right (see :func:`find_digits`)."""
    return find_digits(image, score, dark_on_light)[0]


def find_digits(
    image: Any, score: Score | None = None, dark_on_light: bool | None = None
) -> tuple[list[DigitCrop], InkMap]:
    """The digits of a number written on one line, left to right, and the ink they were found in
    (its polarity, and whether the picture settled it: when not, a caller may try the other one).
    A picture of several lines one above another gives each line's digits in turn, top to bottom,
    each crop saying which line it is on (``DigitCrop.line``).

    ``image``: anything :func:`digitocr.preprocess.open_image` reads, or a
    :class:`~digitocr.preprocess.LoadedImage`. ``score``: optional function from a list of 28×28
    MNIST-style images to a confidence in [0, 1] for each (e.g. the top calibrated probability of a
    classifier), or to rows of that confidence and the two likeliest digits' probabilities together
    (:data:`Score`); with it, touching digits are cut where the pieces are most believable as digits.
    ``dark_on_light`` forces the polarity (by default the picture decides). The list is empty for a
    blank image.
    """
    loaded = on_the_page(image if isinstance(image, LoadedImage) else open_image(image), dark_on_light)
    ink, mask, groups, lines, tilted = _ink_and_writing(loaded.grey, dark_on_light)
    if ink.blank:
        return [], ink
    sharper = refocused(loaded, ink, _union(groups)) if groups else None
    if sharper is not None:  # out of focus: neighbours blurred together are parted again
        loaded = sharper
        ink, mask, groups, lines, tilted = _ink_and_writing_again(loaded, ink)
        if ink.blank:
            return [], ink
    turn = _turn_of_writing(groups, tilted)
    if turn is not None:  # written on a rising line, or photographed turned: read it level
        loaded = level(loaded, turn, ink.mask, _union(groups) | tilted)  # with its lines, found again level
        ink, mask, groups, lines, tilted = _ink_and_writing_again(loaded, ink)
        if ink.blank:
            return [], ink
    if not groups or not stands_out(ink, _union(groups), lines):  # nothing, or the paper's grain
        return [], ink
    digit_height = _digit_height(groups)
    # Specks relative to the writing (the frame-relative rule above cannot know the digit size).
    groups = [g for g in groups if max(g.height, g.width) >= 0.12 * digit_height]
    lines = _lines_of_writing(groups)
    if len(lines) == 1:
        return _line_crops(loaded, ink, mask, groups, digit_height, score), ink
    crops = []
    for line, pieces in enumerate(lines):
        found = _line_crops(loaded, ink, mask, pieces, _digit_height(pieces), score)
        crops += [replace(crop, line=line) for crop in found]
    return crops, ink


def _lines_of_writing(groups: list[_Group]) -> list[list[_Group]]:
    """The pieces of each line of writing, top to bottom (see :data:`LINE_GAP`); all of them as one
    line when the picture holds one. A piece belongs to the line whose band its middle is nearest."""
    # Pieces at the frame do not make a line (a page's edge, what shows of a neighbouring line), but
    # for the whole digits of a first or last line touching the top or bottom (see LINE_GAP).
    height, width = groups[0].mask.shape
    margin = _frame_margin((height, width))

    def at_frame(g: _Group) -> bool:
        return min(g.y0, g.x0, height - g.y1, width - g.x1) <= margin

    inside = [g for g in groups if not at_frame(g)]
    if not inside:
        return [groups]
    # Measured on the pieces clear of the frame, bits of lines left out, when they are most of the
    # pieces (a number cut tightly has its digits at the frame, and maybe a crumb or two inside).
    writing = [g for g in inside if g.width < LINE_BIT_WIDTH * g.height]
    digit_height = _digit_height(writing if 2 * len(writing) > len(groups) else groups)

    def whole_at_top_or_bottom(g: _Group) -> bool:  # a whole digit of a line touching them (see LINE_GAP)
        return g.height < LINE_FRAME_TALL * digit_height and _whole_near_frame(g, digit_height, margin)

    tall = sorted(
        (g for g in groups if (not at_frame(g) or whole_at_top_or_bottom(g)) and g.height >= 0.5 * digit_height),
        key=lambda g: g.y0,
    )
    bands: list[_Band] = []
    for g in tall:
        # Within the gap, or the lower half of a digit broken across its middle (a digit of a thin pen
        # broken in two halves as tall as the digit height, measured on such halves).
        if bands and (
            g.y0 < bands[-1][1] + LINE_GAP * digit_height
            or any(_belongs_together(g, other, digit_height) for other in bands[-1][2])
        ):
            top, bottom, pieces = bands[-1]
            bands[-1] = (top, max(bottom, g.y1), [*pieces, g])
        else:
            bands.append((g.y0, g.y1, [g]))
    bands = [part for band in bands for part in _split_band(band, digit_height)]
    # A band whose tallest piece is much shorter than the writing's tallest is no line of digits (the
    # crumb of a squared paper's grid line above a digit), unless it holds a piece as wide as a digit
    # is (a small 3 alone on its line).
    tallest = [max(p.height for p in pieces) for _, _, pieces in bands]
    bands = [
        band
        for band, h in zip(bands, tallest, strict=True)
        if h >= LINE_MIN_HEIGHT * max(tallest, default=0) or any(_not_thin(p) for p in band[2])
    ]
    if len(bands) < 2:
        return [groups]

    def distance(g: _Group, band: _Band) -> float:
        middle = (g.y0 + g.y1) / 2
        return max(band[0] - middle, middle - band[1], 0.0)

    lines: list[list[_Group]] = [[] for _ in bands]
    for g in groups:
        if at_frame(g) and g.height >= LINE_FRAME_TALL * digit_height:
            continue
        lines[min(range(len(bands)), key=lambda k: distance(g, bands[k]))].append(g)
    return lines


def _split_band(band: _Band, digit_height: float) -> list[_Band]:
    """A band of pieces parted into the lines it holds (see :data:`LINE_SPLIT_HEIGHT`)."""
    top, bottom, pieces = band
    if bottom - top < LINE_SPLIT_HEIGHT * digit_height:
        return [band]

    def middle(g: _Group) -> float:
        return (g.y0 + g.y1) / 2

    def halves(a: _Group, b: _Group) -> bool:
        short = len(pieces) == 2 or min(a.height, b.height) < 0.8 * digit_height
        return short and _belongs_together(a, b, digit_height)

    pieces = sorted(pieces, key=middle)
    parts = [[pieces[0]]]
    for before, g in itertools.pairwise(pieces):
        if middle(g) - middle(before) >= LINE_SPLIT_GAP * digit_height and not any(
            halves(g, other) for other in parts[-1]
        ):
            parts.append([g])
        else:
            parts[-1].append(g)
    # With no bare paper to show it, a line must hold a whole digit: a piece about as tall as the
    # band's tallest (see LINE_MIN_HEIGHT) and no thinner than OTHER_ROW_WIDE (a box's corner below
    # the writing, a crumb of a grid's line under a digit are no line of their own).
    tallest = max(g.height for g in pieces)

    def whole(g: _Group) -> bool:
        return g.height >= LINE_MIN_HEIGHT * tallest and _not_thin(g)

    if not all(any(whole(g) for g in part) for part in parts):
        return [band]
    return [(min(g.y0 for g in part), max(g.y1 for g in part), part) for part in parts]


def _line_crops(
    loaded: LoadedImage,
    ink: InkMap,
    mask: np.ndarray,
    groups: list[_Group],
    digit_height: float,
    score: Score | None,
) -> list[DigitCrop]:
    """The digits of one line of writing, left to right, from its pieces of ink (``groups``, specks
    left out): pieces of one digit joined, marks and separators left out, touching digits cut."""
    groups = sorted(groups, key=lambda g: g.x0)
    merged = True
    while merged:  # merge pairs until nothing changes (pieces can chain: a 5 broken in three)
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if _belongs_together(groups[i], groups[j], digit_height):
                    groups[i] = _merge(groups[i], groups[j])
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    digit_height = _digit_height(groups)
    tall = [g for g in groups if g.height >= 0.5 * digit_height]
    baseline = float(np.median([g.y1 for g in tall])) if tall else float(mask.shape[0])
    top = float(np.median([g.y0 for g in tall])) if tall else 0.0  # the digits' tops, for raised cents
    marks = [
        _is_separator(g, digit_height, baseline) and not _overlaps_writing(g, groups, digit_height) for g in groups
    ]
    groups, marks = _join_top_bars(groups, marks, digit_height, baseline)
    groups, marks = _join_crumbs(groups, marks, digit_height, baseline)
    # A number does not start with a slash: a steep stroke before everything else is a slanted 1.
    first = min(range(len(groups)), key=lambda k: groups[k].x0)
    if marks[first] and not all(marks) and _is_slash(groups[first], digit_height):
        marks[first] = False
    separators = [g for g, mark in zip(groups, marks, strict=True) if mark]
    groups = [g for g, mark in zip(groups, marks, strict=True) if not mark]
    groups = _drop_terminal_slash(groups, separators, digit_height, baseline)
    if len(groups) > 1 and _is_percent_sign(last := max(groups, key=lambda g: g.x1), digit_height):
        groups = [g for g in groups if g is not last]
    digits: list[_Group] = []
    ends = (min(groups, key=lambda g: g.x0), max(groups, key=lambda g: g.x1)) if groups else ()
    along = _height_along(groups, digit_height)
    for group in groups:
        if any(group is end for end in ends) and _is_hash(group, digit_height):
            digits.append(group)  # whole: the classifier reads it as no digit, and `read` leaves it out
            continue
        # A piece much taller than the line's digits is measured by its own height: cents written
        # small set the median low, and a whole digit before them looked as wide as two (see
        # TALL_PIECE). So are cents written small and raised at the end, touching each other (see
        # CENTS_HEIGHT). On a line photographed from one side, by the height where it stands (see
        # ANGLE_TREND).
        if group.height >= TALL_PIECE * digit_height or (
            group is ends[1] and _is_raised_small(group, digit_height, baseline, top)
        ):
            height = group.height
        else:
            height = along(group) if along else digit_height
        pieces = _split(ink, mask, group, height, score, baseline, (group is ends[0], group is ends[1]))
        if len(pieces) > 1:  # a slash or a dash touching a digit, cut off it, is still a separator
            pieces = [p for p in pieces if not _is_separator(p, digit_height, baseline)] or pieces
        if len(pieces) > 2 and group is ends[0]:
            pieces = _whole_hash(pieces, digit_height)
        digits.extend(pieces)
    digits.sort(key=lambda g: (g.x0 + g.x1) / 2)
    if score is not None:
        digits = _merge_by_recognition(ink, digits, digit_height, score)
    digits = [g for g in digits if not _is_sliver(g, digit_height)]
    digits = _drop_percent(digits, digit_height, separators)  # its upper ring is as high as an apostrophe
    digits = _drop_label(_drop_off_the_line(digits), digit_height, separators)
    high = [_is_apostrophe(g, digit_height, baseline) for g in digits]
    # Between two digits: small digits written high at the end are cents (125⁵⁰, two of them), not
    # apostrophes.
    digits = [
        g
        for k, g in enumerate(digits)
        if not (high[k] and 0 < k < len(digits) - 1 and not high[k - 1] and not high[k + 1])
    ]
    for end in (0, -1):  # the sides of a box round the number
        while len(digits) > 1 and _is_tall_stroke(digits[end], digits, digit_height):
            del digits[end]
    digits = _drop_faint(ink, digits)
    crops = []
    for group in digits:
        soft = _soft(ink, group)
        box = loaded.box(group.x0, group.y0, group.x1, group.y1)
        crops.append(DigitCrop(soft, ink_to_mnist(soft), box, _bow(group, digit_height)))
    return crops
