"""Write music in another unit note length: every note, rest and chord length scaled.

A paste written in crotchets (`L:1/4`, `A/2B/2 c`) is read by the model in quavers (`L:1/8`,
`AB c2`), the unit it learned most of its reels and hornpipes in, and the new bars are written
back in the paste's own unit: `rescale(text, 2)` and `rescale(text, Fraction(1, 2))`. What
sounds is the same; only the spelling of the lengths changes. Tuplet marks, broken rhythm
(`>`), bar lines, chord symbols, decorations and fields are left as they are.
"""

from __future__ import annotations

import re
from fractions import Fraction

from bot.notation.bars import note_length
from bot.notation.tokens import NOTE, tokenize

_REST = re.compile(r"(?P<rest>[zx])(?P<len>\d{0,4}/*\d{0,4})")
_CHORD = re.compile(r"(?P<open>\[)(?P<inner>[^\]\[|\n]*)(?P<close>\]?)(?P<len>\d{0,4}/*\d{0,4})")


def spell(length: Fraction, halves: str = "/") -> str:
    """A length multiplier as ABC writes it: 1 -> "", 2 -> "2", 1/2 -> "/" (or `halves`), 3/2 -> "3/2"."""
    if length == 1:
        return ""
    if length.denominator == 1:
        return str(length.numerator)
    if length == Fraction(1, 2):
        return halves
    if length.numerator == 1:
        return f"/{length.denominator}"
    return f"{length.numerator}/{length.denominator}"


def halves_style(text: str) -> str:
    """How a text writes half a unit: "/2" where it spells it out (`A/2B/2`, as the NMD does), else "/"."""
    spelled = len(re.findall(r"[A-Ga-gz][,']*/2(?!\d)", text))
    short = len(re.findall(r"[A-Ga-gz][,']*/(?![/\d])", text))
    return "/2" if spelled > short else "/"


def _scaled(written: str, factor: Fraction, halves: str) -> str:
    return spell(note_length(written) * factor, halves)


def rescale(text: str, factor: Fraction | int, halves: str = "/") -> str:
    """`text` (music) with every written length multiplied by `factor`."""
    factor = Fraction(factor)
    out, last = [], 0
    for tok in tokenize(text):
        if tok.inside or tok.kind not in ("note", "rest", "chord", "grace"):
            continue
        piece = tok.text
        if tok.kind == "note":
            piece = NOTE.sub(lambda m: m.group(0)[: m.start("len") - m.start()] + _scaled(m["len"], factor, halves),
                             piece, count=1)
        elif tok.kind == "rest":
            piece = _REST.sub(lambda m: m["rest"] + _scaled(m["len"], factor, halves), piece, count=1)
        elif tok.kind == "chord":
            match = _CHORD.fullmatch(piece)
            if match is None:
                continue
            # A chord's own length multiplies its notes': scaling the notes inside scales the chord.
            inner = NOTE.sub(lambda m: m.group(0)[: m.start("len") - m.start()] + _scaled(m["len"], factor, halves),
                             match["inner"])
            piece = match["open"] + inner + match["close"] + match["len"]
        else:  # a grace group: its notes' lengths
            piece = NOTE.sub(lambda m: m.group(0)[: m.start("len") - m.start()] + _scaled(m["len"], factor, halves),
                             piece)
        out += [text[last:tok.start], piece]
        last = tok.end
    out.append(text[last:])
    return "".join(out)
