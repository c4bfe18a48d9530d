"""Transposing a whole tune by semitones: keys, notes, accidentals, chord symbols (music21 checks)."""

from __future__ import annotations

import random

import pytest
from music21 import converter, harmony

from bot.notation.abc import split_tunes
from bot.notation.transpose import semitones_to_key, transpose_tune

JIG = """X:7
T:The Dusty Windowsills (a test jig)
C:trad
M:6/8
L:1/8
R:jig
K:D
|:"D"A,|DFA d^cd|"G"B=cB "A7"A2G|"D"F^GA {g}f2e|"Em/B"[EGB]3 [E2G2B2]A,|
"D"DFA d'c'b|"G"gfe "A"dcB,|1"D"A,FE D2:|2"D"A,FE D3|]
"""


def sounding(text: str, propagation: str = "octave") -> list[tuple[int, ...]]:
    """The MIDI numbers of every note, chord and grace note as music21 reads the tune.

    `%abc-2.1` makes music21 carry accidentals through the bar (it does not for ABC 1.x text);
    `propagation` says whether to the same octave only (as bot.notation.tokens reads it) or to
    every octave (as abc2midi and the ABC 2.1 standard do).
    """
    score = converter.parseData(f"%abc-2.1\n%%propagate-accidentals {propagation}\n{text}", format="abc")
    return [tuple(p.midi for p in n.pitches) for n in score.flatten().notes
            if not isinstance(n, harmony.ChordSymbol)]


def chord_roots(text: str) -> list[tuple[int, int]]:
    """(root, bass) pitch classes of every chord symbol music21 reads."""
    score = converter.parseData(text, format="abc")
    return [(c.root().pitchClass, c.bass().pitchClass)
            for c in score.flatten().getElementsByClass(harmony.ChordSymbol)]


def moved(notes: list[tuple[int, ...]], semitones: int) -> list[tuple[int, ...]]:
    return [tuple(p + semitones for p in chord) for chord in notes]


def body(tune: str) -> str:
    return tune[tune.index("\nK:") + 1:]


def test_d_to_g_moves_every_note_up_five_semitones():
    steps = semitones_to_key(JIG, "G")
    assert steps == 5
    up = transpose_tune(JIG, steps)
    assert "\nK:G\n" in up
    original = sounding(JIG)
    assert len(original) == 41  # every note, chord and grace note written
    for propagation in ("octave", "pitch"):  # the new text reads the same for both kinds of reader
        new = sounding(up, propagation)
        assert len(new) == len(original)
        for before, after in zip(original, new):
            assert after == tuple(p + 5 for p in before)


def test_headers_lengths_bars_and_decorations_stay_as_written():
    up = transpose_tune(JIG, 5)
    assert up.splitlines()[:6] == JIG.splitlines()[:6]  # X:, T: (with the letters A, D, W ...), C:, M:, L:, R:
    assert "|1" in up and ":|2" in up and "|]" in up and "[E2G2B2]" not in up
    assert body(up).startswith('K:G\n|:"G"D|GBd gfg|"C"e=fe')  # `^c` in D was a courtesy sharp
    # A grace note moves with its group; its natural is for readers that carry the bar's ^c to
    # every octave (abc2midi); readers that carry within one octave lose nothing by it.
    assert '"G"B^cd {=c\'}b2a|' in up


def test_accidentals_carry_through_the_bar_and_no_needless_naturals():
    tune = "X:1\nT:Bar\nM:4/4\nL:1/8\nK:C\n^F G F f =F A2 B|F2 ^c2 c2 _B2|\n"
    up = transpose_tune(tune, 2)
    # F# carried to the second F moves to a carried G#; f (no sharp in this octave) gets =g so
    # a reader carrying to every octave agrees; the next bar starts clean.
    assert body(up) == "K:D\n^G A G =g =G B2 c|G2 ^d2 d2 =c2|\n"
    assert sounding(up, "octave") == moved(sounding(tune, "octave"), 2)
    assert sounding(up, "pitch") == moved(sounding(tune, "octave"), 2)
    # A sharp written twice in the original stays written twice: the renderer's music21 reads
    # ABC without `%abc-2.1` as ABC 1.x, where an accidental holds for its own note only.
    twice = "X:1\nT:Twice\nM:4/4\nL:1/8\nK:C\n^F G ^F A B2 c2|\n"
    assert body(transpose_tune(twice, 2)) == "K:D\n^G A ^G B c2 d2|\n"
    abc1 = [n.pitch.midi for n in converter.parseData(transpose_tune(twice, 2), format="abc").flatten().notes]
    assert abc1 == [p + 2 for p in (66, 67, 66, 69, 71, 72)]
    # Moving D's notes into G: the key's F# becomes the key's B with no accidental at all.
    assert body(transpose_tune("X:1\nM:4/4\nL:1/8\nK:D\nF^F=F^F c=c^cc|\n", 5)) == "K:G\nBB_B=B f=f^ff|\n"


