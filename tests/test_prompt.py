"""Free-form words, pasted tunes and bare bars -> header lines, prime and the music to keep."""

import pytest

from bot.prompt import MAX_PROMPT_CHARS, PromptError, looks_like_music, parse_prompt

# The alphabet of the shipped model (printable ASCII less a few characters it never saw).
VOCAB = "\n !\"#$'()*+,-./0123456789:<=>ABCDEFGHIKLMNOPQRSTUVWZ[\\]^_`abcdefghijklmnoprstuvwxyz{|}~"

KESH = """X:7
T:The Kesh
C:trad.
M:6/8
L:1/8
R:jig
K:G
|:D|GAG GAB|ABA ABd|edd gdd|edB dBA|
GAG GAB|ABA AB"""


@pytest.mark.parametrize("words, meter, unit, key, rhythm", [
    ("a jig in D", "6/8", "1/8", "D", "jig"),
    ("slip jig in E dorian", "9/8", "1/8", "Edor", "slip jig"),
    ("G minor reel", "2/2", "1/8", "Gm", "reel"),
    ("a hornpipe in Bb", "2/2", "1/8", "Bb", "hornpipe"),
    ("polka, key of A", "2/4", "1/8", "A", "polka"),
    ("waltz in F# minor", "3/4", "1/4", "F#m", "waltz"),
    ("a strathspey in A mixolydian", "4/4", "1/8", "Amix", "strathspey"),
    ("Bb mixolydian 6/8", "6/8", "", "Bbmix", None),
    ("something in 3/4 in a minor", "3/4", "", "Am", None),
    ("a slow air in E minor", "4/4", "1/8", "Em", "air"),
    ("a jig in 9/8", "9/8", "", "", "jig"),  # the time signature wins over the rhythm's
    ("M:2/4 K:Ador please", "2/4", "", "Ador", None),
])
def test_words_set_header_fields(words, meter, unit, key, rhythm):
    prompt = parse_prompt(words, VOCAB)
    assert (prompt.meter, prompt.unit, prompt.key, prompt.rhythm) == (meter, unit, key, rhythm)
    assert not prompt.is_continuation


def test_complete_words_give_final_headers_and_prime():
    prompt = parse_prompt("a jig in D", VOCAB)
    assert prompt.headers == "X:1\nM:6/8\nL:1/8\nR:jig\nK:D\n"
    assert prompt.prime == "M:6/8\nL:1/8\nR:jig\nK:D\n"
    assert prompt.complete


@pytest.mark.parametrize("text", ["", "   ", "surprise me", "Surprise me!"])
def test_empty_means_surprise_me(text):
    prompt = parse_prompt(text, VOCAB)
    assert (prompt.meter, prompt.unit, prompt.key, prompt.rhythm) == ("", "", "", None)
    assert prompt.headers == "X:1\n" and not prompt.notices


def test_pickers_override_words():
    prompt = parse_prompt("a jig in D", VOCAB, meter="9/8", key="E dorian")
    assert (prompt.meter, prompt.key, prompt.rhythm) == ("9/8", "Edor", "jig")
    assert parse_prompt("", VOCAB, meter="surprise me", key="").meter == ""
    with pytest.raises(PromptError, match="not a key"):
        parse_prompt("", VOCAB, key="Q flat")
    with pytest.raises(PromptError, match="not a time signature"):
        parse_prompt("", VOCAB, meter="fast")


def test_words_without_anything_usable_get_a_notice():
    prompt = parse_prompt("something happy please", VOCAB)
    assert prompt.meter == prompt.key == "" and prompt.notices


def test_pasted_tune_keeps_its_headers_and_music_verbatim():
    prompt = parse_prompt(KESH, VOCAB)
    assert prompt.headers == "X:7\nT:The Kesh\nC:trad.\nM:6/8\nL:1/8\nR:jig\nK:G\n"
    assert prompt.music == '|:D|GAG GAB|ABA ABd|edd gdd|edB dBA|\nGAG GAB|ABA AB'
    assert prompt.prime == "M:6/8\nL:1/8\nR:jig\nK:G\n" + prompt.music  # ends mid-bar, like the paste
    assert prompt.is_continuation and prompt.complete


def test_pasted_tune_ending_with_a_newline_continues_on_a_new_line():
    prompt = parse_prompt(KESH + "|\n", VOCAB)
    assert prompt.music.endswith("AB|\n") and prompt.prime.endswith("AB|\n")


