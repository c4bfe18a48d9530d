"""Accompaniment audio: the tune's chord symbols played by a second instrument, bass then chord
in the meter's pattern, quieter than the melody, in the order the repeats are played; and
melody-only output when no accompaniment is asked for.

Needs FluidSynth and a General MIDI soundfont for the full renders (scripts/setup.sh).
"""

from __future__ import annotations

import time
from fractions import Fraction

import pytest

from bot import render_worker
from bot.notation.chords import Chord, parse_symbol
from bot.accompaniment import PART_NAME, bass_pitch, chord_pitches, music21_text, pattern
from bot.render import INSTRUMENTS, RenderError, RenderSettings, prepare_tune, render

# 3/4 with a pickup, a repeat, two endings with different chords and an odd spelling ("Gd").
WALTZ = 'X:1\nM:3/4\nL:1/8\nK:D\nA2|:"D"d2 f2 a2|"Gd"g2 "A7"e2 c2|1"D"d4 A2:|2"Bm"d4 f2|]\n'


def midi_notes(midi_file) -> dict[bytes, list[tuple[int, int, int, int]]]:
    """(start tick, end tick, pitch, velocity) of each sounding note, per track name."""
    out = {}
    for track in midi_file.tracks:
        name, sounding, notes = b"", {}, []
        for tick, event in render_worker.timed_events(track):
            if event.type.name == "SEQUENCE_TRACK_NAME":
                name = event.data
            elif event.isNoteOn():
                sounding[event.pitch] = (tick, event.velocity)
            elif event.isNoteOff() and event.pitch in sounding:
                start, velocity = sounding.pop(event.pitch)
                if tick > start:
                    notes.append((start, tick, event.pitch, velocity))
        if notes:
            out[name] = sorted(notes)
    return out


def programs(midi_file) -> set[int]:
    """Every program a program change selects in the file."""
    return {e.data for t in midi_file.tracks for _, e in render_worker.timed_events(t)
            if e.type.name == "PROGRAM_CHANGE"}


def make_midi(abc: str, accompaniment: int | None):
    """The tidied MIDI the render child makes for `abc` (in this process, no audio)."""
    job = {"abc": prepare_tune(abc).text, "accompaniment": accompaniment, "max_seconds": 600,
           "abc2midi": None, "paths": {}}
    midi_file, notes, engine = render_worker.make_midi(job, time.monotonic() + 60)
    render_worker.tidy_midi(midi_file, INSTRUMENTS["fiddle"], accompaniment)
    return midi_file, notes


def test_the_pattern_suits_the_meter():
    kinds = lambda meter: [(at, kind) for at, _, kind in pattern(meter)]  # noqa: E731
    q, e = Fraction(1, 4), Fraction(1, 8)
    assert kinds("2/4") == [(0, "bass"), (q, "chord")]  # oom-pah
    assert kinds("4/4") == [(0, "bass"), (q, "chord"), (2 * q, "fifth"), (3 * q, "chord")]
    assert kinds("3/4") == [(0, "bass"), (q, "chord"), (2 * q, "chord")]  # bass-chord-chord
    assert kinds("6/8") == [(0, "bass"), (2 * e, "chord"), (3 * e, "fifth"), (5 * e, "chord")]  # two dotted beats
    assert all(sum(length for _, length, _ in pattern(m)) == Fraction(*map(int, m.split("/")))
               for m in ("2/4", "3/4", "4/4", "2/2", "6/8", "9/8", "12/8"))


def test_chord_tones_sit_below_the_melody():
    assert chord_pitches(Chord(2, "maj")) == (54, 57, 62)  # F#3 A3 D4
    assert chord_pitches(Chord(9, "7")) == (52, 55, 57, 61)  # A7: E3 G3 A3 C#4
    assert bass_pitch(Chord(2, "maj"), "bass") == 50 and bass_pitch(Chord(2, "maj"), "fifth") == 45


