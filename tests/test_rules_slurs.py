"""Slurs (bot/compose/rules/slurs.py): each slur closes inside its part, none is left open at the end."""

from __future__ import annotations

from bot.compose.state import Closing
from bot.compose.rules.slurs import SlurBalance, SlurClosedAtEnd, SlurInsidePart
from rule_states import chars, rule, tune


def test_no_slur_closes_that_was_not_opened_and_none_opens_inside_another():
    assert ")" in chars(rule(SlurBalance).banned(tune("A2FA d")))
    inside = chars(rule(SlurBalance).banned(tune("A2F(A d")))
    assert "(" in inside and ")" not in inside


def test_a_tuplet_mark_is_no_slur():
    assert tune("(3ABc d").open_slurs() == 0 and tune("(ABc d").open_slurs() == 1


def test_a_slur_open_in_the_last_part_does_not_count_in_the_next():
    assert tune("|:(A2FA dAFA|").open_slurs() == 1
    assert tune("|:(A2FA dAFA:|B").open_slurs() == 0  # the part edge ended the count


def test_an_open_slur_blocks_a_repeat_sign():
    banned = chars(rule(SlurInsidePart).banned(tune("(A2FA dAFA|")))
    assert {":", "]", "|"} <= banned  # no :|, |], || inside a slur
    assert rule(SlurInsidePart).banned(tune("(A2FA) dAFA|")) is False


def test_a_chord_inside_a_slur_can_close():
    assert "]" not in chars(rule(SlurInsidePart).banned(tune("(A[Bd")))  # `]` ends the chord, not a part


def test_the_tunes_last_bar_closes_its_slur_before_the_bar_line():
    last = "A2FA dAFA|" * 15 + "(A2FA dAFA"  # the 16th bar of a 16-bar tune, full, a slur open
    assert "|" in chars(rule(SlurClosedAtEnd).banned(tune(last, form=False)))
    assert rule(SlurClosedAtEnd).banned(tune("(A2FA dAFA", form=False)) is False  # the first bar: the slur may cross


def test_a_slur_open_at_the_final_bar_line_loses_the_try():
    state = tune("(A2FA dAFA")
    reading = state.reading
    ok = state.bar_rules.judge(reading, "|]", final=True)
    assert not rule(SlurClosedAtEnd).judge(state, Closing(reading, "|]", final=True), ok).ok
    assert rule(SlurClosedAtEnd).judge(state, Closing(reading, "|", final=False), ok).ok
