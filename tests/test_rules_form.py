"""Form and cadence (bot/compose/rules/form.py): whole parts, their bar lines, and their cadences."""

from __future__ import annotations

from bot.compose.state import Closing
from bot.notation.bars import measure
from bot.compose.rules.form import Cadence, FilledCadence, FirstEndings, FormJudge, PartLines, StayInKey
from bot.compose.rules.bar_length import BarLength
from rule_states import chars, rule, tune, VOCAB


NOTES = set("ABCDEFGabcdefg")


def test_no_section_line_inside_a_part():
    banned = chars(rule(PartLines).banned(tune("|:A2FA dAFA|")))
    assert {"|", "]", ":"} <= banned  # the second bar of eight: no ||, |], |: or :|
    assert rule(PartLines).banned(tune("|:" + "A2FA dAFA|" * 7 + "A2FA d4|")) is False  # the part's end


def test_the_tune_stays_in_its_key_and_writes_no_first_ending():
    assert "K" in chars(rule(StayInKey).banned(tune("A2FA ")))
    assert "1" in chars(rule(FirstEndings).banned(tune("A2FA dAFA|")))
    assert rule(FirstEndings).banned(tune("A2FA dAFA|", form=False)) is False  # far from the end, without form
    assert "1" in chars(rule(FirstEndings).banned(tune("A2FA dAFA|" * 13, form=False)))  # too near the end


def test_a_parts_closing_bar_lands_on_the_tonic_or_the_fifth():
    inner = tune("|:" + "A2FA dAFA|" * 7 + "dAFA ")  # the A part's closing bar, on its third beat
    assert NOTES - chars(rule(Cadence).banned(inner)) == {"A", "a", "D", "d"}  # D major: tonic or fifth
    assert "-" in chars(rule(Cadence).banned(inner)) and "[" in chars(rule(Cadence).banned(inner))


def test_the_tunes_last_note_is_the_tonic_on_a_beat():
    a_part = "|:" + "A2FA dAFA|" * 7 + "A2FA d4:|"
    last = tune(a_part + "|:" + "A2FA dAFA|" * 7 + "dAFA ")
    assert NOTES - chars(rule(Cadence).banned(last)) == {"D", "d"}
    off_beat = chars(rule(Cadence).banned(tune(a_part + "|:" + "A2FA dAFA|" * 7 + "dAFA d")))
    assert NOTES <= off_beat and "z" not in off_beat  # no new note off the beat; a rest may fall there


def test_no_steer_before_the_closing_bar():
    assert rule(Cadence).banned(tune("A2FA dAFA|dAFA ")) is False


def test_a_part_that_misses_its_cadence_is_sampled_again():
    state = tune("|:" + "A2FA dAFA|" * 7 + "A")  # seven bars accepted, the eighth being judged
    for text, ok in (("A2FA d4", True), ("A2FA e4", False)):
        bar = Closing(measure(text, state.bar_rules.timing), ":|")
        verdict = rule(BarLength).judge(state, bar, None)
        assert verdict.ok  # right in length
        judged = rule(FormJudge).judge(state, bar, verdict)
        assert judged.ok is ok and (ok or judged.kind == "form")


def test_an_inner_parts_closing_bar_holds_no_rest():
    closing = "A2FA dAFA|" * 7 + "A2FA "  # the A part's eighth bar, half written
    assert set("zx") <= chars(rule(FilledCadence).banned(tune(closing)))
    assert rule(FilledCadence).banned(tune("A2FA dAFA|A2FA ")) is False  # inside the part rests may come
    last = "|:" + "A2FA dAFA|" * 7 + "A2FA d4:|" + "|:" + "d2fd adfd|" * 7 + "d2fd "
    assert rule(FilledCadence).banned(tune(last)) is False  # the tune's last bar: the cadence rule's


def test_a_continuations_part_ends_on_a_double_bar_but_its_pickup_does_not():
    half = "d2e fed|fed e2A|d2e fed|e3 d2A|\n"  # four bars of an unrepeated air's first part, pasted
    closing = tune("d2e fed|fed e2A|d2e fed|e3 d3|", meter="6/8", rhythm=None, paste=half)
    assert closing.form.plan.marked and not closing.form.plan.repeated and closing.form.plan.parts == (8, 8)
    assert chars(rule(PartLines).banned(closing)) == set(VOCAB) - {"|"}  # A ends `||`, so readers see where
    pickup = tune("d2e fed|fed e2A|d2e fed|e3 d3||A|", meter="6/8", rhythm=None, paste=half)
    assert rule(PartLines).banned(pickup) is False  # the bar line after B's pickup leads into B
