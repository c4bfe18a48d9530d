"""Syntax: ABC that abc2midi and music21 read as written (`bot.notation.syntax` has the masks),
and no quoted strings in the new music of a tune written in form."""

from __future__ import annotations

from bot.compose.rules.base import ALWAYS, Mask, Rule
from bot.compose.state import TuneState


class Syntax(Rule):
    """Bad ABC is never drawn: the guard's ban after the text read so far."""

    phase = ALWAYS
    fresh_mask = True  # first in the list: the rule book ORs the other masks into this one

    def banned(self, state: TuneState) -> Mask:
        return self.syntax.banned(state.splitter, state.bar_rules, state.last_char())


class NoQuotes(Rule):
    """No quoted strings in new music, nor after a tuplet mark (`(3"_4"fec`, a fingering).

    Chords are the harmoniser's (a stray "F" in D would pass for the tune's own and stop it
    filling the bars); annotations are noise.
    """

    needs_form = True

    def __init__(self, syntax):
        super().__init__(syntax)
        self.quote = syntax.char('"')

    def banned(self, state: TuneState) -> Mask:
        return self.quote if state.splitter.mode in ("", "(") else False  # in music, after a bar line or `(`
