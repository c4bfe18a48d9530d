"""Note values (bot/compose/rules/note_values.py): no note under the shortest value a new tune may hold."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

from bot.compose.marks import SEMIQUAVER, SHORT_NOTE_SHARE, shortest_note
from bot.compose.rules.note_values import ShortestNote, length_value
from rule_states import chars, rule, tune

DENOMINATOR = set("/0123456789") - {"0", "1"}


def limited(text: str, shortest=SEMIQUAVER, **kw):
    state = tune(text, **kw)
    state.shortest = shortest
    return state


def test_length_texts_are_read_as_abc_reads_them():
    assert [length_value(t) for t in ("", "2", "/", "//", "/2", "/4", "3/", "3/4", "3//")] == [
        1, 2, Fraction(1, 2), Fraction(1, 4), Fraction(1, 2), Fraction(1, 4), Fraction(3, 2), Fraction(3, 4),
        Fraction(3, 4)]


def test_in_a_quaver_unit_a_semiquaver_may_be_written_and_nothing_shorter():
    assert rule(ShortestNote).banned(limited("A2 B")) is False  # `B/` (a semiquaver) and `B/2` may come
    after_slash = chars(rule(ShortestNote).banned(limited("A2 B/")))
    assert {"/", "3", "4", "8"} <= after_slash and not {"2", "1", " ", "c", "|"} & after_slash  # `B//`, `B/4` not
    assert rule(ShortestNote).banned(limited("A2 B3")) is False  # a numerator only lengthens it
    assert chars(rule(ShortestNote).banned(limited("A2 B3/"))) == {"7", "8", "9"}  # `B3/8` not; `B3/4`, `B3//` yes
    assert "/" in chars(rule(ShortestNote).banned(limited("A2 [Bd/")))  # in a chord too
    assert "/" in chars(rule(ShortestNote).banned(limited("A2 z/")))  # and a rest


def test_no_limit_where_the_tune_may_hold_short_notes_or_outside_a_note():
    assert rule(ShortestNote).banned(limited("A2 B/", shortest=None)) is False
    assert rule(ShortestNote).banned(limited('A2 "B/')) is False  # a chord symbol's text
    assert rule(ShortestNote).banned(limited("A2 {B/")) is False  # a grace note may be short
    assert rule(ShortestNote).banned(limited("A2 B/2 ")) is False  # the note is written


def test_the_short_note_shares_are_the_training_tunes_and_drawn_by_seed():
    from bot.corpus import load_corpus
    from bot.notation.bars import note_length
    from bot.notation.tokens import NOTE, tokenize
    from bot.rhythm_labels import rhythm_of

    import re

    tunes, short = Counter(), Counter()
    for text in load_corpus().train:
        rhythm = rhythm_of(text)[0]
        tunes[rhythm] += 1
        unit = re.search(r"^L:\s*(\d+)/(\d+)", text, re.M)
        unit = Fraction(int(unit[1]), int(unit[2])) if unit else Fraction(1, 8)
        body = text.partition("\nK:")[2].partition("\n")[2]
        short[rhythm] += any(t.kind == "note" and t.inside != "grace" and (m := NOTE.match(t.text))
                             and unit * note_length(m["len"]) < SEMIQUAVER for t in tokenize(body))
    for rhythm, count in tunes.items():
        if count >= 20:
            assert abs(SHORT_NOTE_SHARE[rhythm] - short[rhythm] / count) < 0.005, (rhythm, short[rhythm] / count)
    assert all(shortest_note("polka", seed) == SEMIQUAVER for seed in range(300))  # no polka holds one
    allowed = sum(shortest_note("air", seed) is None for seed in range(3000)) / 3000
    assert abs(allowed - SHORT_NOTE_SHARE["air"]) < 0.02


def test_a_polka_that_once_lost_itself_in_demisemiquavers_now_closes_its_parts():
    from bot.checkpoint import load_cached
    from bot.generate import Settings, generate
    from bot.notation.form import read_form

    tune_ = generate("a polka in D", Settings(seed=10, bars=16), load_cached())  # bench/form_quality.py's
    reading = read_form(tune_.abc)
    assert reading.regular and reading.ends_on_tonic, tune_.abc
    body = tune_.abc.partition("\nK:")[2]
    assert "/4" not in body and "//" not in body
