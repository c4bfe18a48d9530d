"""Continuing a pasted tune: the paste comes back byte for byte, and its form is completed as a
player would complete it (bench/continue.py measures the same on 100 unseen tunes)."""

from __future__ import annotations

import html
import re
from fractions import Fraction

import pytest

from bot.chat import Chat, ChatConfig, ChatError, Options, Session, interpret
from bot.generate import Settings, generate
from bot.harmonise import harmonise
from bot.notation.form import Part, plan_continuation, read_form
from bot.prompt import MAX_TUNE_CHARS, PromptError, parse_prompt

# An 8-bar repeated A part of a reel with no R: line, as people paste one.
REEL_A = ("X:1\nT:The Bird in the Bush\nM:4/4\nL:1/8\nK:G\n"
          "|:GABc dBGB|ABcA BGEG|GABc dBGB|AGFA G2FG|\nGABc dBGB|ABcA BGEG|Bdgd edBG|AGFA G4:|\n")
# A tunebook's way: K: first, then M: and L: before the music.
AFTER_K = ("X:2\nT:Old Time\nK:Am\nM:4/4\nL:1/4\n"
           "|:A A/B/ c e|d c B2|A A/B/ c e|d B A2|\nA A/B/ c e|d c B2|c B A G|E2 A2:|\n")
# Decorations, a double stop, an ending like |1,3, a comment, a directive and a lyrics line.
DECORATED = ("X:3\nT:Bowed\nN:from a session tunebook\n%%MIDI program 40\nM:6/8\nL:1/8\nR:jig\nK:D\n"
             "|:!downbow!A|d2e fed|[ee]dc BAG|FGA d2A|BAG FED|\n% second half\n"
             "d2e fed|[ee]dc BAG|FGA Bcd|1,3 e3 d2:|2 e3 d3||\nw: la la la\n")
# A jig cut mid-part after four bars.
JIG_HALF = "X:4\nT:Half a Jig\nM:6/8\nL:1/8\nR:jig\nK:D\n|:A|d2e fed|fed e2A|d2e fed|e3 d2A|\n"


@pytest.fixture(scope="module")
def loaded():
    from bot.checkpoint import load_cached

    return load_cached()


def parts_of(abc: str) -> list[tuple[Fraction, bool]]:
    return [(p.bars, p.repeated) for p in read_form(abc).parts]


# -- the plan ------------------------------------------------------------------------------------


def test_length_is_the_whole_tune_and_a_complete_a_part_gets_one_b_part():
    a = Part(Fraction(8), True, 67)
    # Length 16 is A and B: the B part only, shaped like A (8 bars, repeated).
    plan = plan_continuation("reel", [a], Fraction(0), 16)
    assert plan.parts == (8,) and plan.repeated and plan.marked
    # Length 32 would take four parts; a reel has two unless asked, and the note says so.
    plan = plan_continuation("reel", [a], Fraction(0), 32)
    assert plan.parts == (8,) and "three-part" in plan.note
    # Asked for three parts: B and C.
    assert plan_continuation("reel", [a], Fraction(0), 32, asked_parts=3).parts == (8, 8)
    # An unrepeated A gets an unrepeated B; a 16-bar A a 16-bar B.
    assert not plan_continuation("reel", [Part(Fraction(8), False, 67)], Fraction(0), 16).repeated
    assert plan_continuation("waltz", [Part(Fraction(16), True, 67)], Fraction(0), 32).parts == (16,)


def test_a_paste_that_fills_the_length_gets_one_more_part():
    a, b = Part(Fraction(8), True, 67), Part(Fraction(8), True, 67)
    plan = plan_continuation("jig", [a, b], Fraction(0), 16)
    assert plan.parts == (8,) and "one more part" in plan.note


def test_a_part_cut_short_is_finished_to_its_length_then_the_next_part_follows():
    assert plan_continuation("jig", [], Fraction(4), 16).parts == (8, 8)
    assert plan_continuation("jig", [Part(Fraction(8), True, 62)], Fraction(3), 16).parts == (8,)


# -- reading the paste ---------------------------------------------------------------------------


def test_fields_after_k_set_the_meter_and_unit_and_nothing_is_written_into_the_lines(loaded):
    prompt = parse_prompt(AFTER_K, loaded.vocab)
    # Read as 4/4 in crotchets (L:1/4), which the model reads in quavers and writes back in crotchets.
    assert (prompt.meter, prompt.unit, prompt.scale, prompt.key) == ("4/4", "1/8", Fraction(1, 2), "Am")
    assert prompt.written_unit == "1/4"  # the unit its new bars are written in: the paste's
    assert prompt.headers + prompt.music == AFTER_K  # no R:, M: or L: added
    assert prompt.prime.startswith("M:4/4\nL:1/8\nK:Am\n|:A2 AB c2 e2|")
    assert any(n.startswith("read as a tune in 4/4 (L:1/4), in A minor") for n in prompt.notices)


