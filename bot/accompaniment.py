"""Chord symbols -> a second music21 part that plays them: bass then chord, in the meter's pattern.

music21 reads chord symbols into `harmony.ChordSymbol` objects at the right offsets but gives
them no length, so its MIDI never sounds them. Here they become notes of a part of their own
(the route chosen: the part copies the melody part's measures, bar lines, repeat signs and
endings, so music21's repeat expansion plays both parts in the same order, and the MIDI keeps
the accompaniment on its own track, channel and program).

The pattern per bar follows abc2midi's %%MIDI gchord defaults: "oom-pah" (bass, chord) in
2/4, 4/4 and 2/2, bass-chord-chord in 3/4, bass then chord on each dotted beat of 6/8, 9/8
and 12/8; the second bass of a bar is the chord's fifth, unless the chord changed since the
last bass note: a player puts the new chord's root in the bass. The accompaniment plays quieter than
the melody (music21 writes the melody at velocity 90; VELOCITIES).

Before music21 reads the text, `music21_text` rewrites every quoted string with the repo's
tokenizer: chord symbols are spelled the way music21 reads them ("Gd" or "Fa7" would be
dropped) and annotations are removed (music21 drops the note after a ">text" annotation and
reads some as chords). Only renders with an accompaniment use it.
"""

from __future__ import annotations

import copy
import re
from fractions import Fraction

from bot.notation.chords import Chord, chord_name, parse_symbol
from bot.notation.tokens import tokenize

PART_NAME = "Accompaniment"  # the MIDI track name, by which the renderer gives it its program
# (bass, chord) velocities by General MIDI program: with FluidR3_GM these sit about 5 dB
# (RMS) under a fiddle melody at music21's velocity 90 (guitar 5.3, piano 4.2, accordion
# 4.8 dB, measured); other programs get the default.
VELOCITIES = {24: (48, 40), 0: (64, 54), 21: (60, 50)}
DEFAULT_VELOCITIES = (56, 46)
BASS_LOW = 40  # E2: bass notes lie in E2-D#3
CHORD_LOW = 52  # E3: chord tones lie in E3-D#4, below a fiddle or whistle melody

_KIND_QUALITY = (("minor-seventh", "min7"), ("half-diminished", "dim"), ("diminished", "dim"),
                 ("dominant", "7"), ("minor", "min"))


