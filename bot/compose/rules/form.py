"""Form and cadence: whole parts with their bar lines, and each part closed on its cadence.

The tune is planned as parts of its kind (`bot.notation.form`). No section line falls inside a
part; the tune stays in its key; first endings are left out (a repeated part is written with
`:|`, and endings would make the parts' lengths depend on which ending is counted). A bar that
would end a part must close with the part's bar line and its cadence: the closing bar is
steered (`Cadence`) and, when it still misses, sampled again (`FormJudge`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from bot.compose.rules.base import ALWAYS, Mask, Rule, missed
from bot.compose.state import Closing, TuneState
from bot.notation.bars import Measure, Verdict, bar_events
from bot.notation.syntax import SyntaxGuard
from bot.notation.tokens import key_signature, pitch_class

# Bars a first ending (`|1`) needs at least before the tune's end: it, `:|2` and its second.
ENDING_ROOM = 4


class FirstEndings(Rule):
    """No first ending (`|1`) in a form, nor too near the end for its `:|2` and second ending."""

    phase = ALWAYS

    def __init__(self, syntax):
        super().__init__(syntax)
        self.first_ending = syntax.char("1")

    def banned(self, state: TuneState) -> Mask:
        if state.form is not None or state.settings.bars - state.new_bars <= ENDING_ROOM:
            split = state.splitter
            if split.token == "|" or (split.mode == "[" and split.content.endswith("[")):
                return self.first_ending
        return False


class PartLines(Rule):
    """Inside a part `|` may not grow into `||`, `|]` or `|:`: section lines end parts only (not
    the phrases a written part joins, `FormPlan.joined`). A continuation's part, and a part of
    a drawn layout, ends on one (`||` where it is not repeated), so readers see where. No `:|`
    closes a part played once or a phrase that runs on."""

    needs_form = True

    def __init__(self, syntax):
        super().__init__(syntax)
        self.section_growth = syntax.char("|") | syntax.char("]") | syntax.char(":")
        self.double_bar = syntax.only("|")
        self.double_or_open = syntax.only("|:")
        self.repeat_close = syntax.char(":")

    def banned(self, state: TuneState) -> Mask:
        reading, form = state.reading, state.form
        if state.splitter.in_music and not form.finished and not (
                form.plan.repeats_at(form.index) and form.plan.ends_part(form.index)):
            # `:|` and `::` close a part played twice only: not a part played once, nor a phrase
            # that runs on (the model, used to AABB, pressed `:|` at a written-out A's 8th bar
            # through all of its tries when only the judge said no).
            return self.repeat_close
        if state.splitter.token and reading.elements and reading.timing.bar is not None:
            bars = reading.duration / reading.timing.bar
            pickup = state.form.at_part_start and bars < 1
            if not pickup and not state.form.closes_section(bars):
                return self.section_growth  # inside a part, or where a phrase runs on into the next
            if (state.form.plan.marked and state.splitter.token == "|" and state.form.closes_section(bars)
                    and not state.form.closes_tune(bars)):
                # Not after a pickup: that bar line leads into the part. Before a repeated part
                # (the NMD's 16 8r) `|:` marks it as well as `||` would.
                return self.double_or_open if form.plan.opens_repeat(form.index + 1) else self.double_bar
        return False


class StayInKey(Rule):
    """No key change: the form ends the tune on its key's tonic."""

    needs_form = True

    def __init__(self, syntax):
        super().__init__(syntax)
        self.key_change = syntax.char("K")

    def banned(self, state: TuneState) -> Mask:
        return self.key_change if state.splitter.mode in ("", "[") else False


