"""ABC music text as tokens: the one tokenizer every reader of ABC notation in abc-bot uses.

The lowest module of the notation package: it knows nothing above it (only `abc` for key
names), and the readers build on it in one direction, tokens -> chords -> bars:

* `ELEMENT`, one regular expression for one element of music text (a note, a chord, a quoted
  string, a decoration, an inline field, a bar line ...). `bot.notation.bars.measure` runs it
  on every sampled character, so it stays a single compiled pattern.
* `tokenize(body)`: every element of a tune body in order, with its span, including the
  notes inside chords `[CEG]` and grace groups `{ga}` (so a transposer can rewrite them).
* Pitches: `note_pitch`, `pitch_class`, key signatures and fifths.

What a quoted chord symbol means is `bot.notation.chords`' to say; a body read into timed bars
with their chord symbols (`read_body`, `bar_events`, `Bar`) is `bot.notation.bars`'.

Keys: `key_signature("Ador")` gives the accidental of each letter, `tonic("Ador")` "A".
No torch here, and no music21: these run inside the sampler.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from bot.notation.abc import parse_key

# Lengths after a note: `2`, `/`, `3/2`, `//`.
LENGTH = r"\d{0,4}/*\d{0,4}"
# One element of music text. Alternatives are tried in order at each position, so a quoted
# string or decoration is consumed whole before its letters could be read as notes. The
# closing quote/brace/bracket is optional so text cut off mid-element still reads.
ELEMENT = re.compile(
    r'(?P<quote>"[^"\n]*"?)'
    r"|(?P<deco>![^!\s|]*!|\+[^+\s|]*\+)"
    r"|(?P<grace>\{[^}\n|]*\}?)"
    r"|(?P<inline>\[(?P<iname>[A-Za-z]):(?P<ivalue>[^\]\n]*)\]?)"
    r"|(?P<linefield>^(?P<lname>[A-Za-z]):(?P<lvalue>[^\n]*))"
    r"|(?P<bar>\[\||:*\|[|\]]?:*(?:\d[\d,\-]*)?|::+)"
    r"|(?P<variant>\[\d[\d,\-]*)"
    rf"|(?P<tuplet>\((?P<p>[1-9]\d?)(?::(?P<q>\d{{0,2}}))?(?::(?P<r>\d{{0,2}}))?)"
    rf"|(?P<chord>\[(?P<inner>[^\]\[|\n]*)\]?(?P<clen>{LENGTH}))"
    rf"|(?P<note>(?:\^\^|\^|__|_|=)?[A-Ga-g][,']*(?P<nlen>{LENGTH}))"
    rf"|(?P<rest>[zx](?P<rlen>{LENGTH}))"
    r"|(?P<multirest>[ZX](?P<count>\d{0,3}))"
    r"|(?P<broken>[<>]{1,3})",
    re.MULTILINE,
)
# A note's parts; also finds the notes inside a chord or a grace group.
NOTE = re.compile(rf"(?P<acc>\^\^|\^|__|_|=)?(?P<letter>[A-Ga-g])(?P<oct>[,']*)(?P<len>{LENGTH})")
# A chord symbol: root, quality, optional bass ("G", "D7", "Em/B", "F#m7b5"); anything else
# in quotes is an annotation ("^text", "<text", fingering).
# The quality is one of the usual spellings ("m", "7", "m7", "maj7", "dim", "sus4", "7b9"),
# so that "D.C.", "Fine" or "Segno" read as the annotations they are.
CHORD_SYMBOL = re.compile(
    r"(?P<root>[A-G])(?P<racc>[#b]?)"
    r"(?P<quality>(?:maj|min|dim|aug|sus|add|m|M|\+|o|-)?\d{0,2}(?:(?:maj|sus|add|b|#)\d{1,2})*)"
    r"(?:/(?P<bass>[A-G][#b]?))?")

ACCIDENTALS = {"^^": 2, "^": 1, "=": 0, "_": -1, "__": -2}
_LETTER_SEMITONES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_FIFTHS = {"C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5, "F": -1}
_MODE_FIFTHS = {"": 0, "m": -3, "dor": -2, "phr": -4, "lyd": 1, "mix": -1, "loc": -5}
_SHARP_ORDER = "FCGDAEB"


@dataclass(frozen=True)
class Token:
    """One element of music text: its kind (a group name of ELEMENT, or "text" for the rest)."""

    kind: str  # "note", "chord", "rest", "quote", "bar", "grace", "inline", ...; "text" between elements
    start: int  # index in the body
    end: int
    text: str
    inside: str = ""  # "chord" or "grace" for a note inside a chord or a grace group


def tokenize(body: str) -> Iterator[Token]:
    """Every element of `body` in order; the notes of chords and grace groups follow them."""
    last = 0
    for match in ELEMENT.finditer(body):
        if match.start() > last:
            yield Token("text", last, match.start(), body[last:match.start()])
        kind = match.lastgroup
        if kind in ("note", "rest", "multirest") and match.group(0) == "":
            continue
        yield Token(kind, match.start(), match.end(), match.group(0))
        if kind in ("chord", "grace"):
            inner_start = match.start() + 1
            inner = match.group("inner") if kind == "chord" else match.group(0)[1:].rstrip("}")
            for note in NOTE.finditer(inner):
                yield Token("note", inner_start + note.start(), inner_start + note.end(), note.group(0), kind)
        last = match.end()
    if last < len(body):
        yield Token("text", last, len(body), body[last:])


def without(text: str, kinds: set[str], fill: str = "") -> str:
    """`text` with its elements of `kinds` ("quote", "deco", "inline", "grace" ...) replaced by `fill`.

    With no `fill`, where a removed element stood between two spaces one space is kept.
    """
    pieces: list[str] = []
    last = 0
    for tok in tokenize(text):
        if tok.kind in kinds and not tok.inside:
            piece = text[last:tok.start]
            if not fill and piece.endswith(" ") and text[tok.end:tok.end + 1] == " ":
                piece = piece[:-1]
            pieces.append(piece + fill)
            last = tok.end
    pieces.append(text[last:])
    return "".join(pieces)


def model_view(body: str) -> str:
    """Music as the model reads it: chord symbols, annotations and `!decorations!` left out.

    Only 810 of the 12,181 training tunes hold a quoted string (and most of those are
    fingerings, "^Segno" or "D.C."; 23 hold guitar chords) and 38 a `!decoration!`, so a
    pasted tune full of `"G"` `"D7"` reads to the model like nothing it learned from. The
    one-character ornaments (`~` `T` `.` `u` `v`) stay: the training tunes use them (`.` in
    1,069 tunes, `T` in 583).
    """
    return without(body, {"quote", "deco"})


def tonic(key: str) -> str | None:
    """The tonic of a K: value, mode-aware ("Ador" -> "A", "Em" -> "E", "Bb" -> "Bb"); None if unreadable."""
    parsed = parse_key(key)
    return None if parsed is None else parsed[0]


def pitch_class(name: str) -> int:
    """Semitones above C of a note name ("F#" 6, "Bb" 10, "c" 0)."""
    return (_LETTER_SEMITONES[name[0].upper()] + {"": 0, "#": 1, "b": -1}[name[1:]]) % 12


def key_fifths(tonic: str, mode: str) -> int:
    """Sharps (positive) or flats (negative) in the signature of tonic + mode ("F#", "dor")."""
    return _FIFTHS[tonic[0]] + 7 * {"": 0, "#": 1, "b": -1}[tonic[1:]] + _MODE_FIFTHS[mode]


def key_signature(key: str) -> dict[str, int]:
    """Each letter's accidental (+1 sharp, -1 flat, 0) in the signature of a K: value; C major if unreadable."""
    parsed = parse_key(key)
    signature = dict.fromkeys("CDEFGAB", 0)
    if parsed is None:
        return signature
    fifths = max(-7, min(7, key_fifths(*parsed)))
    for letter in _SHARP_ORDER[:fifths] if fifths > 0 else _SHARP_ORDER[::-1][: -fifths]:
        signature[letter] = 1 if fifths > 0 else -1
    return signature


def note_pitch(match: re.Match, signature: dict[str, int], carried: dict[tuple[str, int], int]) -> int:
    """The MIDI number of a NOTE match; an accidental it carries is remembered in `carried` for the bar."""
    letter = match.group("letter")
    octave = (1 if letter.islower() else 0) + match.group("oct").count("'") - match.group("oct").count(",")
    upper = letter.upper()
    acc = match.group("acc")
    if acc is not None:
        carried[(upper, octave)] = ACCIDENTALS[acc]
    shift = carried.get((upper, octave), signature[upper])
    return 60 + 12 * octave + _LETTER_SEMITONES[upper] + shift
