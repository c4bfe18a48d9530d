"""Range (bot/compose/rules/instrument_range.py, bot/instruments.py): every note playable on the instrument."""

from __future__ import annotations

import dataclasses

import pytest

from bot.compose.rules.instrument_range import InRange
from bot.compose.settings import Settings
from bot.instruments import RANGES, describe, range_for
from bot.notation.bars import read_body
from bot.notation.form import split_abc
from bot.notation.tokens import NOTE, key_signature, note_pitch, tokenize
from rule_states import chars, rule, tune


def banned(text: str, instrument: str | None = "fiddle", key: str = "D") -> set[str]:
    state = tune(text, key=key)
    state.settings = dataclasses.replace(state.settings, instrument=instrument)
    return chars(rule(InRange).banned(state))


def test_every_instrument_the_page_offers_has_a_range():
    from bot.render import DEFAULT_INSTRUMENT, INSTRUMENTS

    assert set(RANGES) == set(INSTRUMENTS)
    assert all(21 <= low < high <= 108 for low, high in RANGES.values())
    assert Settings().instrument == DEFAULT_INSTRUMENT == "fiddle"
    assert range_for("fiddle") == (55, 88) and range_for("whistle") == (62, 86) and range_for(None) is None
    assert describe("fiddle") == "G3 to E6" and describe("whistle") == "D4 to D6" and describe(None) == "any pitch"


def test_an_unknown_instrument_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="whistle") as error:
        Settings(instrument="kazoo")
    assert "kazoo" in str(error.value) and "fiddle" in str(error.value)
    assert Settings(instrument=None).instrument is None


def test_fiddle_nothing_below_the_g_string():
    assert "," in banned("A2 F")  # F, is F3
    assert "," not in banned("A2 G")  # G, is the open G string ...
    assert "," in banned("A2 G,")  # ... and nothing below it
    assert banned("A2 ") == set()  # every letter can be written
    assert "," in banned("A2 ^F") and "," in banned("A2 _G", key="C")  # F#3 either way
    assert "," not in banned("A2 ^G", key="C")


def test_the_key_signature_counts():
    assert "," not in banned("A2 G", key="C") and "," not in banned("A2 B", key="Bb")  # Bb3 is above G3
    assert "," in banned("A2 G", key="Db") and "," not in banned("A2 =G", key="Db")  # Gb3 is not
    assert "," in banned("A2 _G,B G", key="C")  # (a paste's slip) carried in the bar: `G,` after `_G,` is Gb3


def test_whistle_two_octaves_from_low_d():
    assert "C" in banned("A2 ", "whistle")  # C#4 in D, below the low D
    assert "C" in banned("A2 ", "whistle", key="C")  # C4 too
    assert {"D", "E", "c", "d", "e"}.isdisjoint(banned("A2 ", "whistle"))
    assert "," in banned("A2 D", "whistle") and "," in banned("A2 G", "whistle")  # no `,` at all
    assert "'" in banned("A2 e", "whistle") and "'" not in banned("A2 d", "whistle")  # e' is past D6
    assert "'" in banned("A2 ^d", "whistle", key="C")  # D#6
    assert "C" in banned("A2 ^", "whistle", key="C") and "C" not in banned("A2 ^^", "whistle", key="C")


def test_chords_and_grace_notes_count_rests_and_text_do_not():
    assert "," in banned("A2 [F") and "," in banned("A2 {F")
    assert "C" in banned("A2 [D", "whistle") and "C" in banned("A2 {d", "whistle")
    assert banned('A2 "A', "whistle") == set()  # a chord symbol's letters are no notes
    assert banned("A2 !tr", "whistle") == set() and banned("A2 [K:", "whistle") == set()
    assert "C" in banned("A2 |", "whistle") and "C" in banned("A2 (3", "whistle")  # next bar, a tuplet


def test_no_instrument_bans_nothing():
    assert banned("A2 F", None) == set() and banned("A2 e", None) == set()


def test_a_note_written_out_of_range_must_take_its_octave_mark():
    assert banned("A2 c", "cello") >= {"'", "c", "d"}  # C#5 is past the cello's C5
    assert "D" in banned("A2 ", "bagpipes") and "b" in banned("A2 ", "bagpipes")


def pitches(abc: str) -> list[int]:
    """Every note's MIDI pitch in a tune: melody, chord and grace notes."""
    fields, body = split_abc(abc)
    found = []
    for bar in read_body(body, fields.get("M", "4/4"), fields.get("L", "1/8"), fields.get("K", "C")):
        found += [p for event in bar.events for p in event.pitches]
        signature = key_signature(bar.key)
        found += [note_pitch(NOTE.match(t.text), signature, {}) for t in tokenize(bar.text) if t.inside == "grace"]
    return found


@pytest.mark.parametrize("instrument, prompt", [("whistle", "a reel in D"), ("fiddle", "a slow air in A minor")])
def test_generated_tunes_keep_to_the_range(instrument, prompt):
    from bot.checkpoint import load_cached
    from bot.generate import generate

    loaded = load_cached()
    low, high = RANGES[instrument]
    for seed in range(3):
        abc = generate(prompt, Settings(seed=seed, bars=8, instrument=instrument), loaded).abc
        notes = pitches(abc)
        assert notes and all(low <= p <= high for p in notes), (instrument, seed, abc)
