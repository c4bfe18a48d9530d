"""The paste's idiom (bot/compose/rules/idiom.py): a continuation's new bars write no mark its music never writes."""

from __future__ import annotations

import numpy as np

from bot.compose.begin import absent_marks, begin, replay
from bot.compose.headers import Heading
from bot.compose.rules import rules_for
from bot.compose.rules.idiom import PasteIdiom
from bot.compose.settings import Settings
from bot.compose.state import TuneState
from bot.prompt import Prompt
from rule_states import VOCAB


def tune(paste: str, text: str = "") -> TuneState:
    """The state after `text` written as new music after the pasted `paste` (a jig in D)."""
    prompt = Prompt(headers="X:1\n", prime=f"M:6/8\nL:1/8\nK:D\n{paste}", music=paste, meter="6/8", unit="1/8",
                    key="D", rhythm="jig", is_continuation=True)
    heading = Heading("X:1\n", "6/8", "1/8", "jig", "D", "")
    return replay(begin(prompt, Settings(bars=16), heading, []), text)


def banned(state: TuneState) -> set[str]:
    mask = next(r for r in rules_for(VOCAB) if type(r) is PasteIdiom).banned(state)
    return set() if mask is False else {VOCAB[i] for i in np.flatnonzero(mask)}


def test_a_paste_without_rests_decorations_bowings_or_backticks_gets_none_in_its_new_bars():
    state = tune("|:d2e fed|fed e2A|", "d")
    assert banned(state) == set("zxZX!+uv`")
    assert not banned(state) & set("ABCDEFGabcdefg|:23/ ")  # notes, lengths and bar lines stay free


def test_what_the_paste_writes_the_new_bars_may_write():
    assert absent_marks("|:!downbow!d2z fed|ufed ve2A|") == frozenset("`")
    assert banned(tune("|:d2e f`ed|+trill+fed z3|")) == set("uv")


def test_text_inside_a_quote_or_a_decoration_is_not_music():
    assert banned(tune("|:d2e fed|", 'd"')) == set()  # a quoted string: any letter (`"Gmaj7"`)
