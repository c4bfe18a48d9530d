"""The range each instrument's tunes are written in: one job, so that a tune is playable on it.

The page's instrument (`bot.render.INSTRUMENTS` names them) sets the lowest and highest pitch a
new tune may write; `bot.compose.rules.instrument_range` masks every other note in decoding.
Pitches are MIDI numbers of the written note (ABC `C` is middle C, 60; `c` 72; `G,` 55). For
instruments that sound an octave from where they are written (whistle, guitar, banjo,
piccolo, recorder) the range is the written one: the tune is read from the page as written.
The ranges are where folk players play the instrument, not its extreme notes.
"""

from __future__ import annotations

RANGES: dict[str, tuple[int, int]] = {
    # Bowed strings.
    # G string up to third position on the E string: session tunes stop at about E6 (`e'`);
    # the G3 floor is the ("`E,` in a fiddle tune, below the G string").
    "fiddle": (55, 88),
    "violin": (55, 88),  # the fiddle by another name
    "viola": (48, 84),  # C string up to third position on the A string (C3 to C6)
    "cello": (36, 72),  # C string up to fourth position on the A string (C2 to C5)
    "strings": (36, 88),  # a string section: the cello's floor to the fiddle's top
    # Winds. Whistle and flute as the issue gives them ("D4 to about B5/D6"): the session flute
    # is the simple-system D flute, its low D the bottom, and tunes keep to its first two
    # octaves like the whistle's, though a concert flute goes down to C4 and up past C7.
    "flute": (62, 86),
    "whistle": (62, 86),  # D whistle, written D4 to D6 (it sounds an octave higher)
    "piccolo": (62, 93),  # written D4 to A6 (sounds an octave higher), as a fife plays tunes
    "recorder": (60, 86),  # soprano, written C4 to D6 (sounds an octave higher)
    "panpipes": (67, 91),  # a Romanian nai's tune range, G4 to G6
    "clarinet": (52, 91),  # written E3 (its lowest) to G6, the klezmer clarinet's usual top
    "oboe": (58, 91),  # Bb3 (its lowest) to G6
    # Free reeds and pipes.
    "accordion": (53, 88),  # the piano accordion's treble keyboard starts at F3; tunes top out as the fiddle's
    "concertina": (55, 86),  # a C/G Anglo's tune range, G3 to D6
    "harmonica": (60, 96),  # 10-hole diatonic in C: C4 to C7
    "bagpipes": (67, 81),  # the Highland chanter's nine notes, G4 to A5
    # Keyboards, plucked and struck strings.
    "piano": (21, 108),  # the whole keyboard
    "harpsichord": (29, 89),  # a five-octave harpsichord, F1 to F6
    "harp": (36, 93),  # a 34-string lever (Celtic) harp, C2 to A6
    "dulcimer": (50, 88),  # a 15/14 hammered dulcimer, D3 to E6
    "guitar": (52, 88),  # written E3 (open low E) to E6 (12th fret, top string); sounds an octave lower
    "banjo": (55, 84),  # Irish tenor banjo (GDAE), written G3 to C6 as fiddle music; sounds an octave lower
    "organ": (36, 96),  # a manual's five octaves, C2 to C7
}

_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def range_for(name: str | None) -> tuple[int, int] | None:
    """(lowest, highest) MIDI pitch a tune for instrument `name` is written in; None: any pitch."""
    if name is None:
        return None
    if name not in RANGES:
        raise ValueError(f"unknown instrument {name!r}; choose one of: {', '.join(RANGES)}")
    return RANGES[name]


def note_name(pitch: int) -> str:
    """A MIDI pitch as a note name with its octave (60 "C4", 55 "G3", 70 "Bb4")."""
    return f"{_NAMES[pitch % 12]}{pitch // 12 - 1}"


def describe(name: str | None) -> str:
    """The range of `name` in words ("G3 to E6"; "any pitch" for None)."""
    span = range_for(name)
    return "any pitch" if span is None else f"{note_name(span[0])} to {note_name(span[1])}"
