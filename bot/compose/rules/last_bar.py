"""The tune's last bar is filled by its cadence notes, as people write it (`G4`, `G2 G2`), not
`G3 z` or `G2 z2`.

In the last bar no note may start off the beat (`Cadence`), so a note that ended off the beat
could only be followed by a rest: 48 of 100 new tunes held a rest, most of them there, against
16% of the corpus's held-out tunes and 7% of the NMD's. Banning the rests alone left tries with
nothing to draw (wrong cadences in 4 of 50 tunes). Here the notes' lengths are steered instead:
from where the cadence begins, a note may only end on a beat (or at the bar's end), so a tonic
can always follow it and no rest is needed. A continuation keeps its paste's idiom
(`rules.idiom`): where its paste writes rests it may pad with one, and this rule leaves it
alone; where the paste writes none, a note ending off the beat left the last bar nothing to
draw (4 of the form bench's 20 continuations, 2/4 reels and hornpipes in semiquavers, tried 82
times and kept a wrong bar), so the notes are steered there too.
"""

from __future__ import annotations

from fractions import Fraction

from bot.compose.marks import REST_MARKS
from bot.compose.rules.base import Mask, Rule
from bot.compose.state import TuneState
from bot.notation.bars import measure

# Lengths a single note cannot be written with in standard notation (5, 7 or 9 units need a tie).
_UNWRITABLE = "579"
# What may follow a note without ending it: its length, octave marks, broken rhythm. Not a tie:
# from the cadence on, a note fills its beats by its length (a tie there left tries with
# nothing to draw: its partner could not start off the beat).
_EXTENDERS = "0123456789/,'><"


class FilledEnding(Rule):
    """From the last bar's cadence on, notes end on beats and no rest starts on one."""

    needs_form = True

    def __init__(self, syntax):
        super().__init__(syntax)
        self.terminators = syntax.only(_EXTENDERS)  # everything that would end the note
        self.rests = syntax.banned_set(set("zxZX"))
        self.space = syntax.char(" ")
        self.lengths = {c: syntax.char(c) for c in "0123456789/<>"}

    def banned(self, state: TuneState) -> Mask:
        form, split = state.form, state.splitter
        if form.tonic is None or form.index != len(form.plan.parts) - 1 or not split.in_music:
            return False
        if state.given and not REST_MARKS <= state.absent:
            return False  # a paste that writes rests: its continuation may pad the last bar with one
        start = state.cadence_start()
        limit = state.limit()
        if start is None or limit is None:
            return False
        reading, beat = state.reading, state.beat

        def on_grid(end: Fraction) -> bool:
            return end <= start or end == limit or (end < limit and end % beat == 0)

        banned: Mask = False
        if reading.open and reading.elements:
            if reading.duration > start:
                banned = self.syntax.tie
            if not on_grid(reading.duration):
                banned = banned | self.terminators  # the note may not end here: it must grow to a beat
            elif reading.duration == limit and state.open_slurs() > 0:
                banned = banned | self.space  # the slur's `)` must follow the last note directly
            for c, mask in self.lengths.items():
                grown = measure(split.content + c, reading.timing).duration
                if grown > limit or not on_grid(grown) or c in _UNWRITABLE:
                    banned = banned | mask
            if on_cadence_beat(reading.duration, start, beat):
                banned = banned | self.rests
            return banned if banned is False or banned.any() else False
        elif on_cadence_beat(reading.duration, start, beat):
            banned = self.rests  # a tonic can start on this beat: no rest does
        return banned


def on_cadence_beat(offset: Fraction, start: Fraction, beat: Fraction) -> bool:
    """Whether an element starting at `offset` would start on a beat of the cadence."""
    return offset >= start and offset % beat == 0
