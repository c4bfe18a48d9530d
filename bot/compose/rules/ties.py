"""Ties: a tie joins two notes of one pitch, inside a part.

Model 3 tied to another pitch in 184 of 300 waltzes (`d/2-c/`): no tie at all, drawn as one
and played as two notes; the training waltzes never do it. So the note after a tie is steered
to the tied one's pitch (`TiePartner`); a tie never crosses a repeat sign or a part's end, nor
runs into a cadence the form chooses, nor is left open at the tune's end.
"""

from __future__ import annotations

import re

from bot.compose.rules.base import ALWAYS, STEER, Mask, Rule, missed
from bot.compose.state import Closing, TuneState
from bot.notation.bars import Verdict
from bot.notation.tokens import ACCIDENTALS, NOTE, key_signature, note_pitch, without

# BarSplitter modes whose text is no music: a quoted string, a decoration, a field line.
_NOT_MUSIC = ('"', "!", "+", "F")
# A tied note (the tokenizer's NOTE), then what has followed it: blanks and bar lines, and as
# much of the next note's spelling (accidental, letter, octave marks) as is written.
TIED = re.compile(rf"(?:{NOTE.pattern})-(?P<gap>[ \n|]*)(?P<sofar>[\^_=]*[A-Ga-g]?[,']*)$")
# What may follow a tie before its note is complete: TIED's gap and the note's spelling so far.
_AFTER_TIE = " \n|^_=ABCDEFGabcdefg,'"
# The accidental that raises or lowers a natural letter by so many semitones.
_SPELLED = {shift: acc for acc, shift in ACCIDENTALS.items()}
_NATURALS = dict.fromkeys("CDEFGAB", 0)


class TieAfterNote(Rule):
    """A tie mark follows its note directly (`A2-`, `[FA]-`), never a blank or a line break:
    pushed to tie, the model wrote `A` at a line's end and `-F` on the next, which abc readers
    take as a tie of A to F, and no tie of `TiePartner`'s (it reads a tie right after its note)."""

    phase = ALWAYS

    def banned(self, state: TuneState) -> Mask:
        split = state.splitter
        if split.token:
            return self.syntax.tie  # `A|-B`: after a bar line
        if split.mode:
            return False  # a quoted string, a decoration, a chord being written ...
        # The bar's last few characters hold any note a tie may follow (the whole bar, searched
        # for a match at its end, was tried from every position, on every character).
        return False if _TIE_MAY_FOLLOW.search(split.content[-_TAIL:]) else self.syntax.tie


# The end of a note or chord a tie may follow (its length written or not).
_TIE_MAY_FOLLOW = re.compile(r"(?:[A-Ga-g][,']*[0-9/]*|\])\Z")  # \Z: `$` also matches before a final newline
_TAIL = 12  # characters: longer than any note's letter, octave marks and length


class TiePartner(Rule):
    """While a tie waits for its note, that note is the tied pitch.

    Its letter and octave, with an accidental written out wherever its pitch is not the key's
    (a bar line between would drop one carried from earlier in the bar); the model still
    chooses its length. A tie's partner is notation, not timing: steered even once a bar's
    retries are spent and durations go unchecked (unless nothing would be left to draw).
    """

    phase = STEER

    def __init__(self, syntax):
        super().__init__(syntax)
        self.octave_marks = syntax.char(",") | syntax.char("'")

    def banned(self, state: TuneState) -> Mask:
        if state.splitter.mode in _NOT_MUSIC:
            return False  # a `-` in a quoted string or a field (`"FC-`) ties nothing
        text = (state.given[-64:] + state.gen)[-64:]  # a bar and what follows it, not the whole tune each draw
        if not text.rstrip(_AFTER_TIE).endswith("-"):
            return False  # no tie waiting (TIED can only match where this finds the `-`): no search
        tied = TIED.search(text)
        if tied is None:
            return False
        # The pitch the tied note sounds, with the accidentals its bar carries to it (as the
        # tokenizer reads them); the partner writes any that differs from the key out in full.
        bar = without(text[: tied.end("len")].rsplit("|", 1)[-1], {"quote", "deco"})
        carried: dict = {}
        signature = key_signature(state.key)
        pitch = [note_pitch(note, signature, carried) for note in NOTE.finditer(bar)][-1]
        bare = NOTE.match(tied["letter"] + tied["oct"])
        accidental = ("" if pitch == note_pitch(bare, signature, {})
                      else _SPELLED[pitch - note_pitch(bare, _NATURALS, {})])
        spelling, sofar = accidental + tied["letter"] + tied["oct"], tied["sofar"]
        if not spelling.startswith(sofar):
            return False  # written before these bans (a paste, or an unchecked try): not ours
        if sofar == spelling:
            return self.octave_marks  # the note is spelled: another mark would move it
        following = spelling[len(sofar)]
        if sofar:
            return self.syntax.only({following})
        # Before the note: one bar line, a blank on either side of it, and nothing else
        # (a model pushed to tie wrote blank lines until the tie fell out of sight).
        gap = tied["gap"]
        allowed = {following}
        if "|" not in gap:
            allowed.add("|")
        if not gap.endswith(" ") and "\n" not in gap:
            allowed.add(" ")
        return self.syntax.only(allowed)


class TieInsidePart(Rule):
    """A tie joins the next bar's note: not across a repeat sign or a part's end, where abc2midi
    ties it to the note after the repeat and miscounts both bars."""

    def __init__(self, syntax):
        super().__init__(syntax)
        self.part_edge = syntax.char("]") | syntax.char(":")
        self.section_growth = syntax.char("|") | syntax.char("]") | syntax.char(":")

    def banned(self, state: TuneState) -> Mask:
        if not state.splitter.content.rstrip().endswith("-"):
            return False
        return self.part_edge | (self.section_growth if state.splitter.token else False)


class NoTieIntoCadence(Rule):
    """No tie out of a full bar that ends its part, or the bar before the part's closing one.

    The part ends with this bar (nothing to tie into), or with the next, whose cadence note the
    form chooses: tied from here (`F-F-F-|` on, in a waltz in Bb pushed to tie) it could only be
    an F, no try could close the part, and once the retries were spent the bars went unchecked.
    """

    needs_form = True

    def banned(self, state: TuneState) -> Mask:
        reading = state.reading
        if state.is_full() and reading.timing.bar and state.form.closes_part_soon(reading.duration / reading.timing.bar):
            return self.syntax.tie
        return False


class TieClosedAtEnd(Rule):
    """No tie open at the tune's final bar line (`g- |]` in a short last bar, which the full-bar
    ban never sees): the try is lost."""

    def judge(self, state: TuneState, bar: Closing, verdict: Verdict | None) -> Verdict:
        if bar.final and verdict.ok and bar.reading.text.rstrip().endswith("-"):
            return missed(verdict)
        return verdict

