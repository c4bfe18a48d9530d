"""Chord symbols: read the spellings found in tune books, name chords back, list chord tones.

The one reader of what a quoted chord symbol means: the tokenizer finds the quotes
(`bot.notation.tokens`, below this module), this says which chord they name; the harmoniser,
the renderer's accompaniment and `bars.bar_events` (above it) all ask here.

A chord is a root pitch class and one of a few qualities: what a session guitarist reads
from "G", "D7", "Em", "Am7", "Bdim". Tune books also write bass notes ("G/B"), extensions
("C6", "Gmaj7", "Dsus4") and odd spellings ("Gd", "Fa7"): these fold into the nearest
quality, keeping the root. Quoted text that starts with ^ _ < > @ is an annotation, not a chord.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.notation.tokens import CHORD_SYMBOL, pitch_class

QUALITIES = ("maj", "min", "7", "min7", "dim")
# Semitones above the root, per quality.
INTERVALS: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7), "min": (0, 3, 7), "7": (0, 4, 7, 10), "min7": (0, 3, 7, 10), "dim": (0, 3, 6),
}
# Written after the root letter when naming a chord.
SUFFIX = {"maj": "", "min": "m", "7": "7", "min7": "m7", "dim": "dim"}
# Quality families compared by the bench's "same chord" score: major, minor, seventh.
FAMILY = {"maj": "maj", "min": "min", "7": "7", "min7": "min", "dim": "min"}

_SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
ANNOTATION_MARKS = "^_<>@"

# Root letter and accidental, then the rest of the symbol (quality, extensions, bass note).
_SYMBOL = re.compile(r"\s*([A-G])([#b\u266f\u266d]?)(.*)$")
# What may follow the root: a bass letter written in lower case ("Gd", "Fa7"), then quality
# words and numbers ("m7", "maj7", "sus4", "7b9", "dim", "+").
_REST = re.compile(r"[a-g]?(?:maj|min|dim|aug|sus|add|ma|mi|m|M|-|o|\u00b0|\u00f8|\+|\d|b|#|\(|\))*")


@dataclass(frozen=True, order=True)
class Chord:
    """A chord: root pitch class (0 = C) and a quality from QUALITIES."""

    root: int
    quality: str = "maj"

    def __post_init__(self) -> None:
        assert 0 <= self.root < 12 and self.quality in INTERVALS, self

    def pitch_classes(self) -> tuple[int, ...]:
        """The chord tones as pitch classes, root first."""
        return tuple((self.root + step) % 12 for step in INTERVALS[self.quality])

    def transposed(self, semitones: int) -> Chord:
        """The same chord `semitones` higher."""
        return Chord((self.root + semitones) % 12, self.quality)

    def same_family(self, other: Chord) -> bool:
        """Same root and the same of major / minor / seventh (the bench's "same chord")."""
        return self.root == other.root and FAMILY[self.quality] == FAMILY[other.quality]


def is_annotation(text: str) -> bool:
    """Whether quoted text (without its quotes) is an annotation such as "^Fine"."""
    return not text or text[0] in ANNOTATION_MARKS


def parse_symbol(text: str) -> Chord | None:
    """The chord a quoted string names (text without quotes), None for annotations and words."""
    if is_annotation(text):
        return None
    # Stacked alternatives ("E7/G" is a bass note, "(G)" an optional chord): the first chord.
    text = text.strip().strip("()")
    match = _SYMBOL.match(text)
    if match is None:
        return None
    letter, accidental, rest = match.groups()
    root = (pitch_class(letter) + {"": 0, "#": 1, "\u266f": 1, "b": -1, "\u266d": -1}[accidental]) % 12
    rest = rest.split("/")[0].strip()
    if not _REST.fullmatch(rest):
        return None  # "Chorus", "Fine", "D.C.": words and marks, not chords
    lower = rest.lower()
    if re.match(r"(dim|o|\u00b0)", lower) or "m7b5" in lower or "\u00f8" in lower:
        quality = "dim"
    elif re.match(r"(m(?!aj)|min|mi\b|-)", rest):
        quality = "min7" if "7" in rest else "min"
    elif re.match(r"(maj|ma\b|M|\u0394)", rest):
        quality = "maj"  # major sevenths are rare in this music: heard as the triad
    elif re.match(r"(aug|\+|sus|add)?\d*$", lower) and re.search(r"(^|[^\d])(7|9|11|13)", rest):
        quality = "7"
    elif re.fullmatch(r"[a-g]7", lower):
        quality = "7"  # "Fa7": a bass letter written after the root, then the seventh
    else:
        quality = "maj"
    return Chord(root, quality)


def chord_name(chord: Chord, fifths: int = 0) -> str:
    """The chord written for a key with `fifths` sharps (flats if negative): "F#m", "Bb", "D7"."""
    names = _FLAT_NAMES if fifths < 0 else _SHARP_NAMES
    return names[chord.root] + SUFFIX[chord.quality]


def parse_chord_symbol(symbol: str) -> tuple[str, str, str | None] | None:
    """(root, quality, bass) of a chord symbol ("F#m7" -> ("F#", "m7", None)); None for an annotation."""
    match = CHORD_SYMBOL.fullmatch(symbol.strip())
    if not match or parse_symbol(symbol) is None:
        return None
    return match.group("root") + match.group("racc"), match.group("quality"), match.group("bass")
