"""Each rhythm laid out as today's tunebooks lay it out (`bot.notation.layouts`)."""

from __future__ import annotations

from bot.notation.form import plan_form
from bot.notation.layout_survey import measure
from bot.notation.layouts import LAYOUTS, draw, usual_bars


def test_the_layouts_are_the_nmds_where_it_has_enough_tunes():
    from bot import nmd

    shares = measure([(t.text, t.file) for t in nmd.read()])
    for rhythm in ("reel", "jig", "hornpipe", "waltz"):
        tunes, three, unrepeated, _ = shares[rhythm]
        assert tunes >= 20
        assert abs(LAYOUTS[rhythm].three_parts - three) < 0.02, (rhythm, three)
        assert abs(LAYOUTS[rhythm].unrepeated - unrepeated) < 0.02, (rhythm, unrepeated)


def test_draws_come_at_the_layouts_shares():
    draws = [draw("reel", None, seed) for seed in range(3000)]
    assert abs(sum(d.parts == 3 for d in draws) / 3000 - LAYOUTS["reel"].three_parts) < 0.02
    assert abs(sum(not d.repeated for d in draws) / 3000 - LAYOUTS["reel"].unrepeated) < 0.02
    assert draw("jig", None, 5) == draw("jig", None, 5)


def test_the_usual_length_follows_the_rhythm():
    assert usual_bars("reel") == 16 and usual_bars("waltz") == 32 and usual_bars("air") == 32
    waltz = plan_form("waltz", None, 1)
    assert waltz.parts[0] == 16 and len(waltz.parts) in (2, 3)
    assert plan_form("waltz", 16, 1).parts == (8, 8)  # a short waltz asked for: 8-bar parts
    assert plan_form("jig", None, 1, asked_parts=3).parts == (8, 8, 8)  # "a three-part jig"
    assert all(p <= 64 for p in (plan_form("waltz", 64, s, asked_parts=5).bars for s in range(5)))


def test_a_dance_part_played_once_is_written_out_in_sixteen_bars():
    drawn = [plan_form("reel", None, seed) for seed in range(200)]
    once = [p for p in drawn if not p.repeated]
    assert once and all(set(p.parts) == {16} for p in once)  # the NMD's written-out repeats
    assert all(set(p.parts) == {8} for p in drawn if p.repeated)
    assert all(set(plan_form("reel", 16, seed).parts) == {8} for seed in range(50))  # a Length asked: 8-bar parts