def test_inline_fields_change_the_meter_and_key_the_continuation_is_written_in(loaded):
    prompt = parse_prompt("X:1\nM:6/8\nL:1/8\nK:D\nd2e fed|fed e2A|[M:3/4][K:G] G2 B2 d2|g4 d2|\n", loaded.vocab)
    assert (prompt.meter, prompt.key) == ("3/4", "G")


def test_lyrics_comments_and_directives_are_kept_and_not_fed_to_the_model(loaded):
    prompt = parse_prompt(DECORATED, loaded.vocab)
    assert prompt.headers + prompt.music == DECORATED
    for kept_out in ("la la", "second half", "MIDI program", "session tunebook", "!downbow!"):
        assert kept_out not in prompt.prime


def test_a_tune_among_several_is_chosen_by_number_and_the_notice_names_it(loaded):
    book = "".join(f"X:{n}\nT:Tune {n}\nM:6/8\nL:1/8\nK:D\nd2e fed|fed e2A|\n\n" for n in range(1, 34))
    first = parse_prompt(book, loaded.vocab)
    assert first.headers.startswith("X:1\nT:Tune 1\n")
    assert any("continuing the first of 33 (Tune 1)" in n for n in first.notices)
    third = parse_prompt("continue tune 3\n" + book, loaded.vocab)
    assert third.headers.startswith("X:3\nT:Tune 3\n")
    assert any("the third of 33" in n for n in third.notices)
    with pytest.raises(PromptError, match="holds 33 tunes"):
        parse_prompt("tune 40\n" + book, loaded.vocab)


