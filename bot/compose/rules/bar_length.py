"""Bar length: every bar in time (`bot.notation.bars`), as abc2midi counts it.

Once a bar is exactly full only a bar line may follow; a note that runs past the bar loses the
try; a bar line where no bar line is right is drawn again; a closed bar is judged against the
meter, the pickups and the repeats, and the tune's last bar with the final bar line it will get.
The tune may end (a second newline) only where its open bar is right as a last bar.
"""

from __future__ import annotations

from bot.compose.rules.base import Judge, Mask, Rule
from bot.compose.state import Closing, TuneState
from bot.notation.bars import Verdict

# Longest bar text before a try counts as lost (a runaway without bar lines); the longest
# bars of the training tunes, with chord symbols and ornaments, stay well below it.
MAX_BAR_CHARS = 100

# When a bar is exactly full only these may follow: a bar line, a space, a tie or a slur's
# end (and `/`, which can only shorten a note still being written).
AFTER_FULL_BAR = set("|: -)")


class BarLength(Rule):
    """The bar's duration: judged when it closes, lost once it overruns, a wrong bar line redrawn."""

    def judge(self, state: TuneState, bar: Closing, verdict: Verdict | None) -> Verdict:
        verdict = state.bar_rules.judge(bar.reading, bar.token)
        if state.ends_tune(bar.reading, verdict):
            # This bar ends the tune: judge it with the bar line it will get.
            bar.token, bar.final = state.final_token(bar.token, bar.reading), True
            verdict = state.bar_rules.judge(bar.reading, bar.token, final=True)
        return verdict

    def lost(self, state: TuneState) -> bool:
        """Whether the bar being written already runs past its longest right duration."""
        reading = state.reading
        if len(state.splitter.content) > MAX_BAR_CHARS:
            return True
        limit = state.limit()
        if limit is None:
            return False
        if reading.settled > limit:
            return True
        # An element still being written after the bar is full can only overrun it.
        return reading.open and reading.settled >= limit and reading.duration > reading.settled

    def redraw(self, state: TuneState, ch: str, judge: Judge) -> bool:
        """Whether `ch` would close the bar being written at a duration no bar line makes right.

        Checked only for the character drawn (a bar line is rare), which samples exactly as
        if every such character had been banned beforehand.
        """
        split, reading = state.splitter, state.reading
        if state.bar_rules.timing.bar is None or not reading.elements or reading.rest_bars:
            return False
        if split.token:
            if not split.closes(ch) or len(state.gen) <= len(split.token):
                return False  # the bar line goes on, or the bar is pasted music
            return not judge(state, Closing(reading, split.token)).ok
        if not split.in_music or ch not in "|:":
            return False
        tokens = (":|", "::") if ch == ":" else ("|", "||", "|:", "|]")
        return not any(judge(state, Closing(reading, token)).ok for token in tokens)


class FullBar(Rule):
    """A bar exactly full: only a bar line (or what may stand before one) may follow."""

    def __init__(self, syntax):
        super().__init__(syntax)
        self.after_full_bar = syntax.only(AFTER_FULL_BAR)
        self.after_full_bar_open = syntax.only(AFTER_FULL_BAR | {"/"})

    def banned(self, state: TuneState) -> Mask:
        if not state.is_full():
            return False
        return self.after_full_bar_open if state.reading.open else self.after_full_bar


class TuneEnd(Rule):
    """A second newline ends the tune: only where the tune may end before its open bar goes on."""

    def banned(self, state: TuneState) -> Mask:
        if state.last_char() == "\n" and not may_end(state):
            return self.syntax.newline
        return False


def may_end(state: TuneState) -> bool:
    """Whether the tune may end before the bar being written goes on."""
    rules, reading = state.bar_rules, state.reading
    if rules.bars == 0:
        return False  # not before a first new bar
    if state.form is not None:
        return False  # the form decides where the tune ends (an inner part may close on the fifth)
    if reading.elements:  # the open bar must be right as a last bar
        return rules.judge(reading, state.final_token("", reading), final=True).ok
    if rules.ending_open:
        return False  # not inside a first ending
    # A short bar before a section line left a debt: only a pickup's complement may end the tune.
    return rules.debt is None or rules.debt in (rules.pickup, rules.section_pickup, rules.repeat_pickup)
