"""How today's tunebooks lay each rhythm out: the parts a tune is written in, their lengths and
repeats. A new tune's form is drawn from its rhythm's layouts.

Measured on the Nottingham Music Database, all splits (the modern tunebook the corpus holds;
`python -m bot.notation.layout_survey` prints both tables again, tests/test_layouts.py checks
them), parts as `bot.notation.form.read_form` reads them ("8r 16": an 8-bar part played twice,
then a 16-bar part played once):

* `WRITTEN`, the layouts a new tune of the rhythm is drawn from at the Length's default, each
  part's length rounded to whole bars (`layout_survey.layout_of`: the NMD often writes the next
  part's pickup before the section line, and `read_form` reads its 16-bar parts as 65/4 and
  63/4). Of the NMD's reels 60% are written AABB in 8-bar parts (three or four parts 4%), 9% as
  one 32-bar part played once (the repeats written out, no section line inside), 7% as two
  16-bar parts played once, 5% A repeated then B written out (8r 16), 3% 16 (AB once, no
  section line), 2% one 8-bar part repeated, and 14% rarer ways; jigs 57% AABB, 16 16 10%,
  8r 16 7%, three parts 6%, 8r 16r 4%, 16 3%, 32 3%; hornpipes 66% AABB, 16 7%, two 4-bar
  parts repeated 7%, one 8-bar part 4%; waltzes are 32 bars: 37% one part played once, 22% one
  part repeated (`|: 32 bars :|`), 20% two 16-bar parts, 12% 8r 16. Counted: the layouts of
  whole 4-bar multiples, 8 to 64 written bars, that 2 tunes or more write: 397 of 445 reels,
  320 of 342 jigs, 68 of 77 hornpipes, 41 of 57 waltzes; the rest (a stray short bar, a 6-bar
  part, a layout one tune writes) are not imitated, and the draws are weighted so that tunes
  in 8-bar parts and in 16-bar parts come at the whole NMD's shares (`PART_SHARES`: reels 61%
  and 11%). Whatever the layout, the tune is composed
  in phrases of the rhythm's part length (8 bars; 16 in a waltz's long parts; 4 where a part
  is 4 or 12), each closed on its cadence: a layout only says which phrase ends get a section
  line or a repeat sign (`form.FormPlan.joined`).
* `LAYOUTS`, the shares of tunes in three parts and in parts played once: the drawn layout for
  a Length asked for, a number of parts asked for ("a three-part reel") and the rhythms the NMD
  has under 20 tunes of (airs, marches, polkas, slip jigs, strathspeys: the corpus's tunes,
  rounded). NMD: reels 11% three or more parts, 20% unrepeated; jigs 14%, 19%; hornpipes 6%,
  10%; waltzes 11%, 55%.

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

# {rhythm: {layout: NMD tunes written so}}: each written part's bars, "r" where played twice.
WRITTEN = {
    "reel": {"8r 8r": 237, "32": 34, "16 16": 26, "8r 16": 20, "8r 8r 8r": 12, "16": 11, "8r": 7, "16 8r": 6,
             "8r 16r": 5, "4r 8": 4, "16r": 4, "8r 8r 8r 8r": 4, "8r 8": 4, "4r 8r": 3, "16r 16r": 3, "8r 12": 3,
             "8r 8r 8": 2, "4r 4r": 2, "8r 8 8": 2, "16r 16 16": 2, "8 8": 2, "4r 4r 4r 4r 4r 4r 4r 4r": 2,
             "4r 4r 4r 4r": 2},
    "jig": {"8r 8r": 183, "16 16": 31, "8r 16": 21, "8r 8r 8r": 18, "8r 16r": 13, "16": 11, "32": 11, "8r": 7,
            "8r 8r 8r 8r": 4, "16 16 16": 4, "16 8r": 4, "8r 8": 3, "16r 16r 16r": 2, "8 8 8 8 8 8 8 8": 2,
            "8r 8r 8r 8r 8r 8r": 2, "32r": 2, "8r 8 8r": 2},
    "hornpipe": {"8r 8r": 45, "16": 5, "4r 4r": 5, "8r": 3, "8r 8": 2, "8r 16": 2, "16r": 2, "4r 8": 2, "8r 12r": 2},
    "waltz": {"32": 15, "32r": 9, "16 16": 8, "8r 16": 5, "8r 8r": 2, "4 4 4 4 4 4 4 4": 2},
}

# Share of the NMD's tunes of each rhythm whose parts, rounded to whole bars, are all 8 bars
# long, and all 16 (`bench/session_style.py`'s reading). WRITTEN's draws are weighted to these
# shares, each layout keeping its weight within its kind: the NMD tunes it leaves out (a stray
# short bar, a layout one tune writes) are neither, and would otherwise leave ours with more
# 8-bar parts than the NMD (reels 68% against 61%).
PART_SHARES = {
    "reel": {"8": 0.611, "16": 0.110},
    "jig": {"8": 0.652, "16": 0.146},
    "hornpipe": {"8": 0.714, "16": 0.091},
    "waltz": {"8": 0.035, "16": 0.228},
}


def kind_of(layout: str) -> str:
    """"8" where every part is 8 bars, "16" where every part is 16, else "other"."""
    sizes = {part.rstrip("r") for part in layout.split()}
    return sizes.pop() if sizes in ({"8"}, {"16"}) else "other"


def weights(rhythm: str) -> dict[str, float]:
    """WRITTEN[rhythm]'s layouts with the weights they are drawn by (see PART_SHARES)."""
    counts = WRITTEN[rhythm]
    shares = dict(PART_SHARES[rhythm])
    shares["other"] = 1 - shares["8"] - shares["16"]
    totals = {kind: sum(n for layout, n in counts.items() if kind_of(layout) == kind) for kind in shares}
    return {layout: shares[kind_of(layout)] * n / totals[kind_of(layout)] for layout, n in counts.items()}

