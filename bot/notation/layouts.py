"""How today's tunebooks lay each rhythm out: the length of its parts, and how often a tune of it
has three parts or parts played once. A new tune's form is drawn from its rhythm's layout.

Measured on the Nottingham Music Database, all splits (the modern tunebook the corpus holds;
`python -m bot.notation.layout_survey` prints the table again, tests/test_layouts.py checks it):
reels 11% three or more parts, 20% unrepeated; jigs 14%, 19%; hornpipes 6%, 10%; waltzes are
32 bars, 55% unrepeated, mostly in 16-bar halves. The NMD's unrepeated dance tunes are repeats
written out (a reel's 32 bars as one part, or A repeated and B written out as 16 bars): a part
played once is written in 16 bars here too. Where the NMD has under 20 tunes of a rhythm
(airs, marches, polkas, slip jigs, strathspeys) the corpus's tunes of it are used, rounded.
Model 4 wrote every tune AABB of 8-bar parts, waltzes and airs too.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Layout:
    """A rhythm's usual layout."""

    part_bars: int  # a part's length in bars
    three_parts: float  # share of tunes with three parts (the rest have two)
    unrepeated: float  # share of tunes whose parts are each played once


LAYOUTS = {
    "reel": Layout(8, 0.11, 0.20),
    "jig": Layout(8, 0.14, 0.19),
    "hornpipe": Layout(8, 0.06, 0.10),
    "waltz": Layout(16, 0.11, 0.55),
    "air": Layout(16, 0.03, 0.76),  # the corpus's 71 airs: 24% repeated
    "march": Layout(8, 0.09, 0.25),  # the corpus's 157 marches
    "polka": Layout(8, 0.14, 0.40),
    "slip jig": Layout(8, 0.11, 0.20),
    "strathspey": Layout(8, 0.02, 0.40),
}
DEFAULT = Layout(8, 0.10, 0.20)  # the other dance rhythms


def layout_of(rhythm: str | None) -> Layout:
    return LAYOUTS.get(rhythm or "", DEFAULT)


def usual_bars(rhythm: str | None) -> int:
    """The rhythm's usual length in written bars: two parts of its size (the Length's default)."""
    return 2 * layout_of(rhythm).part_bars


@dataclass(frozen=True)
class Drawn:
    """A new tune's layout, drawn by its seed."""

    part_bars: int
    parts: int
    repeated: bool


def draw(rhythm: str | None, bars: int | None, seed: int, asked_parts: int | None = None) -> Drawn:
    """The layout of a new tune of `rhythm`: `bars` long (None: the rhythm's usual length), parts
    as `asked_parts` asks, else drawn at the rhythm's shares. A Length under two of the rhythm's
    parts takes 8-bar parts (a 16-bar waltz is AABB)."""
    layout = layout_of(rhythm)
    # Its own generator (the model's sampling is not moved), drawn per rhythm: tunes of several
    # rhythms written with one seed are not all laid out alike.
    rng = random.Random(f"layout {rhythm} {seed}")
    three, once = rng.random() < layout.three_parts, rng.random() < layout.unrepeated
    size = layout.part_bars
    if bars is None:
        parts = asked_parts or (3 if three else 2)
        if once and size == 8:
            # A part played once is written out in full, its 8 bars and their repeat as 16, as
            # the NMD writes its unrepeated tunes (AB of 8 bars each, once, it hardly writes).
            size = 16
    else:
        if bars < 2 * size:
            size = min(size, 8)
        parts = asked_parts or max(1, (bars + size // 2) // size)
    return Drawn(size, parts, not once)
