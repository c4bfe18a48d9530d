"""Sampling: reproducible, streamed text that only grows, complete tunes, bars in time, shared steps."""

import threading
from fractions import Fraction

import pytest
import torch

from bot.notation.abc import parse_meter
from bot.notation.bars import BarRules, BarSplitter, Timing, audit
from bot.checkpoint import DEFAULT_CHECKPOINT, Loaded, load
from bot.engine import BatchEngine
from bot.generate import Settings, compose, generate, main
from bot.model import CharLSTM, ModelConfig
from bot.prompt import parse_prompt
from bot.stepper import Stepper, stepper_for
from bot.notation.syntax import SyntaxGuard

VOCAB = "\n !\"#$'()*+,-./0123456789:<=>ABCDEFGHIKLMNOPQRSTUVWZ[\\]^_`abcdefghijklmnoprstuvwxyz{|}~"

KESH = """X:7
T:The Kesh
M:6/8
L:1/8
R:jig
K:G
|:D|GAG GAB|ABA ABd|edd gdd|edB dBA|
GAG GAB|ABA AB"""


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread, as the bot runs: tiny products gain nothing from two, and lose a lot
    when the other core is busy."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny() -> Loaded:
    """An untrained two-layer model: fast, and writes anything at all."""
    torch.manual_seed(0)
    model = CharLSTM(ModelConfig(vocab_size=len(VOCAB), embedding=8, hidden=32, layers=2, dropout=0.0))
    model.eval()
    return Loaded(model=model, vocab=VOCAB, card={})


@pytest.fixture(scope="module")
def shipped() -> Loaded:
    """The checkpoint in the repo (loaded once for this module)."""
    return load(DEFAULT_CHECKPOINT)


def body_and_timing(abc: str) -> tuple[str, Timing]:
    """The music after the K: line, and the M:/L: it starts with."""
    head, body = abc.split("\nK:", 1)[0], abc.split("\nK:", 1)[1].split("\n", 1)[1]
    fields = dict(line.split(":", 1) for line in head.splitlines() if line[1:2] == ":")
    numerator, denominator = fields["L"].split("/")
    return body, Timing(fields["M"], Fraction(int(numerator), int(denominator)))


def test_same_seed_same_tune(tiny):
    settings = Settings(seed=7, bars=4, max_chars=400)
    first, again = generate("a reel in G", settings, tiny), generate("a reel in G", settings, tiny)
    assert first.abc == again.abc and first.seed == 7
    other = generate("a reel in G", Settings(seed=8, bars=4, max_chars=400), tiny)
    assert other.abc != first.abc


def test_seed_is_reported_when_random(tiny):
    tune = generate("", Settings(bars=2, max_chars=200), tiny)
    assert generate("", Settings(seed=tune.seed, bars=2, max_chars=200), tiny).abc == tune.abc


def test_stream_only_grows_and_ends_with_the_final_text(shipped):
    updates = list(compose("a jig in D", Settings(seed=3, bars=8), shipped))
    for before, after in zip(updates, updates[1:]):
        assert after.abc.startswith(before.abc)
    assert [u.done for u in updates] == [False] * (len(updates) - 1) + [True]
    final = updates[-1].abc
    assert final.startswith("X:1\nM:6/8\nL:1/8\nR:jig\nK:D\n")
    assert final.rstrip().endswith(("|]", ":|"))
    assert len({u.new_from for u in updates}) == 1


@pytest.mark.parametrize("prompt", ["", "an air"])
def test_every_tune_has_the_required_headers(shipped, prompt):
    abc = generate(prompt, Settings(seed=11, bars=4), shipped).abc
    lines = abc.splitlines()
    assert lines[0] == "X:1"
    for name in "MLK":
        assert any(line.startswith(f"{name}:") for line in lines)
    meter = next(line[2:] for line in lines if line.startswith("M:"))
    assert parse_meter(meter) is not None


