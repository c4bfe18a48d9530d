"""One tune as the harmoniser sees it: chord slots (half bars or beats) with their melody and chords.

A slot is where a chord may start: each half bar in duple meters (2/4, 4/4, 2/2, 6/8, 12/8)
and each beat in triple ones (3/4, 9/8, 3/2). For each slot we keep the melody's pitch
classes weighted by how long they sound in it, where in the text a chord for it would be
written, and the chord the text already has there. Everything comes from the repo's one
tokenizer (bot.notation.tokens); positions index the original text, so inserting chord
symbols never touches a character of the melody.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from bot.notation.abc import default_unit, parse_key, parse_meter, read_tune, strip_comment
from bot.notation.bars import Bar, beat_of, read_body
from bot.notation.chords import Chord, parse_symbol
from bot.notation.tokens import pitch_class, tokenize

# Mode families the model keeps statistics for; the rarer modes borrow the nearest one.
MODE_FAMILY = {"": "maj", "lyd": "maj", "mix": "mix", "dor": "dor", "m": "min", "phr": "min", "loc": "min"}
MODES = ("maj", "mix", "dor", "min")
# Bar lines that end a section: its last bar is where a tune book writes the cadence.
SECTION_ENDS = (":|", "||", "|]", "::", ":|:", ":||")
# Elements written before a note that belong to it: a chord symbol goes in front of them.
_ATTACHED = ("deco", "grace", "tuplet", "quote")
# Slurs, ornaments and bowings before a note; the tokenizer keeps a blank before them in the
# same text token (` v` in `gdBd vfdge`), and the chord symbol goes after that blank.
_ATTACHED_TEXT = re.compile(r"\s*(?P<marks>[(~.HLMOPSTuv]+)")
# Extra weight (in beats) for the note sounding at a slot's start, and on each later beat of
# it: the ear hears the beat notes against the chord (4-fold cross-validation chose them).
ONSET_WEIGHT = 1.0
BEAT_WEIGHT = 0.25
PHRASE_BARS = 8  # dance tunes come in 8-bar phrases: the chords at bar 4 and bar 8 are cadences


class HarmonyError(ValueError):
    """A tune the harmoniser cannot read (no K: line, no bars); the message says which."""


@dataclass
class Slot:
    """One place a chord may start."""

    bar: int  # index into Reading.bars
    start: Fraction  # position in the bar in whole notes (a pickup is counted from the bar's start)
    end: Fraction
    weights: np.ndarray  # (12,) melody time per pitch class relative to the tonic, in beats
    insert_at: int | None  # index in the tune text where a chord symbol for this slot goes; None: no note starts here
    tonic: int  # pitch class of the key's tonic here
    mode: str  # one of MODES
    human: Chord | None = None  # the chord in force here according to the text's own symbols
    bar_start: bool = False  # the first slot of its bar
    cadence: bool = False  # in the last bar of a section (or of the tune)
    first: bool = False  # in the tune's first full bar
    phrase: int = 0  # (bar in its 8-bar phrase) * 2 + (in the second half of the bar)
    beats: list[Chord | None] = field(default_factory=list)  # the text's chord at each beat in the slot
    onset: int | None = None  # pitch class (relative to the tonic) sounding at the slot's start; None: a rest
    last: int | None = None  # pitch class (relative to the tonic) of the slot's last note (it leads on)
    sounding: list = field(default_factory=list, repr=False)  # the bar's events with pitches sounding in the slot


@dataclass
class Reading:
    """A tune read for harmonising: its slots and where its chord symbols are."""

    text: str  # the whole tune text as given
    body_start: int  # index in text where the music starts (after the K: line)
    meter: str
    key: str
    slots: list[Slot] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    chorded_bars: set[int] = field(default_factory=set)  # bars holding a chord symbol of their own
    beat: Fraction = Fraction(1, 4)  # the meter's beat in whole notes

    @property
    def has_chords(self) -> bool:
        """Whether the text carries chord symbols of its own."""
        return bool(self.chorded_bars)


def slot_length(bar: Fraction, beat: Fraction) -> Fraction:
    """Half a bar when the bar holds an even number of beats, else one beat."""
    beats = bar / beat
    if beats.denominator == 1 and beats.numerator % 2 == 0:
        return bar / 2
    return beat


def _blank_comments(text: str) -> str:
    """`text` with each % comment replaced by spaces, so positions stay the same."""
    lines = []
    for line in text.split("\n"):
        kept = strip_comment(line)
        lines.append(kept.ljust(len(line)))
    return "\n".join(lines)


def read(text: str) -> Reading:
    """Read one tune (headers and music) into chord slots; HarmonyError if it has no K: or no music."""
    match = re.search(r"(?m)^[ \t]*K:.*$", text)
    if match is None:
        raise HarmonyError("the tune has no K: line")
    body_start = match.end() + 1 if match.end() < len(text) else match.end()
    tune = read_tune(text[:match.end()])
    meter = re.sub(r"\s", "", tune.get("M") or "none")
    meter = {"C": "4/4", "C|": "2/2"}.get(meter, meter)
    unit = (tune.get("L") or default_unit(meter)).replace(" ", "")
    key = (tune.get("K") or "C").strip()
    parsed_key = parse_key(key)
    key = parsed_key[0] + parsed_key[1] if parsed_key else "C"
    body = _blank_comments(text[body_start:])
    bars = read_body(body, meter, unit, key)
    if not any(bar.events for bar in bars):
        raise HarmonyError("the tune has no notes")
    reading = Reading(text, body_start, meter, key, bars=bars, beat=beat_of(meter))
    _fill_slots(reading, body)
    return reading


def _attach_points(body: str) -> dict[int, int]:
    """For each note, chord or rest start: where a chord symbol in front of it should go."""
    tokens = [tok for tok in tokenize(body) if not tok.inside]
    points: dict[int, int] = {}
    for i, tok in enumerate(tokens):
        if tok.kind not in ("note", "chord", "rest"):
            continue
        j, point = i, tok.start
        while j > 0:
            before = tokens[j - 1]
            marks = _ATTACHED_TEXT.fullmatch(before.text) if before.kind == "text" else None
            if before.kind in _ATTACHED:
                point = before.start
            elif marks:
                point = before.start + marks.start("marks")
                if marks.start("marks"):
                    break  # a blank before the marks: what precedes is not the note's
            else:
                break
            j -= 1
        # `v"D7"f` is a malformed note to abc2midi, which drops it: the symbol goes before the marks.
        points[tok.start] = point
    return points


def _fill_slots(reading: Reading, body: str) -> None:
    """Cut each full bar into slots (pickups get none), in order, with their melody and chords."""
    meter = reading.meter
    points = _attach_points(body)
    in_force: Chord | None = None  # the text's chord, carried across bars
    full_seen = False
    section_bar = 0  # full bars since the section started
    section_start = True  # the previous bar with music ended a section
    first_bar, last_bar = _first_music_bar(reading.bars), _last_music_bar(reading.bars)
    for index, bar in enumerate(reading.bars):
        meter = bar.meter or meter
        beat = beat_of(meter)
        length = parse_meter(meter) or bar.duration
        if not bar.events or length <= 0:
            continue
        parsed = parse_key(bar.key) or ("C", "")
        tonic, mode = pitch_class(parsed[0]), MODE_FAMILY[parsed[1]]
        # A short bar that starts the tune or a section is a pickup: its notes lead into the
        # next full bar, and tune books write no chord on it.
        pickup = bar.duration < length and (index == first_bar or section_start)
        shift = length - bar.duration if pickup else Fraction(0)
        marks = _marks(bar, shift)
        if marks:
            reading.chorded_bars.add(index)
        ends_section = is_section_end(bar.token)
        section_start = ends_section
        if pickup:
            in_force = marks[-1][1] if marks else in_force
            continue
        cadence = ends_section or index == last_bar
        size = slot_length(length, beat)
        start = Fraction(0)
        while start < min(bar.duration, length):
            end = start + size
            starting = [e for e in bar.events if start <= e.offset + shift < end]
            insert_at = None
            if starting:
                insert_at = reading.body_start + points.get(starting[0].start, starting[0].start)
            for offset, chord in marks:
                if offset <= start:
                    in_force = chord
            # The top note of a written chord [CEG] is the melody's.
            sounding = [e for e in bar.events if e.pitches and e.offset + shift < end and e.offset + shift + e.duration > start]
            slot = Slot(
                bar=index, start=start, end=end, weights=_weights(bar, shift, start, end, beat, tonic),
                insert_at=insert_at, tonic=tonic, mode=mode, human=in_force, bar_start=start == 0,
                cadence=cadence, first=not full_seen,
                phrase=(section_bar % PHRASE_BARS) * 2 + (start * 2 >= length),
                onset=(max(sounding[0].pitches) - tonic) % 12 if sounding and sounding[0].offset + shift <= start else None,
                last=(max(sounding[-1].pitches) - tonic) % 12 if sounding else None,
                sounding=sounding,
            )
            # The text's chord on each beat (a chord written off the slot grid starts later).
            position = start
            while position < min(end, bar.duration):
                for offset, chord in marks:
                    if start < offset <= position:
                        in_force = chord
                slot.beats.append(in_force)
                position += beat
            for offset, chord in marks:
                if start < offset < end:
                    in_force = chord
            reading.slots.append(slot)
            start = end
        full_seen = True
        section_bar = 0 if cadence else section_bar + 1


def is_section_end(token: str) -> bool:
    """Whether a bar line ends a section (`:|`, `||`, `|]`, `::`, also with an ending number)."""
    return token.strip().rstrip("0123456789,-") in SECTION_ENDS


def _marks(bar: Bar, shift: Fraction) -> list[tuple[Fraction, Chord]]:
    """(position in the bar, chord) of each chord symbol in the bar, annotations left out."""
    marks: list[tuple[Fraction, Chord]] = []
    last_offset = None
    for mark in bar.chords:
        chord = parse_symbol(mark.symbol)
        if chord is None or mark.offset == last_offset:
            continue  # stacked alternatives ("E7""G"): the first is the one played
        marks.append((mark.offset + shift, chord))
        last_offset = mark.offset
    return marks


def _weights(bar: Bar, shift: Fraction, start: Fraction, end: Fraction, beat: Fraction, tonic: int) -> np.ndarray:
    """(12,): beats each pitch class (relative to the tonic) sounds in [start, end) of the bar.

    A note sounding at the slot's start counts ONSET_WEIGHT beats more, and BEAT_WEIGHT more
    on each later beat of the slot: the ear hears the beat notes against the chord.
    """
    weights = np.zeros(12)
    for event in bar.events:
        a, b = event.offset + shift, event.offset + shift + event.duration
        overlap = min(b, end) - max(a, start)
        if not event.pitches or overlap <= 0:
            continue
        extra = ONSET_WEIGHT * beat if a <= start < b else 0
        position = start + beat
        while position < end:
            extra += BEAT_WEIGHT * beat if a <= position < b else 0
            position += beat
        for pitch in event.pitches:
            weights[(pitch - tonic) % 12] += float((overlap + extra) / beat)
    return weights


def _first_music_bar(bars: list[Bar]) -> int:
    return next((i for i, bar in enumerate(bars) if bar.events), -1)


def _last_music_bar(bars: list[Bar]) -> int:
    return max((i for i, bar in enumerate(bars) if bar.events), default=-1)
