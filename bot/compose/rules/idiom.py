"""Idiom: a continuation's new bars keep the paste's notation; a new tune keeps its rhythm's.

Marks its music never writes (rests, decorations, bowings, backtick beam spacing: worked out
once, `bot.compose.begin.absent_marks`) the new bars do not write either. Model 4 padded
cadences with rests in pastes that had none (`g2 z (3d/2 z/2 z/2 :|`), and wrote Aird's
backticks into tunes that never used them (`e``c/A/`). A new tune's marks are drawn from its rhythm's idiom (`bot.compose.marks`): rests
at the rate people's tunes of the rhythm write them, hornpipes straight.
"""

from __future__ import annotations

from bot.compose.rules.base import ALWAYS, Mask, Rule
from bot.compose.state import TuneState

# Reading modes whose text is not music (a quoted string, a decoration, a field line).
_NOT_MUSIC = ('"', "!", "+", "F")


class PasteIdiom(Rule):
    """In music, none of the marks the tune keeps out (`TuneState.absent`)."""

    phase = ALWAYS

    def __init__(self, syntax):
        super().__init__(syntax)
        self._masks: dict[frozenset[str], Mask] = {}  # per set of marks; a handful ever, shared

    def banned(self, state: TuneState) -> Mask:
        if not state.absent or state.splitter.mode in _NOT_MUSIC:
            return False
        mask = self._masks.get(state.absent)
        if mask is None:
            mask = self._masks.setdefault(state.absent, self.syntax.banned_set(set(state.absent)))
        return mask
