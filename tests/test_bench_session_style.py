"""bench/session_style.py's per-tune readings on handwritten ABC: meter, form, range, classifier prompts."""

from __future__ import annotations

from bench.session_style import (
    CLASSIFIER_KEYS, classifier_prompts, classifier_tunes, form_of, meter_of, meter_shares, out_of_range,
    pitches_of, range_flags,
)

AABB = """X:1
T:Eights
M:C|
L:1/8
R:reel
K:D
|:DFAF DFAF|GBdB GBdB|DFAF DFAF|GBdB A2D2:|
|:dfaf dfaf|gbgb gbgb|dfaf dfaf|gbgb a2d2:|
"""

AB_LONG = """X:2
T:Sixteens
M:3/4
L:1/4
K:G
G,A,B,|CDE|FGA|Bcd|G,A,B,|CDE|FGA|Bcd|G,A,B,|CDE|FGA|Bcd|G,A,B,|CDE|FGA|Bcd||
gab|c'd'e'|gab|c'd'e'|gab|c'd'e'|gab|c'd'e'|gab|c'd'e'|gab|c'd'e'|gab|c'd'e'|gab|[c'3e'3]|]
"""

THREE = """X:3
M:6/8
L:1/8
K:Am
|:ABc ABc|ABc ABc:|
|:cde cde|cde cde:|
|:efg efg|efg e3:|
"""


def test_meter_is_the_first_m_line_in_the_models_form():
    assert meter_of(AABB) == "2/2"
    assert meter_of(AB_LONG) == "3/4"
    assert meter_of("X:1\nK:D\nABc|\n") == "none"
    assert meter_of("X:1\nM:C\nK:D\nM:6/8\nABc|\n") == "4/4"
    assert meter_shares([AABB, AABB, AB_LONG, THREE]) == {"2/2": 0.5, "3/4": 0.25, "6/8": 0.25}


def test_form_reads_part_lengths_repeats_and_part_counts():
    assert form_of(AABB) == {"8-bar parts": False, "16-bar parts": False, "AABB": True,
                             "AB unrepeated": False, "3+ parts": False}  # 4-bar parts
    long = form_of(AB_LONG)
    assert long["16-bar parts"] and long["AB unrepeated"] and not long["AABB"] and not long["8-bar parts"]
    three = form_of(THREE)
    assert three["3+ parts"] and not three["AABB"]


def test_eight_bar_parts():
    eights = AABB.replace(":|\n|:", "|DFAF DFAF|GBdB GBdB|DFAF DFAF|GBdB A2D2:|\n|:", 1)
    eights = eights.replace("a2d2:|", "a2d2|dfaf dfaf|gbgb gbgb|dfaf dfaf|gbgb a2d2:|")
    assert form_of(eights)["8-bar parts"] and form_of(eights)["AABB"]


def test_pitches_are_midi_numbers_with_every_chord_note():
    pitches = pitches_of(AB_LONG)
    assert pitches[:3] == [55, 57, 59]  # G, A, B,
    assert pitches[-2:] == [84, 88]  # [c'e']
    assert out_of_range(AB_LONG, 55, 88) == (0, 0, len(pitches))
    assert out_of_range(AB_LONG, 57, 86) == (4, 8, len(pitches))  # four G,s; eight e's


def test_range_flags_per_note_and_per_tune():
    notes, any_out, below = range_flags([AB_LONG, AABB], 57, 88)
    assert sum(notes) == 4 and any_out == [True, False] and below == [True, False]


def test_classifier_prompts_take_four_keys_per_rhythm_in_turns():
    prompts = classifier_prompts(8)
    assert len(prompts) == 4 * len(CLASSIFIER_KEYS) and "a jig in A minor" in prompts
    assert classifier_prompts(0) == []
    extra = {f"a jig in {key}": [f"{key} {seed}" for seed in range(3)] for key in CLASSIFIER_KEYS["jig"]}
    assert classifier_tunes(extra, 5)["jig"] == ["D 0", "G 0", "A minor 0", "E minor 0", "D 1"]
    assert classifier_tunes(extra, 5)["reel"] == []
