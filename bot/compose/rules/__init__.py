"""The composer's rules, in the order they apply: a new rule is a new module and one line in RULES.

Masks are applied by phase (`base`): ALWAYS rules first, then STEER rules (each only where it
leaves something to draw, so it sees the ALWAYS rules' masks and no others), then, while the
bar's durations are checked, the CHECKED rules. Verdicts on a closed bar pass through the
rules' `judge` in list order, starting with the bar's length.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from bot.compose.rules.bar_length import BarLength, FullBar, TuneEnd
from bot.compose.rules.base import ALWAYS, CHECKED, STEER, Rule
from bot.compose.rules.form import Cadence, FilledCadence, FirstEndings, FormJudge, PartLines, StayInKey
from bot.compose.rules.idiom import PasteIdiom
from bot.compose.rules.instrument_range import InRange
from bot.compose.rules.last_bar import FilledEnding
from bot.compose.rules.opening import OpeningNote, PartOpening
from bot.compose.rules.slurs import SlurBalance, SlurClosedAtEnd, SlurInsidePart
from bot.compose.rules.syntax import NoQuotes, Syntax
from bot.compose.rules.ties import NoTieIntoCadence, TieAfterNote, TieClosedAtEnd, TieInsidePart, TiePartner
from bot.compose.rules.note_values import ShortestNote
from bot.compose.rules.typography import (ChordLengths, ChordPitches, LengthInLowestTerms, NoBackticks, NoRestInTuplet,
                                          NoTieInTuplet, RollLength, TrillUntied)
from bot.compose.state import Closing, TuneState
from bot.notation.bars import Verdict
from bot.notation.syntax import SyntaxGuard

RULES: tuple[type[Rule], ...] = (
    BarLength,  # first: its judge gives the verdict the others refine
    Syntax,
    PasteIdiom,
    InRange,
    FirstEndings,
    SlurBalance,
    NoBackticks,
    NoRestInTuplet,
    NoTieInTuplet,
    LengthInLowestTerms,
    ChordPitches,
    ChordLengths,
    RollLength,
    TrillUntied,
    ShortestNote,
    TieAfterNote,
    TiePartner,
    SlurInsidePart,
    SlurClosedAtEnd,
    TieInsidePart,
    NoTieIntoCadence,
    TieClosedAtEnd,
    PartLines,
    StayInKey,
    NoQuotes,
    OpeningNote,
    PartOpening,
    Cadence,
    FilledCadence,
    FilledEnding,
    FormJudge,
    TuneEnd,
    FullBar,
)


@lru_cache(maxsize=8)
def guard_for(vocab: str) -> SyntaxGuard:
    """One SyntaxGuard per alphabet (its masks are built once and shared by every tune)."""
    return SyntaxGuard(vocab)


@lru_cache(maxsize=8)
def rules_for(vocab: str) -> tuple[Rule, ...]:
    """The rules for an alphabet, their masks built once and shared by every tune."""
    guard = guard_for(vocab)
    return tuple(rule(guard) for rule in RULES)


class Rulebook:
    """The rules that apply to one tune, sorted by what they answer; asked by the composer loop."""

    def __init__(self, rules: tuple[Rule, ...], state: TuneState):
        active = [r for r in rules if state.form is not None or not r.needs_form]
        masks = [r for r in active if r.overrides("banned")]
        self.always = [r for r in masks if r.phase == ALWAYS]
        self.steer = [r for r in masks if r.phase == STEER]
        self.checked = [r for r in masks if r.phase == CHECKED]
        self.judges = [r for r in active if r.overrides("judge")]
        self.losers = [r for r in active if r.overrides("lost")]
        self.redrawers = [r for r in active if r.overrides("redraw")]
        assert self.always and self.always[0].fresh_mask, "the first ALWAYS rule must give a fresh mask"
        self.first, self.always_after_first = self.always[0], self.always[1:]

    def banned(self, state: TuneState, lenient: bool) -> np.ndarray:
        """Characters that cannot be right next: bad syntax always, wrong durations unless `lenient`."""
        banned = self.first.banned(state)  # a fresh array: the others are ORed into it
        for rule in self.always_after_first:
            mask = rule.banned(state)
            if mask is not False:
                banned |= mask
        for rule in self.steer:
            mask = rule.banned(state)
            if mask is not False and not (banned | mask).all():
                banned |= mask
        if lenient:
            return banned
        for rule in self.checked:
            mask = rule.banned(state)
            if mask is not False:
                banned |= mask
        return banned

    def judge(self, state: TuneState, bar: Closing) -> Verdict:
        """The verdict on a closed bar: its length first, then every other rule's word on it."""
        verdict = None
        for rule in self.judges:
            verdict = rule.judge(state, bar, verdict)
        return verdict

    def lost(self, state: TuneState) -> bool:
        """Whether the bar being written is already wrong (its try is lost)."""
        for rule in self.losers:  # a loop, not any(): no generator made per character
            if rule.lost(state):
                return True
        return False

    def redraw(self, state: TuneState, ch: str) -> bool:
        """Whether the drawn `ch` must be drawn again."""
        for rule in self.redrawers:
            if rule.redraw(state, ch, self.judge):
                return True
        return False
