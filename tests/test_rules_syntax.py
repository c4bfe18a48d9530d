"""Syntax (bot/compose/rules/syntax.py): ABC the readers read as written; no quotes in new music in form."""

from __future__ import annotations

from bot.compose.rules.syntax import NoQuotes, Syntax
from rule_states import chars, rule, tune


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