def test_pasted_tune_is_continued_from_where_it_ends(shipped):
    prompt = parse_prompt(KESH, shipped.vocab)
    tune = generate(prompt, Settings(seed=5, bars=8), shipped)
    assert tune.abc.startswith(prompt.headers + prompt.music)
    assert tune.new_from == len(prompt.headers + prompt.music)
    assert tune.abc[tune.new_from :].strip()  # something new was written
    body, timing = body_and_timing(tune.abc)
    assert all(v.ok for v in audit(body, timing))  # the pasted half bar was completed in time


def test_twenty_tunes_at_temperature_one_have_every_bar_in_time(shipped):
    prompts = ["", "a jig in D", "a reel in G", "a hornpipe in A", "a waltz in G"]
    for i in range(20):
        tune = generate(prompts[i % 5], Settings(temperature=1.0, seed=100 + i, bars=16), shipped)
        body, timing = body_and_timing(tune.abc)
        verdicts = audit(body, timing)
        assert all(v.ok for v in verdicts), (tune.abc, [v for v in verdicts if not v.ok])
        assert tune.abc.rstrip().endswith(("|]", ":|"))
        assert tune.bars == sum(v.counts for v in verdicts) <= 16  # the length the page reports


def test_length_in_bars_is_respected_without_form(shipped):
    tune = generate("a reel in D", Settings(seed=2, bars=4, form=False), shipped)
    body, timing = body_and_timing(tune.abc)
    counted = sum(v.counts for v in audit(body, timing))
    assert 1 <= counted <= 4
    assert tune.bars == counted


def test_character_cap_ends_at_a_bar_line(tiny):
    tune = generate("a jig in D", Settings(seed=1, max_chars=60, bar_check=False), tiny)
    assert tune.done and tune.abc.rstrip().endswith("|]")
    assert len(tune.abc) <= len("X:1\nM:6/8\nL:1/8\nR:jig\nK:D\n") + 60 + 3


def test_plain_sampling_still_gives_a_complete_tune(shipped):
    tune = generate("a polka in D", Settings(seed=4, bar_check=False, bars=8), shipped)
    assert tune.abc.rstrip().endswith(("|]", ":|"))


def test_top_k_one_ignores_the_seed_once_the_style_is_chosen(shipped):
    # The seed draws a new tune's style (bot.style) and then its notes; with top_k 1 the notes
    # are the likeliest, so with the style named in the words the seed changes nothing.
    settings = dict(top_k=1, bars=4, bar_check=False)
    assert generate("a jig in G like O'Neill's", Settings(seed=1, **settings), shipped).abc == \
        generate("a jig in G like O'Neill's", Settings(seed=2, **settings), shipped).abc


@pytest.mark.parametrize("field, value, message", [
    ("temperature", 3.0, "temperature"), ("temperature", 0.0, "temperature"), ("top_k", -1, "top_k"),
    ("bars", 0, "bars"), ("bars", 65, "bars"), ("max_chars", 10, "max_chars"), ("seed", -1, "seed"),
])
def test_bad_settings_name_the_value(field, value, message):
    with pytest.raises(ValueError, match=message):
        Settings(**{field: value})


def test_prompt_notices_reach_the_updates(tiny):
    first = next(compose("X:1\nM:6/8\nL:1/8\nK:D\nd2e f€d|\n", Settings(seed=1, bars=1, max_chars=100), tiny))
    assert any("'€'" in notice for notice in first.notices)


def test_stepper_gives_the_models_logits(shipped):
    text = "M:6/8\nL:1/8\nR:jig\nK:D\nA|d2e fed|"
    ids = shipped.encode(text)
    with torch.no_grad():
        expected, _ = shipped.model(torch.tensor([ids]))
    stepper = Stepper(shipped.model)
    # bfloat16 or int8 weights: close, not equal; 4-bit weights further (tests/test_stepper.py)
    tolerance = 0.75 if stepper.path.int4 else 0.15
    state = stepper.zero(1)
    for i, token in enumerate(ids):
        logits, state = stepper.step(torch.tensor([token]), state)
        assert torch.allclose(logits[0], expected[0, i], atol=tolerance), i
    primed, _ = stepper.prime(ids)
    assert torch.allclose(primed, expected[0, -1], atol=tolerance)


