"""Note values: no note shorter than a semiquaver in a new tune whose rhythm's people hardly
write one (`bot.compose.marks.shortest_note`, drawn per tune at the rhythm's share).

Model 4 once opened a polka on demisemiquavers (`f/4e/4|d/4e/4f/4e/4...`) and, lost in a
note value no polka of its corpus holds, tried 730 closing bars without landing one. No jig,
slip jig, waltz or polka of the training tunes writes such a note.
"""

from __future__ import annotations

import re
from fractions import Fraction

from bot.compose.rules.base import ALWAYS, Mask, Rule
from bot.compose.state import TuneState

# A note or rest being written, with the length text it has so far.
_NOTE = re.compile(r"[=^_]*[A-Ga-gzx][,']*(?P<len>\d*/*\d*)\Z")
_LENGTH = re.compile(r"(?P<num>\d*)(?P<slashes>/*)(?P<den>\d*)")
_DENOMINATOR_CHARS = "/0123456789"
_TAIL = 16  # characters: longer than any note's accidentals, letter, octave marks and length


def length_value(text: str) -> Fraction | None:
    """The value of a note's length text in units (`/` 1/2, `//` 1/4, `3/4` 3/4), None if it is none."""
    match = _LENGTH.fullmatch(text)
    if match is None:
        return None
    num = int(match["num"]) if match["num"] else 1
    slashes = len(match["slashes"])
    if not slashes:
        return Fraction(num)
    den = int(match["den"]) * 2 ** (slashes - 1) if match["den"] else 2**slashes
    return Fraction(num, den) if den else None


class ShortestNote(Rule):
    """While a note's length is written, no character that takes it under the shortest value the
    tune may hold (`TuneState.shortest`): a slash or a denominator's digit only ever shortens it
    further, so such a character is banned as soon as it would cross the line."""

    phase = ALWAYS

    def __init__(self, syntax):
        super().__init__(syntax)
        self._masks: dict[frozenset[str], Mask] = {}  # per set of banned characters; a few ever

    def banned(self, state: TuneState) -> Mask:
        split = state.splitter
        if state.shortest is None or split.token or split.mode not in ("", "["):
            return False
        note = _NOTE.search(split.content[-_TAIL:])  # a note's text is short: no search of the whole bar
        if note is None:
            return False
        least = state.shortest / state.bar_rules.timing.unit  # in the tune's unit (L:)
        sofar = note["len"]
        chars = set()
        for ch in _DENOMINATOR_CHARS:
            if ch != "/" and "/" not in sofar:
                continue  # a numerator's digit only lengthens the note
            value = length_value(sofar + ch)
            if value is not None and value < least:
                chars.add(ch)
        if not chars:
            return False
        key = frozenset(chars)
        mask = self._masks.get(key)
        if mask is None:
            mask = self._masks.setdefault(key, self.syntax.banned_set(chars))
        return mask
