"""The tune's last bar is filled by its cadence notes (`FilledEnding`), on states built by hand."""

from __future__ import annotations

from bot.compose.rules.last_bar import FilledEnding
from rule_states import chars, rule, tune

# An AABB reel in D (8-bar parts): both parts but the last bar, which is being written.
BODY = "|:" + "A2FA dAFA|" * 7 + "A2FA d4:|" + "|:" + "d2fd adfd|" * 7


def test_from_the_cadence_on_no_rest_starts_on_a_beat():
    at_beat = rule(FilledEnding).banned(tune(BODY + "d2fd "))  # half way: the cadence's tonic comes here
    assert {"z", "x"} <= chars(at_beat)
    assert "d" not in chars(at_beat)  # the tonic itself may come


def test_a_note_in_the_cadence_may_only_end_on_a_beat_or_the_bars_end():
    after = chars(rule(FilledEnding).banned(tune(BODY + "d2fd d")))  # d on the 5th quaver: 1, 3 end off the beat
    assert {"1", "3", "5", "7", "9"} <= after  # d3 would leave a quaver only a rest could fill
    assert "2" not in after and "4" not in after  # d2 (a beat) and d4 (the bar's end)
    assert {" ", "|", "z"} <= after  # a quaver d ends off the beat: it must grow first
    grown = chars(rule(FilledEnding).banned(tune(BODY + "d2fd d2")))
    assert " " not in grown and "d" not in grown and "z" in grown  # on the beat: another tonic, not a rest


def test_before_the_cadence_and_in_inner_parts_nothing_is_banned():
    assert rule(FilledEnding).banned(tune(BODY + "d2 ")) is False  # the first half of the last bar
    inner = "|:" + "A2FA dAFA|" * 7 + "A2FA "
    assert rule(FilledEnding).banned(tune(inner)) is False  # A's closing bar: FilledCadence's
    assert FilledEnding.needs_form  # no form, no cadence: the rulebook leaves it out


def test_a_continuation_keeps_its_pastes_idiom():
    paste = "|:A2FA dAFA|" + "A2FA dAFA|" * 6 + "A2FA d3z:|\n"
    state = tune("|:" + "d2fd adfd|" * 7 + "d2fd ", paste=paste)
    assert rule(FilledEnding).banned(state) is False  # its paste pads with rests: so may it


def test_a_continuation_whose_paste_writes_no_rests_has_its_last_bar_filled_too():
    paste = "|:A2FA dAFA|" + "A2FA dAFA|" * 6 + "A2FA d4:|\n"
    state = tune("|:" + "d2fd adfd|" * 7 + "d2fd d", paste=paste)
    assert {"1", "3"} <= chars(rule(FilledEnding).banned(state))  # no rest could fill what d3 leaves


def test_pasted_semiquaver_tunes_without_rests_close_their_last_part():
    # bench/form_quality.py's continuations 10, 15 and 18 (2/4 reels and hornpipes in L:1/16):
    # a note ending off the beat in the last bar left only a rest, which the paste never writes;
    # all 82 tries were lost and a wrong bar kept.
    from bench.form_quality import CHORD, continuation_tunes, cut_after
    from bot.checkpoint import load_cached
    from bot.generate import Settings, generate
    from bot.harmonise import harmonise
    from bot.notation.form import read_form

    shipped = load_cached()
    for i, pasted in enumerate(continuation_tunes(20)):
        if i not in (10, 15, 18):
            continue
        cut = cut_after(pasted, 4 if i % 2 == 0 else 6)
        if i % 2 and not CHORD.search(cut):
            cut = harmonise(cut)
        out = generate(cut, Settings(temperature=1.0, seed=i), shipped)
        reading = read_form(out.abc)
        assert reading.regular and reading.ends_on_tonic, (i, out.abc)
        assert not any("tries" in notice for notice in out.notices), out.notices
