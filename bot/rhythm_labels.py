"""A training tune's rhythm, where its R: line does not give it: read from its title or its NMD file.

Only about 2,000 of the corpus's 5,300 tunes have an R: line, and none says polka; the NMD's
waltzes, reels and jigs say what they are only by the file they are in ("waltzes.abc"). A
prompt asks for a rhythm by writing its R: line, so a model that never saw "R:waltz" over a
waltz writes whatever 3/4 tune it knows best (Aird's minuets, in semiquavers). The corpus
therefore writes the rhythm read here into a tune's R: line before training (`labelled`),
and `bench/model_compare.py` picks its human tunes of each rhythm by the same rule, so the
label the model learns is the label it is judged by.
"""

from __future__ import annotations

from bot.notation.abc import normalise_rhythm, read_tune

# The rhythm every tune of an NMD file is, by the file's name (the reels are split over six files).
NMD_FILE_RHYTHMS = {"jigs.abc": "jig", "hpps.abc": "hornpipe", "waltzes.abc": "waltz", "slip.abc": "slip jig"}

# Where a rhythm was read from, in the order `rhythm_of` tries them.
SOURCES = ("R:", "title", "NMD file")


def nmd_file_rhythm(name: str) -> str | None:
    """The rhythm an NMD file's name gives all its tunes ("reelsa-c.abc" -> "reel"), or None."""
    if name.startswith("reels"):
        return "reel"
    return NMD_FILE_RHYTHMS.get(name)


def rhythm_of(raw: str, nmd_file: str = "") -> tuple[str | None, str]:
    """(rhythm, where it was read: one of SOURCES) of a tune as written: its R: line; where
    that names none, the words of its title ("Miss McLeod's Reel"); then, for an NMD tune,
    the name of its file. (None, "") when nothing names one."""
    tune = read_tune(raw)
    value = tune.get("R")
    if value and normalise_rhythm(value):
        return normalise_rhythm(value), "R:"
    title = tune.get("T")
    named = normalise_rhythm(title) if title else None
    if named:
        return named, "title"
    named = nmd_file_rhythm(nmd_file) if nmd_file else None
    return (named, "NMD file") if named else (None, "")


def labelled(tune: str, rhythm: str) -> str:
    """A normalised tune (`bot.notation.abc.normalise`: M:, L:, [R:,] K: first) with an R: line
    naming `rhythm`; a tune that already has one is returned as it is."""
    if read_tune(tune).get("R"):
        return tune
    head, sep, rest = tune.partition("\nK:")
    if not sep:
        raise ValueError("not a normalised tune: no K: line after its header")
    return f"{head}\nR:{rhythm}{sep}{rest}"
