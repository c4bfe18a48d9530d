"""Syntax (bot/compose/rules/syntax.py): ABC the readers read as written; no quotes in new music in form."""

from __future__ import annotations

import numpy as np

from bot.compose.begin import begin, replay
from bot.compose.headers import Heading
from bot.compose.rules import rules_for
from bot.compose.settings import Settings
from bot.compose.state import TuneState
from bot.prompt import Prompt
from bot.compose.rules.syntax import NoQuotes, Syntax

VOCAB = "\n" + "".join(chr(i) for i in range(32, 127))  # a tiny alphabet: every printable character


def tune(text: str = "", meter: str = "4/4", key: str = "D", rhythm: str | None = "reel", bars: int = 16,
         form: bool = True, paste: str = "") -> TuneState:
    """The state after `text` written as new music (after pasted `paste`, if any)."""
    prompt = Prompt(headers="X:1\n", prime=f"M:{meter}\nL:1/8\nK:{key}\n{paste}" if paste else "", music=paste,
                    meter=meter, unit="1/8", key=key, rhythm=rhythm, is_continuation=bool(paste))
    heading = Heading("X:1\n", meter, "1/8", rhythm, key, "")
    return replay(begin(prompt, Settings(bars=bars, form=form), heading, []), text)


def chars(mask) -> set[str]:
    """The characters a mask bans."""
    return set() if mask is False else {VOCAB[i] for i in np.flatnonzero(mask)}


def rule(cls):
    """The shared instance of a rule class."""
    return next(r for r in rules_for(VOCAB) if type(r) is cls)


def test_a_fermata_is_never_written():
    assert "H" in chars(rule(Syntax).banned(tune("A2")))  # abc2midi counts a fermata note twice as long


def test_after_a_sharp_comes_its_note():
    banned = chars(rule(Syntax).banned(tune("A2F^")))
    assert {"z", "|", " ", "2"} <= banned and "c" not in banned


def test_a_second_repeat_start_waits_for_the_first_ones_end():
    assert ":" in chars(rule(Syntax).banned(tune("|:A2FA dAFA|")))  # no |: while a |: is open


def test_the_rule_returns_a_fresh_mask_each_time():
    state = tune("A2")
    first = rule(Syntax).banned(state)
    first[:] = True
    assert not rule(Syntax).banned(state).all()  # the rule book ORs into it in place


def test_no_quoted_strings_in_new_music_in_form():
    assert '"' in chars(rule(NoQuotes).banned(tune("A2FA ")))
    assert '"' in chars(rule(NoQuotes).banned(tune("A2FA (")))  # nor a fingering after a tuplet mark
    assert rule(NoQuotes).needs_form  # without a form, chord symbols stay the model's