def test_music21_reads_every_chord_spelling_and_no_annotation():
    text = music21_text('X:1\nT:"quoted" title\nM:2/4\nL:1/8\nK:F\n"Bb"B2 "^Fine"c2|">x"d2 "Gd"g2|"Fa7"f4|]\n')
    assert text == 'X:1\nT:"quoted" title\nM:2/4\nL:1/8\nK:F\n"Bb"B2 c2|d2 "G"g2|"F7"f4|]\n'


def test_the_accompaniment_plays_the_chords_on_its_own_program_quieter_and_in_the_repeat_order():
    midi_file, notes = make_midi(WALTZ, INSTRUMENTS["guitar"])
    tracks = midi_notes(midi_file)
    melody = next(v for k, v in tracks.items() if k != PART_NAME.encode())
    backing = tracks[PART_NAME.encode()]
    assert render_worker.ACCOMPANIMENT_TRACK == PART_NAME.encode()
    assert programs(midi_file) == {INSTRUMENTS["fiddle"], INSTRUMENTS["guitar"]}
    assert not any("chord symbols" in note for note in notes)  # they are played now
    assert max(v for *_, v in backing) < min(v for *_, v in melody)
    assert max(p for _, _, p, _ in backing) < min(p for _, _, p, _ in melody)

    # Bars in the order they are played: pickup, D, G|A7, D (1st ending), D, G|A7, Bm (2nd ending).
    quarter = midi_file.ticksPerQuarterNote
    bar = 3 * quarter
    start = melody[0][0] + quarter  # the first full bar starts after the one-beat pickup
    played = ["D", "G A7", "D", "D", "G A7", "Bm"]
    assert not [n for n in backing if n[0] < start]  # no chord before the first one written
    for index, names in enumerate(played):
        bar_notes = [n for n in backing if start + index * bar <= n[0] < start + (index + 1) * bar]
        onsets = sorted({n[0] - start - index * bar for n in bar_notes})
        assert onsets == [0, quarter, 2 * quarter]  # bass, chord, chord
        chords = [parse_symbol(name) for name in names.split()]
        for onset, _, pitch, _ in bar_notes:
            chord = chords[-1] if onset - start - index * bar >= quarter and len(chords) > 1 else chords[0]
            assert pitch % 12 in chord.pitch_classes(), (names, onset, pitch)
        bass = min(bar_notes)  # the first note of the bar is the root in the bass
        assert bass[2] % 12 == chords[0].root and bass[2] < 52