def test_a_long_tunebook_is_read_but_a_tune_longer_than_the_limit_is_refused(loaded):
    book = "".join(f"X:{n}\nT:Tune {n}\nM:6/8\nL:1/8\nK:D\n" + "d2e fed|fed e2A|" * 8 + "\n\n" for n in range(1, 200))
    assert len(book) > 5 * MAX_TUNE_CHARS
    assert parse_prompt(book, loaded.vocab).is_continuation
    huge = "X:1\nM:6/8\nL:1/8\nK:D\n" + "d2e fed|" * (MAX_TUNE_CHARS // 8)
    with pytest.raises(PromptError, match=f"{MAX_TUNE_CHARS:,}"):
        parse_prompt(huge, loaded.vocab)


# -- the generator -------------------------------------------------------------------------------


@pytest.mark.parametrize("paste", [REEL_A, AFTER_K, DECORATED], ids=["reel-no-R", "M-L-after-K", "decorated"])
def test_a_complete_a_part_comes_back_verbatim_as_aabb_ending_on_its_tonic(loaded, paste):
    for seed in (0, 1):
        tune = generate(paste, Settings(seed=seed, bars=16), loaded)
        assert tune.abc.startswith(paste), tune.abc
        parts = parts_of(tune.abc)
        a = parts_of(paste)[0]
        assert len(parts) == 2 and parts[1] == a, (parts, tune.abc)  # B as long as A, repeated as A is
        assert read_form(tune.abc).ends_on_tonic
        new = tune.abc[len(paste):]
        assert not re.search(r"(?m)^[A-Za-z]:", new)  # nothing inserted: no header line in the new text


def test_a_part_cut_mid_way_is_completed_then_a_b_part_follows(loaded):
    tune = generate(JIG_HALF, Settings(seed=3, bars=16), loaded)
    assert tune.abc.startswith(JIG_HALF)
    assert parts_of(tune.abc) == [(8, True), (8, True)]


def test_new_bars_keep_the_pastes_notation(loaded):
    # The reel pastes no rests, decorations, bowings or backticks: the new bars write none.
    for seed in range(4):
        new = generate(REEL_A, Settings(seed=seed, bars=16), loaded).abc[len(REEL_A):]
        assert not set(new) & set("zxZ!+uv`"), new


def test_with_the_accompaniment_only_the_new_bars_get_chords(loaded):
    tune = generate(REEL_A, Settings(seed=0, bars=16), loaded)
    chorded = harmonise(tune.abc, fill_from=tune.new_from)
    assert chorded.startswith(REEL_A) and chorded.count('"') > 0


# -- the chat ------------------------------------------------------------------------------------


@pytest.fixture
def bot(tmp_path):
    return Chat(ChatConfig(outputs=tmp_path / "outputs", min_interval_s=0.0, poll_s=0.05))


@pytest.mark.parametrize("accompaniment", ["guitar", None])
def test_the_chat_gives_the_paste_back_byte_for_byte_with_and_without_chords(bot, accompaniment):
    options = Options(bars=16, seed=5, accompaniment=accompaniment)
    final = list(bot.reply(REEL_A, [], Session(), options))[-1]
    assert final.done and final.error is None
    assert final.tune.startswith(REEL_A)  # no T:, R: or chord written into the paste
    new = final.tune[len(REEL_A):]
    assert ('"' in new) == (accompaniment is not None)  # the new bars carry chords only with one
    reply = html.unescape(re.sub(r"\\(.)", r"\1", final.history[-1]["content"]))  # as the page shows it
    assert "16 bars in all, 8 of them new" in reply and "read as a reel in 4/4, in G major" in reply
    # The ABC download is the tune shown.
    abc_files = list(bot.config.outputs.rglob("*.abc"))
    assert abc_files and all(path.read_text().startswith(REEL_A) for path in abc_files)


def test_continue_tune_n_picks_another_tune_from_the_last_paste():
    book = "X:1\nT:First\nM:6/8\nL:1/8\nK:D\nd2e fed|\n\nX:2\nT:Second\nM:3/4\nL:1/4\nK:G\nG2 B|d2 B|\n"
    session = Session(pasted=book)
    intent = interpret("continue tune 2", session, Options())
    assert intent.kind == "paste" and intent.prompt.endswith(book[book.index("X:1"):])
    with pytest.raises(ChatError, match="several tunes"):
        interpret("continue tune 2", Session(), Options())


def test_a_tune_barred_in_halves_is_continued_in_half_bars(loaded):
    halves = "X:1\nT:Halves\nM:4/4\nL:1/8\nK:D\n|:d2 fd|ed cB|A2 FA|dF AF|d2 fd|ed cB|AF EF|D4:|\n"
    prompt = parse_prompt(halves, loaded.vocab)
    assert prompt.meter == "2/4" and prompt.headers + prompt.music == halves  # its M:4/4 stays
    assert any("barred in halves" in n and n.startswith("read as a reel in 4/4") for n in prompt.notices)
    tune = generate(halves, Settings(seed=1, bars=16), loaded)
    assert tune.abc.startswith(halves)
    from bot.notation.bars import Timing, measure, split_bars

    new_bars = [measure(text, Timing("none", Fraction(1, 8))).duration
                for text, token in split_bars(tune.abc[len(halves):]) if token and text.strip(" :|")]
    assert new_bars and all(length == Fraction(1, 2) for length in new_bars[1:-1]), new_bars


def test_a_tune_in_sixteenths_keeps_its_unit(loaded):
    paste = "X:1\nT:Sixteenths\nM:2/4\nL:1/16\nK:G\n|:G2B2 d2B2|c2e2 d2B2|G2B2 d2g2|f2a2 g4:|\n"
    tune = generate(paste, Settings(seed=2, bars=8), loaded)
    assert tune.abc.startswith(paste)
    assert parse_prompt(paste, loaded.vocab).unit == "1/16"
    assert [p[0] for p in parts_of(tune.abc)] == [4, 4]


def test_lengths_are_rescaled_exactly_and_back():
    from bot.notation.units import halves_style, rescale

    crotchets = '"G"gd Bd/2B/2|E/2F/2G/2A/2 B-B|{g}cA z/2 [ce]2 (3A/2B/2c/2 A>B|'
    quavers = '"G"g2d2 B2dB|EFGA B2-B2|{g2}c2A2 z [c2e2]2 (3ABc A2>B2|'
    assert rescale(crotchets, 2) == quavers
    assert rescale(quavers, Fraction(1, 2), halves_style(crotchets)) == crotchets
    assert halves_style("A/B/ c") == "/" and rescale("AB c2", Fraction(1, 2)) == "A/B/ c"


# The NMD's way with a hornpipe: crotchet unit, sixteenths as `/2`, the A part closed by `::`.
CROTCHETS = ("X:1\nT:Crotchets\nM:4/4\nL:1/4\nK:D\n(3A,/2B,/2C/2|D/2E/2F/2A/2 d/2F/2A/2F/2|"
             "B/2F/2A/2F/2 E/2F/2G/2A/2|B/2d/2A/2F/2 E/2G/2F/2E/2|D/2E/2F/2A/2 d/2F/2A/2F/2|\n"
             "B/2F/2A/2F/2 E/2F/2G/2A/2|d/2f/2e/2d/2 c/2B/2A/2G/2|B/2d/2A/2F/2 E/2G/2F/2E/2|"
             "(3F/2G/2F/2 (3E/2F/2E/2 D::\n")


def test_a_crotchet_unit_paste_is_read_in_quavers_and_continued_in_its_own_unit(loaded):
    prompt = parse_prompt(CROTCHETS, loaded.vocab)
    assert prompt.unit == "1/8" and "L:1/8" in prompt.prime and "D2(DE)" not in prompt.prime
    assert "(3A,B,C|DEFA dFAF|" in prompt.prime  # the model reads quavers
    for seed in (0, 1, 2):
        tune = generate(CROTCHETS, Settings(seed=seed, bars=16), loaded)
        assert tune.abc.startswith(CROTCHETS)
        # After `::` the B part is open already; it is repeated like A and as long.
        assert parts_of(tune.abc) == [(8, True), (8, True)], tune.abc
        assert read_form(tune.abc).ends_on_tonic
        new = tune.abc[len(CROTCHETS):]
        assert "/2" in new and not re.search(r"[A-Ga-g][,']*/(?![/\d])", new)  # halves spelled as the paste does