def test_pasted_tune_keeps_its_header_and_gets_only_an_x_line_before_it():
    paste = "T:Untitled\nK:D\nd2e fed|fed e2A|d2e fed|e3 d2\n"
    prompt = parse_prompt(paste, VOCAB)
    # The bars read as 6/8, a jig: fed to the model, said in the reply, never written into the lines.
    assert prompt.headers + prompt.music == "X:1\n" + paste
    assert prompt.prime.startswith("M:6/8\nL:1/8\nR:jig\nK:D\n")
    assert prompt.meter == "6/8" and prompt.key == "D" and prompt.rhythm == "jig"
    assert any("added X:1 before your tune" in notice for notice in prompt.notices)
    assert any(notice.startswith("read as a jig in 6/8, in D major") for notice in prompt.notices)


def test_comment_at_the_end_moves_the_continuation_to_a_new_line():
    prompt = parse_prompt("X:1\nM:2/4\nL:1/8\nK:G\nGABc|dBGB| % first part", VOCAB)
    assert prompt.music == "GABc|dBGB| % first part\n"
    assert prompt.prime.endswith("GABc|dBGB|\n")


@pytest.mark.parametrize("text, meter, key, music", [
    ("d2e fed|fed e2A|d2e fed|e3 d2", "6/8", "C", "d2e fed|fed e2A|d2e fed|e3 d2"),  # ABC's default key
    ("a reel in G: GABc dBGB|", "2/2", "G", "GABc dBGB|"),
    ("waltz in D\nA2 B2 c2|d2 e2 f2|", "3/4", "D", "A2 B2 c2|d2 e2 f2|"),
    ("GABc dBGB|ABcA BGEG|", "4/4", "C", "GABc dBGB|ABcA BGEG|"),
])
def test_bare_bars_are_continued(text, meter, key, music):
    prompt = parse_prompt(text, VOCAB)
    assert prompt.is_continuation
    assert (prompt.meter, prompt.key, prompt.music) == (meter, key, music)
    assert prompt.headers.startswith("X:1\n") and f"K:{key}\n" in prompt.headers
    assert prompt.prime.endswith(music)


def test_unknown_characters_are_named_and_left_out_of_the_prime():
    prompt = parse_prompt("X:1\nM:6/8\nL:1/8\nK:D\nd2e f€d|fed e2A|\n", VOCAB)
    assert any("'€'" in notice for notice in prompt.notices)
    assert "€" not in prompt.prime and "d2e fd|" in prompt.prime
    assert "€" in prompt.music  # the person's own text is kept as they wrote it


def test_several_tunes_continue_the_first():
    prompt = parse_prompt("X:1\nT:A\nM:2/4\nK:D\nabcd|\n\nX:2\nT:B\nM:3/4\nK:G\nGAB|\n", VOCAB)
    assert prompt.headers.startswith("X:1\nT:A\n") and prompt.music == "abcd|\n"
    assert any("2 tunes" in notice for notice in prompt.notices)


def test_too_long_input_is_refused_naming_the_limit():
    with pytest.raises(PromptError, match=f"{MAX_PROMPT_CHARS:,}"):
        parse_prompt("a" * (MAX_PROMPT_CHARS + 1), VOCAB)


def test_binary_input_is_refused():
    with pytest.raises(PromptError, match="binary"):
        parse_prompt("X:1\x00\x01\x02\x03", VOCAB)


def test_several_voices_are_refused():
    with pytest.raises(PromptError, match="voices"):
        parse_prompt("X:1\nM:4/4\nK:C\nV:1\nCDEF|\nV:2\nC,D,E,F,|\n", VOCAB)


@pytest.mark.parametrize("line, music", [
    ("d2e fed|fed e2A|", True), ("GABc dBGB", True), ("|:A|", True), ('"Am"A2 B2|', True),
    ("a jig in D", False), ("please continue this tune", False), ("cafe", False),
])
def test_music_lines_are_told_from_words(line, music):
    assert looks_like_music(line) is music


def test_unusable_meter_or_unit_is_replaced_with_a_notice():
    prompt = parse_prompt("X:1\nM:6/8\nL:1/0\nK:D\nd2e fed|\n", VOCAB)
    # No reader can count by L:1/0: the line goes (and the reply says so); 6/8's own unit is read.
    assert prompt.headers == "X:1\nM:6/8\nK:D\n" and prompt.unit == "1/8" and "L:1/8" in prompt.prime
    assert any("L:1/0" in notice for notice in prompt.notices)