def test_batched_step_gives_each_row_its_own_result(shipped):
    stepper = stepper_for(shipped.model)
    state = stepper.zero(3)
    state.h.normal_(0, 0.5)
    tokens = torch.tensor([5, 17, 40])
    together, _ = stepper.step(tokens, state)
    for row in range(3):
        alone, _ = stepper.step(tokens[row : row + 1], state.row(row))
        assert torch.equal(alone[0], together[row])


def test_threads_sharing_a_batch_engine_write_the_same_tunes(shipped):
    # A pasted tune too: its prime runs on the engine's priming thread.
    jobs = [("a jig in D", 21), ("a reel in G", 22), ("", 23), ("a waltz in A", 24), (KESH, 25)]
    alone = {seed: generate(p, Settings(seed=seed, bars=6), shipped).abc for p, seed in jobs}
    shared = {}
    with BatchEngine(stepper_for(shipped.model)) as engine:
        def work(pairs):
            for prompt, seed in pairs:
                shared[seed] = generate(prompt, Settings(seed=seed, bars=6), shipped, engine=engine).abc

        threads = [threading.Thread(target=work, args=(jobs[i::2],)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert engine.rows > engine.steps  # some steps really were shared
    assert shared == alone


def test_cli_writes_one_file_per_tune(tmp_path, capsys):
    code = main(["--prompt", "a jig in D", "--num", "2", "--seed", "5", "--bars", "4", "--out", str(tmp_path)])
    assert code == 0
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["tune_5.abc", "tune_6.abc"]
    texts = [(tmp_path / name).read_text() for name in files]
    assert texts[0] != texts[1] and all(t.startswith("X:1\nM:6/8") for t in texts)
    assert texts[0] in capsys.readouterr().out


def test_cli_reports_a_bad_prompt(capsys):
    from bot.prompt import MAX_PROMPT_CHARS

    assert main(["--prompt", "x" * (MAX_PROMPT_CHARS + 1)]) == 2
    assert "limit" in capsys.readouterr().err


def allowed_after(text: str, rules: BarRules | None = None) -> set[str]:
    """Characters the SyntaxGuard lets follow `text` (bar text read from a bar's start)."""
    split = BarSplitter(line_start=False)
    for ch in text:
        if split.closes(ch):
            split.close()
        split.feed(ch)
    banned = SyntaxGuard(VOCAB).banned(split, rules or BarRules(started=True), text[-1:] or "\n")
    return {c for c, b in zip(VOCAB, banned) if not b}


def test_syntax_guard_keeps_abc_readable():
    assert allowed_after("d2e =") <= set("ABCDEFGabcdefg")  # `=^F` breaks music21
    assert "|" not in allowed_after("d2e fed:|")  # abc2midi reads `:||` as a plain bar line
    assert allowed_after("d2e fed|") & set("0123456789") == {"1"}  # `|2` only after `:|`
    assert "{" not in allowed_after("{g}(")  # two grace groups need a note between
    assert "{" not in allowed_after("d2e T")  # `T{cde}A`: graces after the decoration, abc2midi miscounts
    assert "!" not in allowed_after("d2e ")
    # Bowings stand before their note (abc2midi misreads `uu`, `Eu(B` and `A>uB`), a slur's
    # or a tuplet's first note too (`(uEC)`, `(3uefg`, as Ryan's are written).
    assert {"u", "v"} <= allowed_after("d2e ") and {"u", "v"} <= allowed_after("d2e (")
    assert allowed_after("d2e u") <= set("ABCDEFGabcdefg^_=") and "c" in allowed_after("d2e v")
    assert "u" in allowed_after("d2e (3") and "u" not in allowed_after("d2e A>")
    # A length never starts with 0 (`(3(ax0 z2)`: no time to the bar check, some to abc2midi).
    assert "0" not in allowed_after("d2e x") and "0" not in allowed_after("d2e c'") and "0" in allowed_after("d2e c1")
    assert "H" not in allowed_after("d2e ")  # abc2midi counts a fermata note twice as long
    assert ":" not in allowed_after("d2e\ng")  # `g:` at a line's start reads as a field
    assert allowed_after("d2e\nK") == {":"} and "K" in allowed_after("d2e\n")  # a key change
    assert allowed_after('d2e "') == set("ABCDEFG^_<>@") & set(VOCAB)  # a chord symbol or an annotation
    assert " " not in allowed_after('d2e "^D.C.')  # a quote left open would swallow the music
    assert "/" not in allowed_after("d2e c/2") and "/" in allowed_after("d2e c3")  # `c/2/3` fails music21
    # `z//2` fails music21 (found in 1 of 30 tunes); `z//` and `z/2` read fine.
    assert not allowed_after("d2e z//") & set("0123456789") and "2" in allowed_after("d2e z/")
    # Two slashes at most (three are in 2 of the corpus's 47,700 lengths): `F////////` was a
    # try stuck on a length.
    assert "/" in allowed_after("d2e F/") and "/" not in allowed_after("d2e F//")
    # The same inside a chord (`[B3/4B/4AG/2/2/2/2/26/24/2]`, a waltz without form).
    assert "/" not in allowed_after("d2e [G/2") and "/" not in allowed_after("d2e [G//")
    assert not allowed_after("d2e [G/24") & set("0123456789") and "2" in allowed_after("d2e [G/")


def test_syntax_guard_closes_a_first_ending_with_its_second():
    rules = BarRules(started=True, ending_open=True)
    assert allowed_after("d2e fed:|", rules) == {"2"}
    assert ":" not in allowed_after("d2e fed|", rules)  # no `|:` inside a first ending


def test_a_continued_paste_reports_the_bars_it_added(shipped):
    # Four whole pasted bars, then 12 new: the reply's count is the new bars (it said 13:
    # the paste's last bar, closed by the first sampled character, was counted as new).
    from bot.notation.abc import read_tune
    from bot.notation.bars import read_body

    paste = "X:1\nT:B\nM:4/4\nL:1/8\nR:reel\nK:G\nGABc dBGB|cdec BdGB|ABAG FGAF|GABG G4|"
    for form in (True, False):
        update = generate(paste, Settings(seed=1, bars=12, form=form), shipped)
        tune = read_tune(update.abc)
        # Counted in time, not bar lines: a bar split by a section line (`G2z|] (e/f/)|`,
        # model 3 without form) is one bar of music in two pieces, and counts once.
        bars = sum(b.duration for b in read_body("\n".join(tune.body), "4/4", "1/8", "G"))
        assert update.bars == bars - 4, (form, update.abc)


def test_every_slur_the_generator_opens_is_closed_inside_its_part(shipped):
    # In 100 tunes 11 once had a part with a slur left open or crossing a repeat (`(G2 :|`).
    import re

    from bot.notation.tokens import without

    for seed, prompt in enumerate(["a reel in D", "a jig in G", "a hornpipe in A", "an air in D"]):
        tune = generate(prompt, Settings(seed=seed, bars=16), shipped)
        body = without(tune.abc.split("\nK:", 1)[1].split("\n", 1)[1], {"quote", "deco"})
        for part in re.split(r":\||\|:|::|\|\||\|\]", body):
            depth = 0
            for mark in re.findall(r"\((?![1-9])|\)", part):
                depth += 1 if mark == "(" else -1
                assert depth >= 0, (seed, part)
            assert depth == 0, (seed, part)


def test_a_key_with_a_capital_b_after_the_tonic_is_no_key():
    # `K:AB` (written by model 2 once) was read as the key "AB" and made the generator fail.
    from bot.notation.abc import key_problem, parse_key

    assert parse_key("AB") is None and key_problem("AB")
    assert parse_key("Ab") == ("Ab", "") and parse_key("Bb mix") == ("Bb", "mix")


def _push(monkeypatch, char: str, amount: float) -> None:
    """Make the model write `char` far more often than any tune does: `amount` added to its logit."""
    from bot import generate as generation

    draw = generation._Sequence.draw

    def pushed(self, banned=None):
        logits = self.logits
        self.logits = logits.copy()
        self.logits[self.index[char]] += amount
        try:
            return draw(self, banned)
        finally:
            self.logits = logits

    monkeypatch.setattr(generation._Sequence, "draw", pushed)


def test_no_slur_is_left_open_at_the_tunes_final_bar_line(shipped, monkeypatch):
    # `| (d3 z) (d2 |]` (model 3, "an air in D", seed 3): the last bar line is written `|` and
    # made final afterwards, so the ban on part edges inside a slur never saw it.
    import re

    from bot.notation.tokens import without

    from bot.notation.form import read_form

    _push(monkeypatch, "(", 3.0)
    slurs = 0
    for seed, (prompt, form) in enumerate([("an air in D", True), ("a reel in G", True),
                                           ("a jig in D", False), ("an air in E minor", False)]):
        abc = generate(prompt, Settings(seed=seed, bars=8, form=form), shipped).abc
        body = without(abc.split("\nK:", 1)[1].split("\n", 1)[1], {"quote", "deco"})
        last_part = re.split(r":\||\|:|::|\|\|", body.rstrip().removesuffix("|]").removesuffix(":|"))[-1]
        opened = len(re.findall(r"\((?![1-9])", last_part))
        slurs += opened
        assert opened == last_part.count(")"), (prompt, form, abc)
        # `(` is a tuplet's or a slur's: the note after it is still steered to the cadence
        # (`[F2D2] (F////...` once dodged the tonic and wrote slashes to undo the try).
        assert not form or read_form(abc).ends_on_tonic, (prompt, abc)
        assert "///" not in abc, (prompt, abc)
    assert slurs >= 8  # the push worked: slurs in every tune's last part


def test_a_chord_at_a_cadence_is_read_by_its_top_note_and_steered_to_the_tonic(shipped, monkeypatch):
    # `[D2F2] z :|` ended a jig in D (model 3): the generator judged the chord by its D, the
    # form reader by its F. Both read a chord by its top note now, and a cadence is one note.
    from bot.notation.form import read_form

    assert not read_form("X:1\nM:3/4\nL:1/8\nK:D\nA2 B2 c2|[D4F4] z2|]\n").ends_on_tonic
    assert read_form("X:1\nM:3/4\nL:1/8\nK:D\nA2 B2 c2|[F4d4] z2|]\n").ends_on_tonic
    from bot.compose import marks

    monkeypatch.setattr(marks, "double_stops_allowed", lambda rhythm, seed: True)  # drawn for these tunes
    # Pushed hard enough that chords come on every path: at +5, the int4 path on an AVX2 CPU
    # drew no first `[` in these three tunes (once one is drawn the model writes many).
    _push(monkeypatch, "[", 7.0)
    chords = 0
    for seed, prompt in enumerate(["a jig in D", "a reel in G", "a polka in A"]):
        abc = generate(prompt, Settings(seed=seed, bars=16), shipped).abc
        chords += abc.split("\nK:", 1)[1].count("[")
        assert read_form(abc).ends_on_tonic, (prompt, abc)
    assert chords >= 10  # the push worked


def test_no_tie_runs_into_a_repeat_or_the_end_of_a_part(shipped, monkeypatch, tmp_path):
    # `TG2- :|` (model 2, 1 bar in 1,734): abc2midi tied the G to the note after the repeat and
    # miscounted two bars. A model pushed to tie far more often than any tune does must still
    # leave every part edge untied, and every bar exact by abc2midi.
    import re
    import shutil
    import subprocess

    from bot.notation.abc import read_tune
    from bot.notation.bars import read_body

    _push(monkeypatch, "-", 5.0)
    ties = 0
    for seed, prompt in enumerate(["a march in C", "a reel in D", "a jig in G", "a hornpipe in A",
                                   "a waltz in Bb", "an air in F#m"]):
        abc = generate(prompt, Settings(seed=seed, bars=16), shipped).abc
        body = abc.split("\nK:", 1)[1].split("\n", 1)[1]
        ties += body.count("-")
        assert not re.search(r"-\s*(:\||\|\]|\|:|::|\|\|)", body), (prompt, body)
        # A tie joins two notes of one pitch (model 3 tied `d/2-c/` in 184 of 300 waltzes),
        # across a bar line and after an accidental too.
        tune = read_tune(abc)
        text = "\n".join(tune.body)
        events = [e for bar in read_body(text, tune.get("M"), tune.get("L"), tune.get("K")) for e in bar.events]
        for tied, after in zip(events, events[1:]):
            if tied.pitches and text[tied.end:after.start].lstrip().startswith("-"):
                assert set(tied.pitches) & set(after.pitches), (prompt, tied.text, after.text, abc)
        path = tmp_path / f"{seed}.abc"
        path.write_text(abc)
        done = subprocess.run([shutil.which("abc2midi"), str(path), "-o", str(tmp_path / f"{seed}.mid")],
                              capture_output=True, text=True)
        assert "time units" not in done.stdout + done.stderr, (prompt, abc, done.stdout)
    assert ties >= 20  # the push worked: far more ties than the model writes alone


def test_bowed_tunes_stay_readable_to_abc2midi_and_music21(shipped, monkeypatch, tmp_path):
    # Bowings (`u` `v`) are allowed before notes (Ryan's tunes are bowed, and banning them kept
    # the model out of that style). A model pushed to bow far more than any tune does must
    # still write tunes abc2midi reads without an error and music21 parses to their bars.
    import shutil
    import subprocess

    from music21 import converter

    _push(monkeypatch, "u", 7.0)
    bows = 0
    for seed, prompt in enumerate(["a hornpipe in G", "a reel in D", "a jig in A", "a polka in D"]):
        abc = generate(prompt, Settings(seed=seed, bars=16), shipped).abc
        body = abc.split("\nK:", 1)[1].split("\n", 1)[1]
        bows += body.count("u") + body.count("v")
        path = tmp_path / f"{seed}.abc"
        path.write_text(abc)
        done = subprocess.run([shutil.which("abc2midi"), str(path), "-o", str(tmp_path / f"{seed}.mid")],
                              capture_output=True, text=True)
        # (abc2midi says a hornpipe "must be in 2/4 or 4/4", and plays a 2/2 one all the same.)
        errors = [line for line in (done.stdout + done.stderr).splitlines()
                  if line.startswith("Error") and "Hornpipe must be" not in line]
        assert not errors and "time units" not in done.stdout, (abc, done.stdout)
        score = converter.parse(abc, format="abc")
        assert len(score.recurse().getElementsByClass("Measure")) >= 16, abc
    assert bows >= 20  # the push worked: far more bowings than the model writes alone


def test_a_dash_inside_a_quoted_string_ties_nothing(tiny):
    # An untrained model writes `"FC-` (a quote left open, a dash in it): the tie steer read
    # that dash as a tie and failed looking for its note. Plain music with quotes allowed
    # (form off) must still come to a whole tune, for every seed (18, 30 and 51 met it).
    for seed in range(0, 60, 3):
        update = generate("a hornpipe in G", Settings(seed=seed, bars=2, form=False), tiny)
        assert update.done and update.abc.startswith("X:1\n"), seed
