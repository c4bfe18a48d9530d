"""Ties (bot/compose/rules/ties.py): a tie joins two notes of one pitch, inside a part."""

from __future__ import annotations

from bot.compose.state import Closing
from bot.notation.bars import measure
from bot.compose.rules.ties import NoTieIntoCadence, TieClosedAtEnd, TieInsidePart, TiePartner
from rule_states import chars, rule, tune


def test_after_a_tie_the_next_note_is_the_tied_one():
    banned = chars(rule(TiePartner).banned(tune("A2FA d-")))
    assert "d" not in banned and "|" not in banned and " " not in banned  # d, or a bar line or blank first
    assert {"c", "e", "D", "z", "^", "="} <= banned  # no other pitch, no rest, no accidental


def test_a_tie_across_a_bar_line_still_waits_for_its_note():
    banned = chars(rule(TiePartner).banned(tune("A2FA dAF d-| ")))
    assert "d" not in banned and {"|", " ", "e"} <= banned  # one bar line, one blank: then the note


def test_a_partner_in_a_sharp_key_keeps_the_key_and_a_written_natural_is_written_again():
    assert "F" not in chars(rule(TiePartner).banned(tune("A2 F-")))  # F is F# in D: plain F is the same pitch
    natural = chars(rule(TiePartner).banned(tune("A2 =F-")))
    assert "=" not in natural and "F" in natural  # =F- | =F: the natural is written out after a bar line


def test_a_spelled_partner_takes_no_octave_mark():
    assert {",", "'"} <= chars(rule(TiePartner).banned(tune("A2 d-d")))


def test_no_steer_without_a_tie_nor_inside_a_chord_symbol():
    assert rule(TiePartner).banned(tune("A2FA d")) is False
    assert rule(TiePartner).banned(tune('A2 "F#-')) is False


def test_a_tie_does_not_cross_a_repeat_sign():
    banned = chars(rule(TieInsidePart).banned(tune("A2FA dAF d-|")))
    assert {":", "]", "|"} <= banned  # no :|, |], || after a tied note
    assert rule(TieInsidePart).banned(tune("A2FA dAFd|")) is False


def test_no_tie_out_of_the_bar_before_a_cadence():
    seventh = "A2FA dAFA|" * 6 + "A2FA dAFA"  # seven bars of an 8-bar part: the next is its closing bar
    assert "-" in chars(rule(NoTieIntoCadence).banned(tune(seventh)))
    assert rule(NoTieIntoCadence).banned(tune("A2FA dAFA")) is False  # the first bar ties freely


def test_a_tie_left_open_at_the_final_bar_line_loses_the_try():
    state = tune("A2FA dAF")
    reading = measure("A2FA dAFd-", state.bar_rules.timing)
    ok = state.bar_rules.judge(reading, "|]", final=True)
    assert ok.ok
    assert not rule(TieClosedAtEnd).judge(state, Closing(reading, "|]", final=True), ok).ok
    assert rule(TieClosedAtEnd).judge(state, Closing(reading, "|", final=False), ok).ok  # inside the tune it ties on



def test_a_tie_mark_follows_its_note_directly():
    from bot.compose.rules.ties import TieAfterNote

    for text in ("d2 A\n", "d2 A ", "d2 A|", "d2 ", ""):
        assert "-" in chars(rule(TieAfterNote).banned(tune(text))), text  # `A\n-F` reads as a tie of A to F
    for text in ("d2 A", "d2 A2", "d2 a'3/2", "d2 [FA]"):
        assert rule(TieAfterNote).banned(tune(text)) is False, text
    assert rule(TieAfterNote).banned(tune('d2 "A')) is False  # a chord symbol's text: `"A-7"` is fine
