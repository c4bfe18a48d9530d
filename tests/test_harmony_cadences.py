"""Chords that land: each part's last chord a cadence's, the tune's last the tonic chord."""

from __future__ import annotations

import re

from bot.harmony.cadences import cadence_chords, closing_slots
from bot.harmony.harmonise import choose, harmonise
from bot.harmony.reading import read
from bot.notation.chords import Chord

TUNE = "X:1\nM:4/4\nL:1/8\nK:G\n|:GABc dBGB|c2A2 B2G2|GABc dBGB|A2F2 D4:|\n|:d2B2 c2A2|B2G2 A2F2|GABc dcBA|G2 TF4 G2|]\n"


def test_the_closing_slots_are_each_sections_last():
    reading = read(TUNE)
    closing = closing_slots(reading.slots)
    assert [final for _, final in closing] == [False, True]  # A's end, then the tune's
    assert closing[-1][0] == len(reading.slots) - 1
    assert all(reading.slots[t].cadence for t, _ in closing)


def test_cadence_chords_hold_the_last_note():
    reading = read(TUNE)
    inner, final = (reading.slots[t] for t, _ in closing_slots(reading.slots))
    assert cadence_chords(final, True) == [Chord(0, "maj")]  # G2 at the end: G
    assert cadence_chords(inner, False)[:3] == [Chord(0, "maj"), Chord(7, "maj"), Chord(7, "7")]  # D: G, D, D7
    on_a = read(TUNE.replace("A2F2 D4:|", "A2F2 A4:|"))
    inner = on_a.slots[closing_slots(on_a.slots)[0][0]]
    assert Chord(0, "maj") not in cadence_chords(inner, False)  # a half close on A: D or D7, not G


def test_a_tune_ends_on_its_tonic_chord():
    # A final bar `G2 TF4 G2` once got "D" (the bar's longest note's chord) on its last G.
    chords = choose(read(TUNE))
    assert chords[-1].root == 7 and chords[-1].quality == "maj"  # G
    written = harmonise(TUNE)
    assert re.findall(r'"([^"]+)"', written.splitlines()[-1])[-1] == "G", written


def test_generated_tunes_harmonised_end_on_the_tonic_chord():
    from bot.checkpoint import load_cached
    from bot.generate import Settings, generate

    shipped = load_cached()
    for prompt, tonic in (("a jig in D", 2), ("a reel in G", 7), ("a hornpipe in A", 9), ("a waltz in C", 0)):
        for seed in range(2):
            abc = generate(prompt, Settings(seed=seed, bars=16), shipped).abc
            assert choose(read(abc))[-1] == Chord(tonic, "maj"), (prompt, seed, abc)
