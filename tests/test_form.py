"""Form: parts, pickups, repeats and endings read from ABC; tonics; the form the generator writes."""

from fractions import Fraction

import pytest
import torch

from bot.checkpoint import DEFAULT_CHECKPOINT, load
from bot.generate import Settings, generate
from bot.notation.form import FormPlan, FormTracker, explicit_repeats, plan_continuation, plan_form, read_form
from bot.notation.bars import read_body
from bot.notation.tokens import key_signature, model_view, tonic
from bot.prompt import parse_prompt

HEAD = "X:1\nM:6/8\nL:1/8\nR:jig\nK:D\n"


@pytest.fixture(scope="module")
def shipped():
    """The checkpoint in the repo, sampled on one torch thread as the bot runs it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield load(DEFAULT_CHECKPOINT)
    torch.set_num_threads(threads)


def test_two_repeated_parts_with_pickups_count_as_eight_bars():
    # A pickup `A` and each part's short last bar (`d3 d2`) make one bar between them.
    abc = HEAD + ("A|dAF dAF|GBd gfe|dAF dAF|GEF G2A|dAF dAF|GBd gfe|fdB AFE|d3 d2:|\n"
                  "e|fdf afd|gbg fed|fdf afd|ecA A2e|fdf afd|gbg fed|fdB AFE|d3 d2:|\n")
    form = read_form(abc)
    assert [p.bars for p in form.parts] == [8, 8]
    assert all(p.repeated for p in form.parts)
    assert form.regular and form.two_repeated_eights and form.ends_on_tonic
    assert form.describe() == "AABB: two 8-bar parts, each played twice"


def test_pickup_before_a_repeat_sign_joins_its_part():
    abc = HEAD + "A|:dAF dAF|GBd gfe|dAF dAF|GEF G2A|dAF dAF|GBd gfe|fdB AFE|d3 d2:|\n"
    form = read_form(abc)
    assert [p.bars for p in form.parts] == [8] and form.parts[0].repeated


def test_first_and_second_endings_count_once():
    abc = HEAD + ("|:dAF dAF|GBd gfe|dAF dAF|GEF G3|dAF dAF|GBd gfe|fdB AFE|1 d3 d2A:|2 d3 d3||\n"
                  "|:fdf afd|gbg fed|fdf afd|ecA A3|fdf afd|gbg fed|fdB AFE|[1 d3 d3:|[2 d6|]\n")
    form = read_form(abc)
    assert [p.bars for p in form.parts] == [8, 8]
    assert all(p.repeated for p in form.parts) and form.ends_on_tonic


def test_double_colon_ends_one_repeated_part_and_starts_the_next():
    abc = HEAD + ("|:dAF dAF|GBd gfe|dAF dAF|GEF G3::"
                  "fdf afd|gbg fed|fdf afd|ecA d3:|\n")
    form = read_form(abc)
    assert [p.bars for p in form.parts] == [4, 4] and all(p.repeated for p in form.parts)


def test_written_out_repeat_and_part_labels():
    # A part written out twice is one 16-bar part, played once; `P:` lines are no music.
    part = "dAF dAF|GBd gfe|dAF dAF|GEF G3|dAF dAF|GBd gfe|fdB AFE|d3 d3|"
    abc = HEAD + "P:A\n" + part + part[:-1] + "||\nP:B\n" + "fdf afd|gbg fed|fdf afd|ecA d3|]\n"
    form = read_form(abc)
    assert [p.bars for p in form.parts] == [16, 4]
    assert not form.repeats and form.regular


def test_a_part_of_odd_length_is_irregular():
    form = read_form(HEAD + "dAF dAF|GBd gfe|dAF dAF|GEF G3|dAF dAF|d6|]\n")
    assert [p.bars for p in form.parts] == [6] and not form.regular


@pytest.mark.parametrize("key,root,last,ends", [
    ("D", "D", "d6", True), ("Em", "E", "e6", True), ("Ador", "A", "A6", True),
    ("Dmix", "D", "D6", True), ("Gm", "G", "G6", True), ("Ador", "A", "G6", False),
    ("Em", "E", "G6", False), ("F#m", "F#", "F6", True),  # F is F# in F# minor's signature
])
def test_the_tonic_of_each_mode(key, root, last, ends):
    assert tonic(key) == root
    abc = f"X:1\nM:6/8\nL:1/8\nK:{key}\nABc dcB|{last}|]\n"
    assert read_form(abc).ends_on_tonic is ends


def test_key_signatures_and_bar_accidentals():
    assert key_signature("Ador") == {**dict.fromkeys("CDEGAB", 0), "F": 1}
    assert key_signature("Bb")["B"] == key_signature("Bb")["E"] == -1
    bar = read_body("^F G F2 =F2|F2\n", "4/4", "1/8", "C")
    assert [e.pitches[0] for e in bar[0].events] == [66, 67, 66, 65]  # `^F` holds to `=F`
    assert bar[1].events[0].pitches == (65,)  # and ends with the bar


def test_the_model_reads_a_pasted_tune_without_chord_symbols(shipped):
    pasted = ('X:1\nT:Chords\nM:6/8\nL:1/8\nK:G\n"G"GAB "D7"dBG|"C"c2e "G"dBG|"Am"A2B "D"c2d|'
              '"^Segue"!trill!e3 "G"d2B|\n')
    prompt = parse_prompt(pasted, shipped.vocab)
    body = prompt.prime.split("K:G\n", 1)[1]
    assert '"' not in body and "!" not in body
    assert body.startswith("GAB dBG|c2e dBG|A2B c2d|e3 d2B|")
    tune = generate(prompt, Settings(seed=3), shipped)
    assert '"G"GAB "D7"dBG|"C"c2e "G"dBG|"Am"A2B "D"c2d|"^Segue"!trill!e3 "G"d2B|' in tune.abc
    assert model_view('"G" A2 "D" B2|') == " A2 B2|"


def test_seeded_tunes_end_on_the_tonic_with_regular_parts(shipped):
    prompts = ("a jig in D", "a reel in G", "a hornpipe in A", "a polka in D", "a slow air in E minor")
    for prompt in prompts:
        for seed in range(4):
            tune = generate(prompt, Settings(seed=seed), shipped)
            form = read_form(tune.abc)
            assert form.ends_on_tonic and form.regular, (prompt, seed, tune.abc, form)
            assert '"' not in tune.abc.split("\nK:", 1)[1]  # chords are the harmoniser's to write
            if "air" not in prompt:  # laid out as drawn for the rhythm (a written part may join phrases)
                plan = plan_form(prompt.split()[1], None, seed)
                assert [p.bars for p in form.parts] == [bars for bars, _ in plan.written()], (prompt, seed, tune.abc)
                if plan.repeats:  # a layout of the NMD's: each part repeated as it is there
                    assert [p.repeated for p in form.parts] == [r for _, r in plan.written()], (prompt, seed, tune.abc)
                elif plan.repeated:
                    assert all(p.repeated for p in form.parts), (prompt, seed, tune.abc)


def test_every_part_is_played_twice_by_music21(shipped):
    # `A:| B:|` would send music21 back to the start (AABAAB); a part after the first opens with `|:`.
    from music21 import converter

    for prompt, rhythm in (("a polka in D", "polka"), ("a jig in G", "jig")):
        seed = next(s for s in range(1, 50) if plan_form(rhythm, None, s).repeated)
        tune = generate(prompt, Settings(seed=seed), shipped)
        score = converter.parseData("%abc-2.1\n" + tune.abc, format="abc")
        written = len(score.flatten().notes)
        assert len(score.expandRepeats().flatten().notes) == 2 * written, tune.abc


def test_a_pasted_half_part_is_completed_to_its_form(shipped):
    pasted = "X:1\nT:Half\nM:6/8\nL:1/8\nR:jig\nK:D\nA|dAF dAF|GBd gfe|dAF dAF|GEF G2A|\n"
    tune = generate(pasted, Settings(seed=5), shipped)
    assert tune.abc.startswith(pasted.rstrip("\n"))
    form = read_form(tune.abc)
    assert form.parts[0].bars == 8 and form.regular and form.ends_on_tonic, tune.abc
    assert form.dance_form


def test_a_length_that_fits_no_form_is_rounded_and_named(shipped):
    seed = next(s for s in range(1, 50) if plan_form("reel", 12, s).repeated)
    tune = generate("a reel in G", Settings(seed=seed, bars=12), shipped)
    assert any("12 bars" in n and "16" in n for n in tune.notices), tune.notices
    assert tune.form == "AABB: two 8-bar parts, each played twice"
    assert plan_form("reel", 12).bars == 16 and plan_form("reel", 28).bars == 32
    assert plan_form(None, 16).describe() == "AB: two 8-bar phrases"
    assert plan_form(None, 3).parts == (4,) and plan_form("jig", 4).parts == (8, 8)


def test_continuation_plan_finishes_the_open_part_first():
    plan = plan_continuation("jig", [], Fraction(4), 16)
    assert plan.parts[0] == 8 and plan.repeated and plan.done == 4
    assert len(plan.parts) >= 2


def test_tracker_judges_part_ends():
    tracker = FormTracker(FormPlan((8, 8), True), tonic=2)  # D
    beat = Fraction(3, 8)
    assert tracker.judge(Fraction(1), "|", [], beat) == ""
    assert tracker.judge(Fraction(0), "|:", [], beat) == ""  # `|:` before a part's first bar
    three = FormTracker(FormPlan((8, 8), True), tonic=2, length=Fraction(3))
    assert "inside" in three.judge(Fraction(0), "||", [], beat)
    assert "after 4" in three.judge(Fraction(1), "||", [], beat)
    seven = FormTracker(FormPlan((8, 8), True), tonic=2, length=Fraction(7))
    assert "repeat" in seven.judge(Fraction(1), "|", [(62, Fraction(0))], beat)
    assert seven.judge(Fraction(1), ":|", [(62, Fraction(3, 8)), (57, Fraction(5, 8))], beat) == ""  # A leads back
    assert "tonic or the fifth" in seven.judge(Fraction(1), ":|", [(64, Fraction(3, 8))], beat)
    last = FormTracker(FormPlan((8, 8), True), tonic=2, index=1, length=Fraction(7))
    assert "tonic" in last.judge(Fraction(1), ":|", [(69, Fraction(3, 8))], beat)
    assert "beat" in last.judge(Fraction(1), ":|", [(62, Fraction(5, 8))], beat)
    assert last.judge(Fraction(1), ":|", [(74, Fraction(3, 8))], beat) == ""
    assert last.after(Fraction(1), ":|").finished
    second = FormTracker(FormPlan((8, 8), True), tonic=2, index=1)
    assert "opens with |:" in second.judge(Fraction(1), "|", [], beat)
    assert second.needs_opening and not second.after(Fraction(0), "|:").needs_opening
    assert second.after(Fraction(0), "|:").judge(Fraction(1), "|", [], beat) == ""
    assert not seven.after(Fraction(1), "::").needs_opening  # `::` closes A and opens B


def test_a_part_played_once_is_not_opened_by_the_repeat_before_it():
    # The jig's 8r 8 8r: A and C repeated, B played once. `A::` would open a repeat for B that
    # B's end leaves open, so no `|:` could open C: composed from seed 11 on the int4 path, every
    # try of C was lost and the tune ended after B.
    plan = FormPlan((8, 8, 8), False, repeats=(True, False, True))
    beat, d = Fraction(3, 8), [(62, Fraction(0))]
    a_end = FormTracker(plan, tonic=2, length=Fraction(43, 6))  # a pickup began A: its last bar is short
    assert "next part is played once" in a_end.judge(Fraction(5, 6), "::", d, beat)
    assert a_end.judge(Fraction(5, 6), ":|", d, beat) == ""
    b_end = a_end.after(Fraction(5, 6), ":|").after(Fraction(43, 6), "|")
    assert (b_end.index, b_end.length) == (1, Fraction(43, 6))
    assert b_end.judge(Fraction(5, 6), "|:", d, beat) == ""  # B's last bar may open C's repeat
    assert b_end.judge(Fraction(5, 6), "||", d, beat) == ""  # or C opens on a line of its own
    c = b_end.after(Fraction(5, 6), "||")
    assert c.needs_opening and "opens with |:" in c.judge(Fraction(1), "|", d, beat)


def test_tracker_judges_a_written_layout():
    # The NMD's 8r 16: A repeated, then B's 16 bars written out as one part (two joined phrases).
    plan = FormPlan((8, 8, 8), False, repeats=(True, False, False), joined=frozenset({1}), marked=True)
    assert plan.written() == ((8, True), (16, False)) and plan.describe() == "AAB: two parts of 8, 16 bars, A repeated"
    beat = Fraction(3, 8)
    a_end = FormTracker(plan, tonic=2, length=Fraction(7))
    assert a_end.judge(Fraction(1), ":|", [(62, Fraction(0))], beat) == ""
    b = a_end.after(Fraction(1), ":|")
    assert not b.needs_opening and b.judge(Fraction(1), "|", [], beat) == ""  # B, played once, opens plainly
    assert "not repeated" in b.judge(Fraction(0), "|:", [], beat)
    b_half = FormTracker(plan, tonic=2, index=1, length=Fraction(7))
    assert "inside a written part" in b_half.judge(Fraction(1), "||", [(62, Fraction(0))], beat)
    assert b_half.judge(Fraction(1), "|", [(62, Fraction(0))], beat) == ""  # its phrase's cadence, no line
    assert "tonic or the fifth" in b_half.judge(Fraction(1), "|", [(64, Fraction(0))], beat)
    assert "not repeated" in b_half.judge(Fraction(1), ":|", [(62, Fraction(0))], beat)
    b_end = FormTracker(plan, tonic=2, index=2, length=Fraction(7))
    assert "not repeated" in b_end.judge(Fraction(1), ":|", [(62, Fraction(0))], beat)
    assert b_end.judge(Fraction(1), "|]", [(62, Fraction(0))], beat) == ""
    # A waltz's one 32-bar part repeated: `|:` only at its start, `:|` only at its end.
    whole = FormPlan((16, 16), True, repeats=(True, True), joined=frozenset({0}), marked=True)
    assert "inside" in FormTracker(whole, tonic=2, length=Fraction(15)).judge(Fraction(1), ":|", [(62, Fraction(0))], beat)
    second = FormTracker(whole, tonic=2, index=1)
    assert not second.needs_opening and second.judge(Fraction(1), "|", [], beat) == ""
    assert FormTracker(whole, tonic=2, index=1, length=Fraction(15)).judge(Fraction(1), ":|", [(62, Fraction(0))], beat) == ""


def test_explicit_repeats_open_a_part_that_only_closes_one():
    assert explicit_repeats("CDEF:|\nGABc:|\n") == "CDEF:| |:\nGABc:|\n"
    assert explicit_repeats("|:CD:|\n|:EF:|\n") == "|:CD:|\n|:EF:|\n"  # already opened
    assert explicit_repeats("CD::EF:|\n") == "CD::EF:|\n"
    assert explicit_repeats("C|1 D:|2 E||\nF:|\n") == "C|1 D:|2 E||\nF:|\n"  # after endings: left alone


def test_a_short_closing_bar_is_steered_from_its_first_note(shipped):
    # A waltz whose part opens on a one-beat pickup closes it with two beats; model 4 wrote
    # `B2 :|` in G try after try: the steer began on the second beat, where no note started,
    # and the part never closed on the tonic (seed 7). Now the first note is steered too.
    for seed in range(5, 9):
        tune = generate("a waltz in G", Settings(seed=seed), shipped)
        form = read_form(tune.abc)
        assert form.ends_on_tonic and form.regular, (seed, tune.abc, form)
