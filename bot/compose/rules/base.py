"""What a rule is: a small object that reads the TuneState and answers what may not come next
(`banned`) and/or whether a closed bar stands (`judge`).

A rule's masks are boolean arrays over the model's alphabet, True where banned (`SyntaxGuard`);
False means "nothing banned". Rules hold only masks built once per alphabet, never a tune's
state: one rule object serves every tune, on any thread.

Each rule has a phase, the order in which the composer applies masks (`bot.compose.rules`):

- ALWAYS: on every draw of a checked tune (ABC that readers would misread, at any cost);
- STEER: applied only where it leaves something to draw (a tie's partner note);
- CHECKED: while the bar's durations are checked (not once its retries are spent).

A judge answers with a `Verdict`: ok accepts the bar; not ok has it sampled again, and once its
retries are spent the loop takes the bar before back, then keeps the closest try (`miss`).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable, ClassVar

import numpy as np

from bot.compose.state import Closing, TuneState
from bot.notation.bars import Verdict
from bot.notation.syntax import SyntaxGuard

ALWAYS, STEER, CHECKED = "always", "steer", "checked"

# How far a bar that breaks the form (not its duration) is from right: the closest try kept
# after every try failed is then one with the right duration.
FORM_MISS = Fraction(1, 10_000)

Mask = np.ndarray | bool  # True where banned; False: nothing banned
Judge = Callable[[TuneState, Closing], Verdict]


class Rule:
    """A constraint on the tune: override `banned`, `judge`, `lost` or `redraw` (the defaults do nothing)."""

    phase: ClassVar[str] = CHECKED
    needs_form: ClassVar[bool] = False  # applies only to a tune written in form
    fresh_mask: ClassVar[bool] = False  # `banned` always gives a new array (never False), which the caller may change

    def __init__(self, syntax: SyntaxGuard):
        self.syntax = syntax

    def banned(self, state: TuneState) -> Mask:
        """Characters that may not come next (False: none)."""
        return False

    def judge(self, state: TuneState, bar: Closing, verdict: Verdict | None) -> Verdict:
        """The verdict on a closed bar, given the verdict of the rules before (None for the first)."""
        assert verdict is not None, f"{type(self).__name__} cannot judge first"
        return verdict

    def lost(self, state: TuneState) -> bool:
        """Whether the bar being written can no longer be right (its try is lost)."""
        return False

    def redraw(self, state: TuneState, ch: str, judge: Judge) -> bool:
        """Whether the drawn `ch` must be drawn again (a rare character better checked once drawn)."""
        return False

    def overrides(self, name: str) -> bool:
        """Whether this rule answers `name` (the composer calls only those that do)."""
        return getattr(type(self), name) is not getattr(Rule, name)


def missed(verdict: Verdict) -> Verdict:
    """`verdict` (right in duration) turned into a miss of the form: the try is sampled again."""
    return Verdict(False, verdict.duration, verdict.expected, verdict.counts, FORM_MISS, "form")
