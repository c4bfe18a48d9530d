"""Which marks a new tune may write: rests and double stops at the rate people's tunes of its
rhythm write them, and hornpipes straight unless dotted ones are asked for.

Model 4 wrote a rest in 66% of its tunes where session tunes hold one in 10%: rests are part of
some rhythms' idiom (a third of the corpus's airs) and nearly absent from others (strathspeys
2%, waltzes 4%, polkas none). So each new tune is allowed rests with its rhythm's share, drawn
by its seed, and written without them otherwise (`rules.idiom` masks them). Where it may, the
model still decides whether it writes one; the tunes of a rhythm hold rests at most as often as
people's.

Double stops (`[B2g2]`) the same way: model 4 wrote them in 13% of its waltzes, 10% of its
hornpipes and 6% of its reels and jigs, where the training tunes hold them in 4%, 3.8%, 2.6% and
1.3%; the NMD's waltzes in none. A new tune not drawn to hold them writes no `[` (it writes its
endings `|1` and no inline fields, so `[` only ever opens a chord of notes in it).

Notes shorter than a semiquaver (`f/4` in a quaver unit) the same way: no jig, slip jig, waltz
or polka of the training tunes writes one, 1.9% of its reels and 14% of its airs do. Model 4
once began a polka on them and never found its way back to a bar that could close a part.

Today's tunebooks (the NMD, session collections) write hornpipes straight: 4% use `>`, as the
swing is played, not written. O'Neill's and Ryan's dotted them; asking for their manner or for
"dotted" keeps `>` and `<`.
"""

from __future__ import annotations

import random
from fractions import Fraction

from bot.style import OLD_BOOKS

REST_MARKS = frozenset("zxZX")
DOUBLE_STOP = frozenset("[")
BROKEN_RHYTHM = frozenset("<>")

# Share of the training tunes of each rhythm (R: line, else title) holding a rest: `load_corpus().train`,
# checked by tests/test_marks.py. Rhythms with under 20 tunes take the nearest kind's.
REST_SHARE = {
    None: 0.208, "air": 0.31, "jig": 0.108, "waltz": 0.04, "march": 0.14, "reel": 0.171,
    "slip jig": 0.158, "hornpipe": 0.108, "strathspey": 0.024,
    # Under 20 tunes each: polkas (6, none) and slides (2, none) as the NMD's dance tunes;
    # flings (15) as strathspeys, their Highland cousins; minuets and mazurkas as waltzes.
    "polka": 0.0, "slide": 0.0, "fling": 0.024, "minuet": 0.04, "mazurka": 0.04,
}


# Share of the training tunes of each rhythm holding a chord of notes (a double stop), measured
# and checked the same way.
DOUBLE_STOP_SHARE = {
    None: 0.022, "air": 0.014, "jig": 0.013, "waltz": 0.04, "march": 0.038, "reel": 0.026,
    "slip jig": 0.02, "hornpipe": 0.038, "strathspey": 0.06,
    # Under 20 tunes each, as for rests: polkas and slides as the NMD's dance tunes (the NMD
    # hardly writes double stops), flings as strathspeys, minuets and mazurkas as waltzes.
    "polka": 0.02, "slide": 0.02, "fling": 0.06, "minuet": 0.04, "mazurka": 0.04,
}


def double_stops_allowed(rhythm: str | None, seed: int) -> bool:
    """Whether a new tune of `rhythm` written with `seed` may hold double stops (drawn at the
    rhythm's share)."""
    return _drawn("double stops", DOUBLE_STOP_SHARE, rhythm, seed)


# Share of the training tunes of each rhythm holding a note (not a grace note) shorter than a
# semiquaver, measured and checked the same way.
SHORT_NOTE_SHARE = {
    None: 0.042, "air": 0.141, "jig": 0.0, "waltz": 0.0, "march": 0.064, "reel": 0.019,
    "slip jig": 0.0, "hornpipe": 0.011, "strathspey": 0.036,
    # Under 20 tunes each, as for rests: polkas and slides as the NMD's dance tunes, flings as
    # strathspeys, minuets and mazurkas as waltzes.
    "polka": 0.0, "slide": 0.0, "fling": 0.036, "minuet": 0.0, "mazurka": 0.0,
}
SEMIQUAVER = Fraction(1, 16)


def shortest_note(rhythm: str | None, seed: int) -> Fraction | None:
    """The shortest note a new tune of `rhythm` written with `seed` may hold: a semiquaver, or
    None (no limit) where it is drawn to hold shorter ones, at the rhythm's share."""
    return None if _drawn("short notes", SHORT_NOTE_SHARE, rhythm, seed) else SEMIQUAVER


def rests_allowed(rhythm: str | None, seed: int) -> bool:
    """Whether a new tune of `rhythm` written with `seed` may hold rests (drawn at the rhythm's share)."""
    return _drawn("rests", REST_SHARE, rhythm, seed)


def _drawn(mark: str, shares: dict, rhythm: str | None, seed: int) -> bool:
    """Whether a tune of `rhythm` and `seed` is drawn to hold `mark`, at the rhythm's share (the
    table's None entry for a rhythm it lacks). A generator of its own per mark: the draw must not
    move the model's sampling, nor one mark's draw another's."""
    return random.Random(f"{mark} {rhythm} {seed}").random() < shares.get(rhythm, shares[None])


def absent_in_new(rhythm: str | None, seed: int, asked_style: str | None, dotted: bool) -> frozenset[str]:
    """Marks a new tune does not write: rests and double stops unless drawn, `>`/`<` in a
    hornpipe unless a dotted one is asked for (words, or an old book's manner)."""
    absent = set()
    if not rests_allowed(rhythm, seed):
        absent |= REST_MARKS
    if not double_stops_allowed(rhythm, seed):
        absent |= DOUBLE_STOP
    if rhythm == "hornpipe" and not dotted and asked_style not in OLD_BOOKS:
        absent |= BROKEN_RHYTHM
    return frozenset(absent)
