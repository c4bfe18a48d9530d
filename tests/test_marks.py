"""A new tune's marks: rests at its rhythm's human rate, hornpipes straight unless asked dotted."""

from __future__ import annotations

from collections import Counter

from bot.compose.marks import (
    BROKEN_RHYTHM, DOUBLE_STOP, DOUBLE_STOP_SHARE, REST_MARKS, REST_SHARE, absent_in_new, double_stops_allowed,
    rests_allowed,
)


def test_the_rest_and_double_stop_shares_are_the_training_tunes():
    from bot.corpus import load_corpus
    from bot.notation.tokens import tokenize
    from bot.rhythm_labels import rhythm_of

    tunes, rests, chords = Counter(), Counter(), Counter()
    for tune in load_corpus().train:
        rhythm = rhythm_of(tune)[0]
        tunes[rhythm] += 1
        tokens = list(tokenize(tune.partition("\nK:")[2].partition("\n")[2]))
        rests[rhythm] += any(t.kind == "rest" and not t.inside for t in tokens)
        chords[rhythm] += any(t.kind == "chord" for t in tokens)
    for rhythm, count in tunes.items():
        if count >= 20:
            assert abs(REST_SHARE[rhythm] - rests[rhythm] / count) < 0.015, (rhythm, rests[rhythm] / count)
            assert abs(DOUBLE_STOP_SHARE[rhythm] - chords[rhythm] / count) < 0.005, (rhythm, chords[rhythm] / count)


def test_double_stops_are_allowed_at_the_rhythms_share_by_seed():
    allowed = sum(double_stops_allowed("waltz", seed) for seed in range(4000)) / 4000
    assert abs(allowed - DOUBLE_STOP_SHARE["waltz"]) < 0.01
    drawn = [seed for seed in range(200) if not double_stops_allowed("waltz", seed)]
    assert DOUBLE_STOP <= absent_in_new("waltz", drawn[0], None, False)
    kept = next(seed for seed in range(200) if double_stops_allowed("waltz", seed))
    assert not DOUBLE_STOP & absent_in_new("waltz", kept, None, False)


def test_a_waltz_not_drawn_to_hold_double_stops_writes_none(monkeypatch):
    from bot.checkpoint import load_cached
    from bot.compose import marks
    from bot.generate import Settings, generate

    shipped = load_cached()
    seeds = [seed for seed in range(400) if not double_stops_allowed("waltz", seed)][:80]
    share = marks.DOUBLE_STOP_SHARE["waltz"]

    def body(seed: int) -> str:
        return generate("a waltz in G", Settings(seed=seed, bars=16), shipped).abc.partition("\nK:")[2]

    # Allowed in every waltz, the model writes them now and then (at other seeds on each compute
    # path): find a seed that does ...
    monkeypatch.setitem(marks.DOUBLE_STOP_SHARE, "waltz", 1.0)
    writer = next((seed for seed in seeds if "[" in body(seed)), None)
    assert writer is not None
    # ... then at the rhythm's own share, which did not draw these seeds to hold them, neither
    # it nor the others write one: it was the draw that kept them out.
    monkeypatch.setitem(marks.DOUBLE_STOP_SHARE, "waltz", share)
    assert not any("[" in body(seed) for seed in [writer, *seeds[:19]])


def test_rests_are_allowed_at_the_rhythms_share_by_seed():
    allowed = sum(rests_allowed("air", seed) for seed in range(2000)) / 2000
    assert abs(allowed - REST_SHARE["air"]) < 0.04
    assert not any(rests_allowed("polka", seed) for seed in range(200))  # people's polkas hold none
    assert rests_allowed("jig", 7) == rests_allowed("jig", 7)  # the seed decides


def test_hornpipes_are_straight_unless_dotted_ones_are_asked_for():
    assert BROKEN_RHYTHM <= absent_in_new("hornpipe", 1, None, False)
    assert not BROKEN_RHYTHM & absent_in_new("hornpipe", 1, None, True)  # "a dotted hornpipe"
    assert not BROKEN_RHYTHM & absent_in_new("hornpipe", 1, "oneill", False)  # "like O'Neill's"
    assert not BROKEN_RHYTHM & absent_in_new("reel", 1, None, False)
    assert REST_MARKS <= absent_in_new("polka", 1, None, False)


def test_a_new_tune_writes_none_of_its_absent_marks():
    from bot.checkpoint import load_cached
    from bot.generate import Settings, generate

    shipped = load_cached()
    for seed in range(3):
        abc = generate("a hornpipe in G", Settings(seed=seed, bars=8), shipped).abc
        assert ">" not in abc and "<" not in abc, abc
        abc = generate("a polka in D", Settings(seed=seed, bars=8), shipped).abc
        assert "z" not in abc.partition("\nK:")[2], abc


def test_a_straight_hornpipe_is_written_in_todays_manner():
    from bot import style
    from bot.checkpoint import load_cached
    from bot.compose.loop import Composer
    from bot.generate import Settings
    from bot.prompt import parse_prompt

    shipped = load_cached()
    for words, manner in (("a hornpipe in D", style.TODAY), ("a dotted hornpipe in D", None),
                          ("a hornpipe in D like Ryan's", "ryan")):
        update = None
        for update in Composer(shipped, parse_prompt(words, shipped.vocab), Settings(seed=3, bars=8), 3, None).run():
            pass
        assert (update.style == manner) if manner else update.style in style.known(shipped.card), (words, update.style)