class Cadence(Rule):
    """Steer a part's closing bar to its cadence, then judge the part's end (`FormJudge`)."""

    needs_form = True

    def __init__(self, syntax):
        super().__init__(syntax)
        # Off the beat in the tune's last bar only rests, lengths, spaces and the bar line.
        self.no_new_note = syntax.only("zx0123456789/ |:])")
        self.chord = syntax.char("[")

    def banned(self, state: TuneState) -> Mask:
        split = state.splitter
        if state.form.tonic is None or not (split.in_music or split.mode == "("):
            return False
        # After `(` comes a tuplet's digit or the slurred note, which must be the cadence's
        # (unsteered there, `(F` dodged the tonic, and the try wrote `F////...` to undo it).
        steer = self.steer(state, state.reading)
        if steer is False:
            return False
        # A tie here would fix the cadence note's pitch before the cadence chose it
        # (`=f- | =f` against an F# tonic: no try could close the bar).
        return steer | self.syntax.tie

    def steer(self, state: TuneState, reading: Measure) -> Mask:
        """Characters banned to steer a part's closing bar to its cadence (False: none).

        A note starting on a beat in the bar's second half is the tonic (or, in an inner part,
        the fifth), and in the tune's last bar no note starts off the beat. The model still
        chooses the note, its octave and length, and whether a note falls there at all;
        without this, a closing bar missed its cadence in most tries.
        """
        form, bar = state.form, reading.timing.bar
        start = state.cadence_start()
        if start is None or bar is None:
            return False  # not the part's closing bar
        beat = state.beat
        offset = reading.duration
        if offset < start:
            return False
        final = form.index == len(form.plan.parts) - 1
        if offset % beat:
            # Off the beat: the tune's last note must not fall here (rests may).
            return self.no_new_note if final else False
        # A chord here would put its notes past the mask (it is read by its top note, `[D2F2]`
        # ends on F): the cadence is a single note.
        return cadence_mask(self.syntax, state.key, form.tonic, final) | self.chord


class FilledCadence(Rule):
    """An inner part's closing bar holds no rest: its cadence note fills the bar (`G4`, `G2 G2`,
    `G3 A` with the next part's pickup), as people write it, not `G3 z :|`.

    In 100 generated tunes 66 had a rest and 73 of the 114 bars with one closed a part: the
    cadence was reached early and padded out (session tunes: 10% of tunes hold a rest at all).
    The tune's last bar is left alone: there no note may start off the beat, and banning its
    rests too left wrong cadences (4 in 50 tunes) and slowed the form control by a third. A
    continuation writes rests only where its paste does (`rules.idiom`).
    """

    needs_form = True

    def __init__(self, syntax):
        super().__init__(syntax)
        self.rests = syntax.banned_set(set("zxZX"))

    def banned(self, state: TuneState) -> Mask:
        split, form = state.splitter, state.form
        if state.given or form.index >= len(form.plan.parts) - 1:
            return False
        if (split.in_music or split.mode in ("(", "[")) and state.at_closing_bar():
            return self.rests
        return False


class FormJudge(Rule):
    """A bar that ends a part closes with the part's bar line and cadence; none other ends one."""

    needs_form = True

    def judge(self, state: TuneState, bar: Closing, verdict: Verdict | None) -> Verdict:
        reading = bar.reading
        if not verdict.ok or reading.timing.bar is None:
            return verdict
        bars = verdict.duration / reading.timing.bar
        notes = []
        if state.form.closes_part(bars) and state.form.tonic is not None:
            notes = [(e.melody, e.offset) for e in bar_events(reading.text, reading, state.key)[0] if e.pitches]
        why = state.form.judge(bars, bar.token, notes, state.beat)
        return missed(verdict) if why else verdict


@lru_cache(maxsize=256)
def cadence_mask(syntax: SyntaxGuard, key: str, root: int, final: bool) -> np.ndarray:
    """Note letters (and accidentals) that cannot make a cadence on `root` in `key`: True where banned."""
    signature = key_signature(key)
    allowed = {root} if final else {root, (root + 7) % 12}
    wrong = {c for letter in "CDEFGAB" if (pitch_class(letter) + signature[letter]) % 12 not in allowed
             for c in (letter, letter.lower())}
    return syntax.banned_set(wrong | set("^_="))