def layout_of(rhythm: str | None) -> Layout:
    return LAYOUTS.get(rhythm or "", DEFAULT)


def usual_bars(rhythm: str | None) -> int:
    """The rhythm's usual length in written bars: two parts of its size (the Length's default)."""
    return 2 * layout_of(rhythm).part_bars


def parse(layout: str) -> tuple[tuple[int, bool], ...]:
    """"8r 16" as its written parts: ((8, True), (16, False))."""
    return tuple((int(part.rstrip("r")), part.endswith("r")) for part in layout.split())


@dataclass(frozen=True)
class Drawn:
    """A new tune's layout, drawn by its seed."""

    part_bars: int
    parts: int
    repeated: bool
    written: tuple[tuple[int, bool], ...] = ()  # a WRITTEN layout's parts (bars, played twice); () for the plain layout


def draw(rhythm: str | None, bars: int | None, seed: int, asked_parts: int | None = None) -> Drawn:
    """The layout of a new tune of `rhythm`: `bars` long (None: the rhythm's usual length), parts
    as `asked_parts` asks, else drawn at the rhythm's shares: from `WRITTEN` where the NMD has
    the rhythm and neither a Length nor parts are asked for. A Length under two of the
    rhythm's parts takes 8-bar parts (a 16-bar waltz is AABB)."""
    layout = layout_of(rhythm)
    # Its own generator (the model's sampling is not moved), drawn per rhythm: tunes of several
    # rhythms written with one seed are not all laid out alike.
    rng = random.Random(f"layout {rhythm} {seed}")
    three, once = rng.random() < layout.three_parts, rng.random() < layout.unrepeated
    size = layout.part_bars
    if bars is None and not asked_parts and rhythm in WRITTEN:
        # The NMD's own layouts at its shares (a tune played once is mostly written as one part),
        # its tunes of 8-bar parts and of 16-bar parts at their shares (PART_SHARES).
        names, shares = zip(*weights(rhythm).items())
        written = parse(rng.choices(names, weights=shares)[0])
        return Drawn(size, len(written), all(r for _, r in written), written)
    if bars is None:
        parts = asked_parts or (3 if three else 2)
        if once and size == 8:
            # A part played once is written out in full, its 8 bars and their repeat as 16
            # (only for the rhythms WRITTEN lacks, and for a number of parts asked for).
            size = 16
    else:
        if bars < 2 * size:
            size = min(size, 8)
        parts = asked_parts or max(1, (bars + size // 2) // size)
    return Drawn(size, parts, not once)