def pattern(meter: str) -> list[tuple[Fraction, Fraction, str]]:
    """(offset, length, "bass" | "fifth" | "chord") in whole notes for one full bar of `meter`."""
    match = re.fullmatch(r"(\d+)/(\d+)", meter.strip())
    top, bottom = (int(match.group(1)), int(match.group(2))) if match else (4, 4)
    unit = Fraction(1, bottom)
    if top % 3 == 0 and top > 3 or top == 3 and bottom == 8:
        # Compound: each dotted beat is bass (two eighths) then chord (one eighth).
        events = []
        for beat in range(max(1, top // 3)):
            start = beat * 3 * unit
            events += [(start, 2 * unit, "bass" if beat % 2 == 0 else "fifth"), (start + 2 * unit, unit, "chord")]
        return events
    if top in (2, 4) and bottom in (2, 4):
        # Oom-pah on quarter notes, whatever the written beat (2/2 reels are felt in quarters too).
        quarters = int(Fraction(top, bottom) * 4)
        step = Fraction(1, 4)
        return [(i * step, step, ("bass" if i % 4 == 0 else "fifth") if i % 2 == 0 else "chord")
                for i in range(quarters)]
    # 3/4, 3/2, 5/4 and the rest: bass on the first beat, chord on the others.
    return [(i * unit, unit, "bass" if i == 0 else "chord") for i in range(top)]


def bass_pitch(chord: Chord, kind: str) -> int:
    """The bass note: the root, or the fifth for the bar's second bass, in E2-D#3."""
    pc = chord.root if kind == "bass" else (chord.root + 7) % 12
    return BASS_LOW + (pc - BASS_LOW) % 12


def chord_pitches(chord: Chord) -> tuple[int, ...]:
    """The chord tones in close position within E3-D#4, lowest first."""
    return tuple(sorted(CHORD_LOW + (pc - CHORD_LOW) % 12 for pc in chord.pitch_classes()))


def music21_text(abc: str) -> str:
    """The tune with each chord symbol spelled for music21 and every annotation removed."""
    body_at = re.search(r"(?m)^K:.*$", abc)
    start = body_at.end() if body_at else 0
    out, last = [abc[:start]], start
    body = abc[start:]
    for tok in tokenize(body):
        if tok.kind != "quote":
            continue
        chord = parse_symbol(tok.text.strip('"'))
        out.append(body[last - start:tok.start])
        if chord is not None:
            # Sharps or flats as the spelling had them; music21 reads "Bb" and "F#m7" alike.
            flat = re.match(r'"\s*[A-G]b', tok.text) is not None
            out.append(f'"{chord_name(chord, -1 if flat else 1)}"')
        last = start + tok.end
    out.append(body[last - start:])
    return "".join(out)


def _quality(symbol) -> str:
    kind = symbol.chordKind or ""
    return next((quality for name, quality in _KIND_QUALITY if name in kind), "maj")


def add_accompaniment(score, program: int) -> int:
    """Add a part playing the score's chord symbols (General MIDI `program`); the notes added.

    The melody part is left as it was; nothing is added when the score has no chord symbols.
    """
    from music21 import chord as m21chord
    from music21 import harmony, instrument, note, repeat, spanner, stream

    melody = score.parts[0] if score.parts else None
    if melody is None or melody.recurse().getElementsByClass(harmony.ChordSymbol).first() is None:
        return 0
    # The part is built measure by measure beside the melody's (copying the melody part whole
    # and emptying it cost twice as much): same offsets, bar lines, repeat signs and endings.
    part = stream.Part()
    part.id = part.partName = PART_NAME
    player = instrument.Instrument()
    player.instrumentName = player.partName = PART_NAME
    player.midiProgram = program
    part.insert(0, player)
    twins = {}
    bass_velocity, chord_velocity = VELOCITIES.get(program, DEFAULT_VELOCITIES)

    in_force: Chord | None = None
    bass_chord: Chord | None = None  # the chord the last bass note belonged to
    meter = "4/4"
    added = 0
    measures = list(melody.getElementsByClass(stream.Measure))
    flat = not measures
    if flat:
        # music21 sometimes reads a tune into a part without measures (seen with 12/8): read
        # bars and chords from a measured copy, and play the accompaniment without measures
        # too (music21's MIDI export refuses a score with measures in one part only).
        measures = list(melody.makeMeasures().getElementsByClass(stream.Measure))
    for source in measures:
        if source.timeSignature is not None:
            meter = source.timeSignature.ratioString
        measure = stream.Measure(number=source.number)
        measure.paddingLeft, measure.paddingRight = source.paddingLeft, source.paddingRight
        if source.leftBarline is not None:
            measure.leftBarline = copy.deepcopy(source.leftBarline)
        if source.rightBarline is not None:
            measure.rightBarline = copy.deepcopy(source.rightBarline)
        for mark in source.getElementsByClass(repeat.RepeatExpression):  # D.C., segno, fine
            measure.insert(mark.offset, copy.deepcopy(mark))
        changes = []
        for symbol in source.getElementsByClass(harmony.ChordSymbol):
            root = symbol.root()
            if root is not None:
                changes.append((Fraction(symbol.offset).limit_denominator(64), Chord(root.pitchClass, _quality(symbol))))
        length = Fraction(source.duration.quarterLength).limit_denominator(64)
        pad = Fraction(source.paddingLeft or 0).limit_denominator(64)
        covered = Fraction(0)  # where the last sound ends: gaps get rests, so the bar keeps its length
        for at, span, kind in pattern(meter):
            at, span = at * 4 - pad, span * 4  # quarter notes from the measure's first written note
            if at < 0 or at >= length:
                continue
            for offset, chord in changes:
                if offset <= at:
                    in_force = chord
            if in_force is None:
                continue
            span = min(span, length - at)
            if at > covered:
                measure.insert(float(covered), note.Rest(quarterLength=float(at - covered)))
            covered = at + span
            if kind == "chord":
                # Built from Notes: from MIDI numbers music21 takes 2 ms a chord (100x slower).
                sound = m21chord.Chord([note.Note(p) for p in chord_pitches(in_force)], quarterLength=float(span))
                sound.volume.velocity = chord_velocity
            else:
                kind = "bass" if in_force != bass_chord else kind  # a new chord: its root first
                bass_chord = in_force
                sound = note.Note(bass_pitch(in_force, kind), quarterLength=float(span))
                sound.volume.velocity = bass_velocity
            measure.insert(float(at), sound)
            added += 1
        if covered < length:
            measure.insert(float(covered), note.Rest(quarterLength=float(length - covered)))
        for offset, chord in changes:
            in_force = chord  # the last chord of the bar carries into the next
        if flat:
            for element in list(measure.notesAndRests):
                part.insert(source.offset + element.offset, element)
        else:
            part.insert(source.offset, measure)
        twins[id(source)] = measure
    for bracket in [] if flat else melody.spanners.getElementsByClass(spanner.RepeatBracket):
        spanned = [twins[id(m)] for m in bracket.getSpannedElements() if id(m) in twins]
        if spanned:
            part.insert(0, spanner.RepeatBracket(spanned, number=bracket.number))
    if added:
        score.insert(0, part)
    return added