def test_a_pasted_dance_without_r_is_read_from_its_title_meter_and_notes():
    cases = {
        '"G"GABc dBGB|"C"cdec "G"BdGB|"D"ABAG FGAF|"G"GABG G4|': ("reel", "running eighths"),
        "X:1\nM:6/8\nL:1/8\nK:D\nA|d2e fed|cBA ABc|": ("jig", "M:6/8"),
        "X:1\nM:4/4\nL:1/8\nK:G\nd>c|B>AG>A B>dg>a|b>ag>f g>dB>G|": ("hornpipe", "dotted eighths"),
        "X:1\nT:Polly's waltz\nM:3/4\nL:1/8\nK:G\nG2 B2 d2|g4 f2|": ("waltz", "title"),
    }
    for paste, (rhythm, reason) in cases.items():
        prompt = parse_prompt(paste, VOCAB)
        assert prompt.rhythm == rhythm, paste
        assert any(n.startswith(f"read as a {rhythm} in ") and reason in n for n in prompt.notices), prompt.notices
        assert "R:" not in prompt.headers  # the reading is fed to the model, not written into the tune
    air = parse_prompt("X:1\nM:4/4\nL:1/8\nK:Em\nE4 G4|B6 A2|G4 E4|D8|", VOCAB)
    assert air.rhythm is None  # long notes in 4/4: no dance is assumed


def test_each_rhythms_timing_is_the_corpus_s_own():
    # RHYTHM_TIMING writes a rhythm as most of the corpus's tunes of it are written, where
    # the corpus has 20 or more; hornpipes and marches are chosen otherwise (see its comment).
    from collections import Counter, defaultdict

    from bot.corpus import load_corpus
    from bot.notation.abc import read_tune
    from bot.prompt import RHYTHM_TIMING

    corpus = load_corpus()
    timings: dict[str, Counter] = defaultdict(Counter)
    for tune in corpus.train + corpus.held_out:
        fields = read_tune(tune)
        if fields.get("R"):
            timings[fields.get("R")][(fields.get("M"), fields.get("L"))] += 1
    checked = []
    for rhythm, timing in RHYTHM_TIMING.items():
        if sum(timings[rhythm].values()) >= 20 and rhythm not in ("hornpipe", "march"):
            assert timing == timings[rhythm].most_common(1)[0][0], (rhythm, timings[rhythm].most_common(3))
            checked.append(rhythm)
    assert {"reel", "jig", "waltz", "slip jig", "air"} <= set(checked)
    # The two chosen otherwise are still among the corpus's usual pairings for them.
    assert all(RHYTHM_TIMING[r] in dict(timings[r].most_common(3)) for r in ("hornpipe", "march"))


def test_a_rhythm_asked_in_a_meter_it_is_never_in_is_written_in_its_own_and_the_reply_says_so():
    prompt = parse_prompt("a jig in 7/8", VOCAB)
    assert (prompt.meter, prompt.rhythm) == ("6/8", "jig")
    assert any("a jig is in" in n and "not 7/8" in n and "6/8" in n for n in prompt.notices), prompt.notices
    waltz = parse_prompt("a waltz in 6/8 in D", VOCAB)
    assert waltz.meter == "3/4" and any("not 6/8" in n for n in waltz.notices)
    assert parse_prompt("a march in 6/8", VOCAB).meter == "6/8"  # marches come in 6/8: no clash
    assert parse_prompt("an air in 7/8", VOCAB).meter == "7/8"  # an air takes any meter


def test_reels_and_hornpipes_are_shown_in_four_four_and_read_by_the_model_in_two_two():
    reel = parse_prompt("a reel in D", VOCAB)
    assert reel.meter == "2/2" and "M:2/2\n" in reel.prime  # the meter the model's reels carry
    assert "M:4/4\n" in reel.headers and "M:2/2" not in reel.headers  # as today's tunebooks write it
    old = parse_prompt("a hornpipe in D like O'Neill's", VOCAB)
    assert "M:2/2\n" in old.headers  # the old books' manner keeps their 2/2
    assert "M:2/2\n" in parse_prompt("a reel in D in 2/2", VOCAB).headers  # asked for: kept


def test_words_name_the_instrument_and_dotted_rhythm():
    assert parse_prompt("a reel for whistle", VOCAB).instrument == "whistle"
    assert parse_prompt("a slow air on the tin whistle in G", VOCAB).instrument == "whistle"
    assert parse_prompt("a jig in D", VOCAB).instrument is None
    assert parse_prompt("a dotted hornpipe", VOCAB).dotted and not parse_prompt("a hornpipe", VOCAB).dotted
