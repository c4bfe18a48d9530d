"""Bar length (bot/compose/rules/bar_length.py): every bar in time, as abc2midi counts it."""

from __future__ import annotations

from bot.compose.rules import rules_for
from bot.compose.state import Closing, TuneState
from bot.notation.bars import measure
from bot.compose.rules import Rulebook
from bot.compose.rules.bar_length import BarLength, FullBar, TuneEnd, may_end
from rule_states import chars, rule, tune, VOCAB


def judge(state: TuneState, bar: Closing):
    """The whole rule book's verdict (the bar's length first, as the composer asks)."""
    return Rulebook(rules_for(VOCAB), state).judge(state, bar)


def test_a_full_bar_takes_only_a_bar_line_next():
    banned = chars(rule(FullBar).banned(tune("A2FA dAF2 ", form=False)))
    assert {"A", "c", "z", "2", "[", "/"} <= banned  # no note, rest or length past the bar
    assert not {"|", ":", " ", "-", ")"} & banned  # a bar line, a blank, a tie or a slur's end
    assert rule(FullBar).banned(tune("A2FA dAF", form=False)) is False  # an eighth still to write


def test_a_last_note_still_being_written_may_only_be_shortened():
    banned = chars(rule(FullBar).banned(tune("A2FA dAFA", form=False)))  # `A` may yet become `A/`
    assert "/" not in banned and {"2", "c"} <= banned


def test_a_bar_that_runs_past_its_length_loses_the_try():
    assert rule(BarLength).lost(tune("A2FA dAFA c"))
    assert not rule(BarLength).lost(tune("A2FA dAF c"))
    assert rule(BarLength).lost(tune("A" * 101))  # a runaway with no bar line


def test_a_short_bar_inside_the_tune_is_judged_wrong_and_a_full_one_right():
    state = tune("A2FA dAFA|A2FA dAFA|A", form=False)
    timing = state.bar_rules.timing
    assert not judge(state, Closing(measure("A2FA dA", timing), "|")).ok
    assert judge(state, Closing(measure("A2FA dAFA", timing), "|")).ok


def test_the_tunes_last_bar_is_judged_with_its_final_bar_line():
    state = tune("A2FA dAFA|" * 3 + "A2FA d4", bars=4, form=False)
    bar = Closing(state.reading, "|")
    assert judge(state, bar).ok and bar.final and bar.token == "|]"


def test_a_bar_line_where_none_is_right_is_drawn_again():
    state = tune("|:A2FA dAFA|A2FA dA")
    book = Rulebook(rules_for(VOCAB), state)
    assert rule(BarLength).redraw(state, "|", book.judge)  # six eighths of eight: no bar line yet
    assert not rule(BarLength).redraw(state, "F", book.judge)
    full = tune("|:A2FA dAFA|A2FA dAFA")
    assert not rule(BarLength).redraw(full, "|", book.judge)


def test_the_tune_ends_only_where_its_bars_are_right():
    assert "\n" in chars(rule(TuneEnd).banned(tune("\n", form=False)))  # not before a first bar
    assert not may_end(tune("A2FA dAFA|A2\n", form=False))  # a bar of two eighths is no last bar
    assert may_end(tune("A2FA dAFA|A2FA d4\n", form=False))
    assert rule(TuneEnd).banned(tune("A2FA dAFA|A2FA d4\n", form=False)) is False
    assert not may_end(tune("A2FA dAFA|A2FA d4\n"))  # in form, the form decides where the tune ends
