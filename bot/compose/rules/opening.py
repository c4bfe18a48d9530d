"""Openings: how a new tune and each part of a form begin."""

from __future__ import annotations

from bot.compose.rules.base import Mask, Rule
from bot.compose.state import TuneState


class OpeningNote(Rule):
    """A new tune opens on its first note, not on a bar line.

    After an opening `|` (`|A|B3/2A/2G|...|BF:|`, model 4) abc2midi reads the pickup as a whole
    bar, and the repeat back to it as two short ones.
    """

    needs_form = True

    def __init__(self, syntax):
        super().__init__(syntax)
        self.bar_line = syntax.char("|")

    def banned(self, state: TuneState) -> Mask:
        if not state.gen.strip() and not state.given.strip() and state.splitter.in_music:
            return self.bar_line
        return False


class PartOpening(Rule):
    """A part that is repeated opens with `|:` before its first note (and not `||` first: `:| || |:` is no better)."""

    needs_form = True

    def __init__(self, syntax):
        super().__init__(syntax)
        self.opening = syntax.only("|: \n")
        self.opening_colon = syntax.only(":")

    def banned(self, state: TuneState) -> Mask:
        if state.form.needs_opening and not state.reading.elements:
            if state.splitter.in_music:
                return self.opening
            if state.splitter.token == "|":
                return self.opening_colon
        return False
