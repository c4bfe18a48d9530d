"""Normalisation of real-looking ABC, and a split that never leaks a tune."""

from __future__ import annotations

import pytest

from bot.notation.abc import TUNE_END, AbcError, normalise, split_tunes
from bot.corpus import CorpusError, Source, is_held_out, join_tunes, load_corpus, read_abc_file, read_tune_of
from bot.notation.transpose import transpose

RAW = """% a file comment
X: 12
T: The Kesh
T: Kesh Jig
C: trad.
O: Ireland
N: played fast
Z: transcribed by someone
B: a book
S: a session
H: history line
Q: 1/4=120
M: 6/8
L: 1/8
R: Double Jig
%%MIDI program 110
K: G major
|:GAG GAB|ABA ABd|  % a comment
edd gdd|edB dBA|\\
GAG GAB|ABA ABd|
w: some lyrics here
edd gdB|AGF G3:|
"""


def test_normalise_keeps_musical_headers_in_order_and_drops_metadata():
    tune = normalise(RAW)
    assert tune == (
        "M:6/8\nL:1/8\nR:jig\nK:G\n"
        "|:GAG GAB|ABA ABd|\n"
        "edd gdd|edB dBA|GAG GAB|ABA ABd|\n"
        "edd gdB|AGF G3:|\n"
    )
    for dropped in ("T:", "C:", "O:", "N:", "Z:", "B:", "S:", "H:", "Q:", "w:", "%", "X:"):
        assert dropped not in tune


@pytest.mark.parametrize(
    "header, expected",
    [
        ("M:C\nL:1/8\nK:Dmix", "M:4/4\nL:1/8\nK:Dmix\n"),
        ("M:C|\nK:A minor", "M:2/2\nL:1/8\nK:Am\n"),
        ("M:2/4\nK:E dorian", "M:2/4\nL:1/16\nK:Edor\n"),  # ABC's default L: for short meters
        ("M:3/4\nR: Romanze, Ballade\nK:F", "M:3/4\nL:1/8\nK:F\n"),  # a genre, not a rhythm
        ("R:reel\nM:4/4\nL:1/8\nK:D", "M:4/4\nL:1/8\nR:reel\nK:D\n"),  # fixed order
    ],
)
def test_header_normalisation(header, expected):
    assert normalise(f"X:1\n{header}\nabc|\n").startswith(expected)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("X:1\nT:no key\nM:4/4\nabc|\n", "no K:"),
        ("X:1\nM:4/4\nK:C\nV:1\nabc|\nV:2\nCDE|\n", "several voices"),
        ("X:1\nM:4/4\nK:C\n", "no music"),
    ],
)
def test_normalise_rejects(text, reason):
    with pytest.raises(AbcError, match=reason):
        normalise(text)


def test_split_tunes_starts_at_x():
    text = "header junk\nX:1\nK:C\nabc|\n\nX:2\nK:G\ndef|\n"
    assert [t.splitlines()[0] for t in split_tunes(text)] == ["X:1", "X:2"]


def test_read_abc_file_refuses_binary_and_non_abc(tmp_path):
    binary = tmp_path / "x.abc"
    binary.write_bytes(b"\x00\x01\x02X:1\n")
    with pytest.raises(CorpusError, match="binary"):
        read_abc_file(binary)
    prose = tmp_path / "y.abc"
    prose.write_text("just some words\n")
    with pytest.raises(CorpusError, match="no tune"):
        read_abc_file(prose)


def _reads(path):
    source = Source(f"user:{path}", [path])
    return [read_tune_of(source, path, raw) for raw in read_abc_file(path)]


def test_user_files_dedupe_and_split_without_leaks(small_abc_file, tmp_path):
    copy = tmp_path / "copy.abc"
    copy.write_bytes(small_abc_file.read_bytes())
    corpus = load_corpus([small_abc_file, copy], include_music21=False)
    # The copy adds nothing: every tune in it is an exact duplicate.
    assert corpus.counts[f"user:{copy}"] == 0
    assert corpus.dropped["duplicate"] >= corpus.counts[f"user:{small_abc_file}"]
    assert corpus.held_out, "the fixture should hold some held-out tunes"
    assert not set(corpus.train) & set(corpus.held_out)
    # The split hashes a tune before its rhythm label, so a label never moves a tune across it.
    plain = {read.tune: read.plain for read in _reads(small_abc_file)}
    assert sum(plain[t] != t for t in corpus.train + corpus.held_out) == sum(corpus.labelled.values()) > 0
    assert all(is_held_out(plain[t]) for t in corpus.held_out)
    assert not any(is_held_out(plain[t]) for t in corpus.train)
    # Whole tunes on each side: the stream splits back into exactly the same tunes.
    stream = join_tunes(corpus.held_out)
    assert stream.rstrip("\n").split(TUNE_END) == [t.rstrip("\n") for t in corpus.held_out]
    # Each training tune's collection, for its style line (bot.style); the alphabet holds the line.
    assert corpus.train_sources == [f"user:{small_abc_file}"] * len(corpus.train)
    assert set("S:user\n") <= set(corpus.vocabulary())


def test_transpose_moves_key_notes_accidentals_and_chords():
    tune = 'M:4/4\nL:1/8\nK:D\n"D"FA=F^G B2c\'e |"A7/C#"E,B,_B,=C d4|]\n'
    up = transpose(tune, 1)
    assert up == 'M:4/4\nL:1/8\nK:E\n"E"GB=G^A c2d\'f |"B7/D#"F,C=C=D e4|]\n'
    # Down again is the original music (spellings may differ only where enharmonic).
    assert transpose(up, -1) == tune
    assert transpose("M:4/4\nL:1/8\nK:C#\nCDE|\n", 1) is None  # D# major: 9 sharps
    assert transpose("M:4/4\nL:1/8\nK:C\nCD [K:G] E|\n", 1) is None  # key change mid-tune