def test_the_bass_alternates_root_and_fifth_and_takes_a_new_chords_root():
    # 4/4: bass on beats 1 and 3, chords on 2 and 4. Bar 1 holds G: root then fifth (G, D).
    # Bar 2 changes to C on beat 3: its bass there is C's root, not its fifth.
    reel = 'X:1\nM:4/4\nL:1/8\nK:G\n"G"G2B2 d2B2|"G"G2B2 "C"c2e2|"G"G8|]\n'
    midi_file, _ = make_midi(reel, INSTRUMENTS["guitar"])
    backing = midi_notes(midi_file)[PART_NAME.encode()]
    quarter = midi_file.ticksPerQuarterNote
    start = min(n[0] for n in backing)
    bass = [(n[0] - start) // quarter for n in backing if n[2] < 52]  # beats (quarters) of the bass notes
    assert bass == [0, 2, 4, 6, 8, 10]
    pitch = {(n[0] - start) // quarter: n[2] % 12 for n in backing if n[2] < 52}
    assert [pitch[b] for b in bass] == [7, 2, 7, 0, 7, 2]  # G D | G C | G D


def test_without_accompaniment_the_midi_is_the_melody_alone():
    assert RenderSettings().accompaniment is None
    midi_file, notes = make_midi(WALTZ, None)
    tracks = midi_notes(midi_file)
    assert list(tracks) == [b""] and programs(midi_file) == {INSTRUMENTS["fiddle"]}
    assert any("chord symbols not played" in note for note in notes)
    with_backing, _ = make_midi(WALTZ, INSTRUMENTS["piano"])
    # The melody is the same with and without the accompaniment.
    assert midi_notes(with_backing)[b""] == tracks[b""]


def test_a_tune_without_chords_says_there_is_nothing_to_accompany():
    midi_file, notes = make_midi("X:1\nM:2/4\nL:1/8\nK:G\nG2B2|d4|]\n", INSTRUMENTS["guitar"])
    assert list(midi_notes(midi_file)) == [b""]
    assert "no chord symbols to accompany" in notes


def test_a_render_with_accompaniment_writes_the_second_part(tmp_path):
    done = render(WALTZ, tmp_path, RenderSettings(compress=False, accompaniment="accordion"))
    midi_file = render_worker.read_midi(done.midi)
    assert INSTRUMENTS["accordion"] in programs(midi_file)
    assert PART_NAME.encode() in midi_notes(midi_file)
    assert done.wav.stat().st_size > 44 and done.seconds > 5


def test_an_unknown_accompaniment_is_refused_by_name(tmp_path):
    with pytest.raises(RenderError, match="banjolele"):
        render(WALTZ, tmp_path, RenderSettings(compress=False, accompaniment="banjolele"))


def test_the_accompaniment_sounds_quieter_than_the_melody(tmp_path):
    import os
    import subprocess

    import numpy as np

    from bot.render import find_soundfont

    tune = WALTZ.replace("|]", "|" + "\"D\"d2 f2 a2|\"A7\"e2 c2 A2|" * 4 + "\"D\"d6|]")
    done = render(tune, tmp_path, RenderSettings(compress=False, accompaniment="guitar"))
    loudness = {}
    for keep in ("melody", "accompaniment"):
        midi_file = render_worker.read_midi(done.midi)
        for track in midi_file.tracks:
            named = any(e.type.name == "SEQUENCE_TRACK_NAME" and e.data == PART_NAME.encode()
                        for _, e in render_worker.timed_events(track))
            if named != (keep == "accompaniment"):
                for _, event in render_worker.timed_events(track):
                    if event.isNoteOn():
                        event.velocity = 0  # silence the other part
        render_worker.write_midi(midi_file, str(tmp_path / f"{keep}.mid"))
        raw = tmp_path / f"{keep}.raw"
        subprocess.run(["fluidsynth", "-ni", "-q", "-T", "raw", "-O", "float", "-r", "22050", "-F", str(raw),
                        str(find_soundfont()), str(tmp_path / f"{keep}.mid")],
                       capture_output=True, timeout=60, env={**os.environ, "SDL_AUDIODRIVER": "dummy"})
        samples = np.fromfile(raw, dtype=np.float32)
        loudness[keep] = 20 * np.log10(np.sqrt(np.mean(samples ** 2)))
    assert loudness["accompaniment"] < loudness["melody"] - 3  # dB, RMS


def test_a_tune_music21_reads_without_measures_is_accompanied_too():
    # music21 reads this 12/8 tune into a part without measures.
    tune = 'X:1\nM:12/8\nL:1/8\nK:Em\n"Em"E2B B2A G2E F2D|"D"E2B B2A "Em"G2E E3|]\n'
    midi_file, notes = make_midi(tune, INSTRUMENTS["guitar"])
    backing = midi_notes(midi_file)[PART_NAME.encode()]
    quarter = midi_file.ticksPerQuarterNote
    # Bass on each of the four dotted beats of the bar, a chord on the third eighth of each.
    onsets = sorted({start for start, *_ in backing if start < 6 * quarter})
    assert onsets == [0, quarter, 3 * quarter // 2, 5 * quarter // 2, 3 * quarter, 4 * quarter,
                      9 * quarter // 2, 11 * quarter // 2]
    second_bar = [p % 12 for start, _, p, _ in backing if 6 * quarter <= start < 9 * quarter]
    assert set(second_bar) <= set(Chord(2, "maj").pitch_classes())  # D for the first half
