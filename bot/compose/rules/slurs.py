"""Slurs: each slur closes inside its part, and none is left open at the tune's end.

In 100 tunes 11 had a part with a slur left open or crossing a repeat; `((GAB)` (a slur inside
a slur) left one open to the tune's end. The count of open slurs is the state's (`open_slurs`).
"""

from __future__ import annotations

from bot.compose.rules.base import ALWAYS, Mask, Rule, missed
from bot.compose.state import Closing, TuneState
from bot.notation.bars import Verdict


class SlurBalance(Rule):
    """No `)` with no slur open in its part, and no slur inside a slur."""

    phase = ALWAYS

    def __init__(self, syntax):
        super().__init__(syntax)
        self.open_paren = syntax.char("(")

    def banned(self, state: TuneState) -> Mask:
        return self.syntax.close_slur if state.open_slurs() <= 0 else self.open_paren


class SlurInsidePart(Rule):
    """While a slur is open: no repeat sign, double or final bar line (the slur closes in its part)."""

    def __init__(self, syntax):
        super().__init__(syntax)
        self.part_edge = syntax.char("]") | syntax.char(":")  # what makes `:|`, `|:`, `|]`, `::`
        self.section_growth = syntax.char("|") | syntax.char("]") | syntax.char(":")

    def banned(self, state: TuneState) -> Mask:
        if state.open_slurs() <= 0:
            return False
        if state.splitter.mode == "[":
            return False  # inside a chord `]` closes the chord, not a part (`(A[Bd]` must close)
        return self.part_edge | (self.section_growth if state.splitter.token else False)


class SlurClosedAtEnd(Rule):
    """No slur open at the tune's final bar line (`(d2 |]`)."""

    def __init__(self, syntax):
        super().__init__(syntax)
        self.bar_line = syntax.char("|")

    def banned(self, state: TuneState) -> Mask:
        # The tune's last bar line is written `|` and made final afterwards: close the slur
        # before it, or it runs off the end.
        if state.open_slurs() > 0 and state.is_full() and state.closes_tune(state.reading):
            return self.bar_line
        return False

    def judge(self, state: TuneState, bar: Closing, verdict: Verdict | None) -> Verdict:
        # A slur open at the final bar line would never close: the try is lost, as a missed
        # cadence is (the ban above steers away from most of them).
        if bar.final and verdict.ok and state.open_slurs() > 0:
            return missed(verdict)
        return verdict
