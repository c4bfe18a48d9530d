"""Each rhythm laid out as today's tunebooks lay it out (`bot.notation.layouts`)."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.notation.form import plan_form, read_form
from bot.notation.layout_survey import measure
from bot.notation.layouts import LAYOUTS, PART_SHARES, WRITTEN, draw, kind_of, parse, usual_bars


@pytest.fixture(scope="module")
def nmd_tunes():
    from bot import nmd

    return [(t.text, t.file) for t in nmd.read()]


def test_the_layouts_are_the_nmds_where_it_has_enough_tunes(nmd_tunes):
    shares = measure(nmd_tunes)
    for rhythm in ("reel", "jig", "hornpipe", "waltz"):
        tunes, three, unrepeated, _ = shares[rhythm]
        assert tunes >= 20
        assert abs(LAYOUTS[rhythm].three_parts - three) < 0.02, (rhythm, three)
        assert abs(LAYOUTS[rhythm].unrepeated - unrepeated) < 0.02, (rhythm, unrepeated)


def nmd_layouts(pairs) -> dict[str, Counter]:
    """{rhythm: Counter of layouts}, counted here as the NMD writes them: each part's bars as
    `read_form` reads them, rounded (a pickup written before a section line reads 65/4 63/4),
    "r" where played twice; 8 to 64 bars of parts of whole 4-bar multiples."""
    from bot.rhythm_labels import rhythm_of

    found: dict[str, Counter] = {}
    for text, file in pairs:
        parts = read_form(text).parts
        bars = [round(p.bars) for p in parts]
        if parts and all(b % 4 == 0 for b in bars) and 8 <= sum(bars) <= 64:
            layout = " ".join(f"{b}{'r' if p.repeated else ''}" for b, p in zip(bars, parts))
            found.setdefault(rhythm_of(text, file)[0], Counter())[layout] += 1
    return found


def test_a_new_tune_is_drawn_from_the_nmds_layouts_at_its_shares(nmd_tunes):
    counted = nmd_layouts(nmd_tunes)
    for rhythm, written in WRITTEN.items():
        nmd = {k: v for k, v in counted[rhythm].items() if v >= 2}  # a layout two tunes or more write
        assert written == nmd, rhythm
        plans = [plan_form(rhythm, None, seed).written() for seed in range(4000)]
        kinds = {kind_of(layout) for layout in nmd}
        for kind in kinds:
            # Within a kind (all 8-bar parts, all 16, other), each layout at its NMD count's share.
            of_kind = {k: v for k, v in nmd.items() if kind_of(k) == kind}
            drawn = {k: plans.count(parse(k)) for k in of_kind}
            for layout, count in of_kind.items():
                share = drawn[layout] / max(1, sum(drawn.values()))
                assert abs(share - count / sum(of_kind.values())) < 0.03, (rhythm, layout, share)


def test_part_lengths_come_at_the_whole_nmds_shares(nmd_tunes):
    # The goal of bench/session_style.py: the shares of tunes in 8-bar parts and in 16-bar parts
    # within 10 points of the NMD's, parts rounded to whole bars. The layouts drawn are the NMD's;
    # the shares are its whole count's, the tunes no layout imitates included.
    from bot.rhythm_labels import rhythm_of

    for rhythm in ("reel", "jig", "hornpipe", "waltz"):
        readings = [read_form(text).parts for text, file in nmd_tunes if rhythm_of(text, file)[0] == rhythm]
        plans = [plan_form(rhythm, None, seed).written() for seed in range(4000)]
        for size in (8, 16):
            nmd = sum(bool(p) and all(round(x.bars) == size for x in p) for p in readings) / len(readings)
            assert abs(PART_SHARES[rhythm][str(size)] - nmd) < 0.001, (rhythm, size, nmd)
            ours = sum(all(bars == size for bars, _ in p) for p in plans) / len(plans)
            assert abs(ours - nmd) < 0.02, (rhythm, size, ours, nmd)


def test_draws_come_at_the_layouts_shares():
    # A Length asked for: the rhythm's part length, three parts and parts played once at LAYOUTS' shares.
    draws = [draw("reel", 32, seed) for seed in range(3000)]
    assert abs(sum(not d.repeated for d in draws) / 3000 - LAYOUTS["reel"].unrepeated) < 0.02
    three = [draw("reel", None, seed, asked_parts=3) for seed in range(50)]
    assert all(d.parts == 3 and not d.written for d in three)
    assert draw("jig", None, 5) == draw("jig", None, 5)  # one seed, one layout


def test_the_usual_length_follows_the_rhythm():
    assert usual_bars("reel") == 16 and usual_bars("waltz") == 32 and usual_bars("air") == 32
    waltz = plan_form("waltz", None, 1)
    assert waltz.bars == 32 and set(waltz.parts) <= {8, 16}
    assert plan_form("waltz", 16, 1).parts == (8, 8)  # a short waltz asked for: 8-bar parts
    assert plan_form("jig", None, 1, asked_parts=3).parts == (8, 8, 8)  # "a three-part jig"
    assert all(p <= 64 for p in (plan_form("waltz", 64, s, asked_parts=5).bars for s in range(5)))


def test_a_written_layout_keeps_the_phrases_and_only_moves_the_section_lines():
    plans = [plan_form("reel", None, seed) for seed in range(300)]
    # Composed in 8-bar phrases whatever the layout (4-bar ones where a part is 4 or 12 bars):
    # the cadences fall where AABB's do.
    assert all(set(p.parts) == ({4} if any(b % 8 for b, _ in p.written()) else {8}) for p in plans)
    one_part = next(p for p in plans if p.written() == ((32, False),))  # the NMD's commonest once
    assert one_part.joined == {0, 1, 2} and one_part.describe() == "A: one 32-bar part"
    b_out = next(p for p in plans if p.written() == ((8, True), (16, False)))  # A repeated, B written out
    assert b_out.repeats == (True, False, False) and b_out.joined == {1}
    waltz = next(p for p in (plan_form("waltz", None, s) for s in range(50)) if p.written() == ((32, True),))
    assert waltz.parts == (16, 16) and waltz.joined == {0}  # `|: 32 bars :|`, a cadence at 16
    assert all(set(plan_form("reel", 16, seed).parts) == {8} for seed in range(50))  # a Length asked: 8-bar parts


def test_every_written_layout_is_composed_and_reads_back_as_drawn():
    # Each of WRITTEN's layouts, composed from a seed that draws it: read back from the tune's
    # text (section lines, repeats, parts rounded to whole bars) it is the layout drawn.
    from bot.checkpoint import load_cached
    from bot.generate import Settings, generate
    from bot.notation.layout_survey import layout_of

    shipped = load_cached()
    for rhythm, table in WRITTEN.items():
        for layout in table:
            seed = next(s for s in range(20_000) if plan_form(rhythm, None, s).written() == parse(layout))
            abc = generate(f"a {rhythm} in D", Settings(seed=seed), shipped).abc
            assert layout_of(abc) == layout, (rhythm, layout, seed, abc)
