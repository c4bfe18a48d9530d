"""Openings (bot/compose/rules/opening.py): a new tune starts on a note; a repeated part on `|:`."""

from __future__ import annotations

from bot.compose.rules.opening import OpeningNote, PartOpening
from rule_states import chars, rule, tune, VOCAB


def test_a_new_tune_opens_on_a_note_not_a_bar_line():
    assert "|" in chars(rule(OpeningNote).banned(tune("")))
    assert rule(OpeningNote).banned(tune("A")) is False
    assert rule(OpeningNote).banned(tune("", paste="A2FA dAFA|")) is False  # a continuation goes on as it is


FIRST_PART = "|:" + "A2FA dAFA|" * 7 + "A2FA d4:|"  # a reel's A part, played twice


def test_a_repeated_part_after_the_first_opens_with_a_repeat_sign():
    banned = chars(rule(PartOpening).banned(tune(FIRST_PART + " ")))
    assert not banned & set("|: \n") and {"A", "d", "z", '"'} <= banned  # |: first, before any note
    assert chars(rule(PartOpening).banned(tune(FIRST_PART + " |"))) == set(VOCAB) - {":"}  # | then :
    assert rule(PartOpening).banned(tune(FIRST_PART + " |:B")) is False
    assert rule(PartOpening).banned(tune("")) is False  # the first part may open plainly