def test_octave_marks_cross_octave_boundaries():
    tune = "X:1\nM:4/4\nL:1/4\nK:C\nB, B b b'|C, C c c'|\n"
    assert body(transpose_tune(tune, 1)) == "K:Db\nC c c' c''|D, D d d'|\n"  # Db's D is flat already
    assert body(transpose_tune(tune, -12)) == "K:C\nB,, B, B b|C,, C, C c|\n"
    assert body(transpose_tune(tune, 12)) == "K:C\nB b b' b''|C c c' c''|\n"


def test_chord_symbols_move_and_annotations_stay():
    tune = 'X:1\nM:4/4\nL:1/8\nK:G\n"^Slowly""G"G2 "D7"A2 "Em/B"B2 "F#m7b5"c2|"C"c4 "<(fine)"G4|\n'
    up = transpose_tune(tune, 2)
    assert body(up) == 'K:A\n"^Slowly""A"A2 "E7"B2 "F#m/C#"c2 "G#m7b5"d2|"D"d4 "<(fine)"A4|\n'
    assert chord_roots(up)[1:] == [((r + 2) % 12, (b + 2) % 12) for r, b in chord_roots(tune)][1:]
    # A flat key spells its chords with flats.
    assert '"Ab"' in transpose_tune('X:1\nM:4/4\nL:1/8\nK:G\n"G"G8|\n', 1)


def test_inline_and_body_key_changes_move_too():
    tune = "X:1\nM:4/4\nL:1/8\nK:D\nDFAd [K:A] Acea|[K:bass] A,,4 z4|\nK:Bm\nBdfb ^a4|\n"
    up = transpose_tune(tune, 5)
    assert body(up) == "K:G\nGBdg [K:D] dfad'|[K:bass] D,4 z4|\nK:Em\negbe' ^d'4|\n"
    assert sounding(up) == moved(sounding(tune), 5)


def test_keys_take_the_spelling_with_fewest_sharps_or_flats_and_keep_their_mode():
    def key_after(key: str, semitones: int) -> str:
        return body(transpose_tune(f"X:1\nM:4/4\nL:1/8\nK:{key}\nA8|\n", semitones)).split("\n")[0]

    assert key_after("C", 1) == "K:Db"
    assert key_after("C", -1) == "K:B"
    assert key_after("Ador", 5) == "K:Ddor"
    assert key_after("A dorian", 5) == "K:D dorian"  # the rest of the value as written
    assert key_after("Em", 6) == "K:Bbm"
    assert key_after("D", 4) == "K:F#"
    assert key_after("F#", -4) == "K:D"  # read even though abc.parse_key misses `F#`
    assert key_after("Amix", -2) == "K:Gmix"
    assert key_after("A min bass", 2) == "K:B min bass"  # a clef name after the key is kept


def test_real_tunes_sound_the_same_moved(small_abc_file):
    rng = random.Random(12)
    tunes = split_tunes(small_abc_file.read_text(encoding="latin-1"))
    for tune in rng.sample(tunes, 4):
        semitones = rng.choice([s for s in range(-12, 13) if s])
        assert sounding(transpose_tune(tune, semitones)) == moved(sounding(tune), semitones), tune[:60]


def test_zero_semitones_returns_the_text_unchanged():
    for tune in (JIG, "X:1\r\nK:none\r\nabc\r\n", "no tune at all"):
        assert transpose_tune(tune, 0) is tune


def test_semitones_to_key_takes_the_nearest_move():
    assert semitones_to_key(JIG, "A") == -5
    assert semitones_to_key(JIG, "Bb") == -4
    assert semitones_to_key(JIG, "Eb") == 1
    assert semitones_to_key(JIG, "Ab") == 6  # a tritone goes up
    assert semitones_to_key(JIG, "D") == 0
    ador = "X:1\nM:4/4\nL:1/8\nK:Ador\nA8|\n"
    assert semitones_to_key(ador, "Amix") == 0  # the target names a tonic; the tune keeps its mode
    assert semitones_to_key(ador, "Gmaj") == -2


@pytest.mark.parametrize("semitones", [13, -13, 1.5, True, "2"])
def test_bad_transpositions_are_refused(semitones):
    with pytest.raises(ValueError, match="semitones from -12 to 12"):
        transpose_tune(JIG, semitones)


def test_unreadable_keys_are_refused_by_name():
    with pytest.raises(ValueError, match="no K: line"):
        transpose_tune("X:1\nT:no key\nabc|\n", 2)
    with pytest.raises(ValueError, match="K:HP"):
        transpose_tune("X:1\nM:4/4\nK:HP\nabc|\n", 2)
    with pytest.raises(ValueError, match="'H'"):
        semitones_to_key(JIG, "H")
