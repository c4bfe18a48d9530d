"""The bounds a tune must meet before it is parsed or synthesised: `prepare_tune(abc, tempo)`.

A fast check in the caller's process (no music21, no FluidSynth), run before every render: the
tune's size, digit runs, bars, notes, note lengths, tempo, unit length and estimated duration
with repeats (LIMITS), so that hostile or runaway input is refused with a message that names
it instead of stalling a render child. The text it returns is what the child parses.
bot.render re-exports everything here (`from bot.render import prepare_tune, RenderError`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

from bot.notation.abc import key_problem, normalise_rhythm, parse_meter, read_tune, split_tunes
from bot.notation.check import bar_length_problems
from bot.notation.tokens import NOTE, tokenize

# Quarter notes a minute when neither the caller nor the tune's Q: sets a tempo: a relaxed
# session pace for each rhythm (R:), slower than dance speed so the tune can be followed.
DEFAULT_TEMPOS: dict[str, int] = {
    "reel": 180, "jig": 165, "slip jig": 165, "slide": 180, "hornpipe": 140, "polka": 140,
    "waltz": 150, "mazurka": 140, "march": 120, "strathspey": 120, "schottische": 140,
    "barndance": 140, "fling": 140, "set dance": 140, "country dance": 150, "minuet": 120,
    "air": 80,
}
DEFAULT_TEMPO = 120


class RenderError(ValueError):
    """A tune that cannot be rendered, or a missing tool; the message is one user-facing line."""


@dataclass(frozen=True)
class Limits:
    """Bounds a tune must meet before any parsing or synthesis (hostile or runaway input)."""

    max_chars: int = 20_000  # 8x the longest tune in music21's corpus (2,439)
    max_digits: int = 16  # longest digit run (corpus: 14, in Z:); int() refuses 5,000 digits
    max_bars: int = 400  # music21's parse is quadratic in bars: 250 bars 1.3 s, 1,000 bars 17.6 s
    max_notes: int = 4_000  # same reason for a tune written without bar lines
    max_note_wholes: int = 16  # longest note in whole notes: C40000 is minutes; Essen's typo c442 is 14
    max_seconds: float = 600.0  # ten minutes of audio, repeats included
    min_tempo: int = 20  # quarter notes a minute; Q:1/4=0 would divide by zero
    max_tempo: int = 480
    min_unit: Fraction = Fraction(1, 64)  # L: bounds: L:1/0 divides by zero
    max_unit: Fraction = Fraction(1)


LIMITS = Limits()


@dataclass
class Prepared:
    """A tune that passed the bounds: cleaned ABC for the parsers plus what the checks learned."""

    text: str  # one tune: X:1, M:, L:, Q:1/4=tempo, K: and the music; metadata dropped
    tempo: int  # quarter notes a minute
    seconds: float  # estimated length with repeats, at `tempo`
    bars: int
    notes: list[str] = field(default_factory=list)  # repairs made to the text
    events: int = 0  # notes, rests and chords written, grace notes included (music21 parses each)

    @property
    def cost(self) -> float:
        """Estimated seconds of work to render it (what a render queue orders by): synthesis
        and OGG encoding follow the music's length (~2.5% of real time on these cores), the
        music21 parse the notes written (grace notes too: 17,900 of them took 9 s to fail)."""
        return 0.3 + 0.025 * self.seconds + 0.0015 * self.events


_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd\ud800-\udfff]")
_LONG_NUMBER = re.compile(r"\d{%d,}" % (LIMITS.max_digits + 1))
_FIELD = re.compile(r"^([A-Za-z]):")
_SEMITONES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def _check_pitch(note: str, token: str) -> None:
    """RenderError for a written pitch outside MIDI's 0-127 (music21 would write a corrupt file)."""
    letter = next(c for c in note if c.isalpha())
    if letter.upper() not in _SEMITONES:
        return  # a rest
    pitch = 60 + _SEMITONES[letter.upper()] + (12 if letter.islower() else 0)
    pitch += note.count("^") - note.count("_") + 12 * (note.count("'") - note.count(","))
    if not 0 <= pitch <= 127:
        raise RenderError(f"note {token!r} is outside the range of MIDI notes")


def _length(text: str, token: str) -> Fraction:
    """The multiplier written after a note (`3`, `/`, `3/2`, `//`); RenderError for `/0`."""
    match = re.fullmatch(r"(\d*)(/*)(\d*)", text)
    assert match is not None, text
    num = int(match.group(1)) if match.group(1) else 1
    if not match.group(2):
        den = 1
    elif match.group(3):
        den = int(match.group(3))
    else:
        den = 2 ** len(match.group(2))
    if den == 0:
        raise RenderError(f"note {token!r} has a length divided by zero")
    return Fraction(num, den)


def _clean_meter(value: str) -> str:
    """An M: value as music21 reads it (`none`, `6/8`); RenderError naming a value that is no meter."""
    value = value.strip()
    if value.lower() in ("", "none"):
        return "none"
    if value in ("C", "c"):
        return "4/4"
    if value in ("C|", "c|"):
        return "2/2"
    # Collections write `M:FREI4/4` or `M:2/2]`: keep the fraction in it.
    match = re.search(r"\d+(?:\+\d+)*/\d+", value)
    if match is None:
        raise RenderError(f"M:{value} is not a meter (write it like M:6/8)")
    if parse_meter(match.group(0)) is None:
        raise RenderError(f"M:{value} is not a meter that can be played (numbers 1 to 64, like M:6/8)")
    return match.group(0)


def _clean_unit(value: str) -> Fraction:
    """An L: value as a fraction of a whole note; RenderError naming a value outside the bounds."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:/\s*(\d+))?\s*", value)
    if match is None:
        raise RenderError(f"L:{value.strip()} is not a note length (write it like L:1/8)")
    num, den = int(match.group(1)), int(match.group(2) or 1)
    if den == 0 or num == 0 or not LIMITS.min_unit <= Fraction(num, den) <= LIMITS.max_unit:
        raise RenderError(
            f"L:{value.strip()} is not a unit note length that can be played (1/1 to 1/64)"
        )
    return Fraction(num, den)


def _tempo_from_q(value: str) -> int | None:
    """Quarter notes a minute for a Q: value, None for a tempo in words only."""
    text = re.sub(r'"[^"]*"', " ", value)  # Q:1/4=80 "Slow"
    match = re.search(r"((?:\d+/\d+\s*)+)=\s*(\d+)", text)
    if match:
        beat = Fraction(0)
        for part in match.group(1).split():
            num, den = (int(n) for n in part.split("/"))
            if den == 0:
                raise RenderError(f"Q:{value.strip()} has a beat divided by zero")
            beat += Fraction(num, den)
        quarters = beat * 4 * int(match.group(2))
    else:
        match = re.search(r"(?:^|=)\s*(\d+)\s*$", text.strip())
        if match is None:
            return None
        # A bare number (Q:120, Q:C=120) meant unit notes a minute in old ABC, but the
        # collections that write it mean beats; reading it as quarter notes sounds right.
        quarters = Fraction(int(match.group(1)))
    if not LIMITS.min_tempo <= quarters <= LIMITS.max_tempo:
        raise RenderError(
            f"Q:{value.strip()} is {float(quarters):g} quarter notes a minute; the tempo must be "
            f"{LIMITS.min_tempo} to {LIMITS.max_tempo}"
        )
    return round(quarters)


def _check_tempo(tempo: int) -> int:
    if isinstance(tempo, bool) or not isinstance(tempo, int):
        raise RenderError(f"tempo {tempo!r} is not a whole number of beats a minute")
    if not LIMITS.min_tempo <= tempo <= LIMITS.max_tempo:
        raise RenderError(
            f"tempo {tempo} is outside {LIMITS.min_tempo} to {LIMITS.max_tempo} beats a minute"
        )
    return tempo


def prepare_tune(abc: str, tempo: int | None = None) -> Prepared:
    """Bound one tune and rewrite it for the parsers; RenderError names the first problem.

    Pure Python and linear in the text: a hostile tune is refused in milliseconds.
    """
    if not isinstance(abc, str):
        raise RenderError(f"ABC must be text, not {type(abc).__name__}")
    if len(abc) > LIMITS.max_chars:
        raise RenderError(f"the tune is {len(abc):,} characters long (at most {LIMITS.max_chars:,})")
    if not abc.strip():
        raise RenderError("the tune is empty")
    bad = _BINARY.search(abc)
    if bad:
        raise RenderError(
            f"the text holds binary data (character {ord(bad.group()):#04x} at position {bad.start()})"
        )
    long_number = _LONG_NUMBER.search(abc)
    if long_number:
        raise RenderError(f"the tune holds a {len(long_number.group()):,}-digit number")
    if tempo is not None:
        tempo = _check_tempo(tempo)

    notes: list[str] = []
    tunes = split_tunes(abc)
    if len(tunes) > 1:
        notes.append(f"rendered the first of {len(tunes)} tunes")
    text = tunes[0] if tunes else abc
    if not re.search(r"(?m)^\s*K:", text):
        # A fragment without K: (pasted music): the music starts at the first non-field line.
        lines = text.splitlines()
        music = [i for i, line in enumerate(lines) if line.strip() and not _FIELD.match(line.strip())]
        first = music[0] if music else len(lines)
        text = "\n".join(lines[:first] + ["K:C"] + lines[first:])
        notes.append("no K: line, played in C major")
    tune = read_tune(text)
    if not tune.body:
        raise RenderError("the tune has no music after its K: line")

    header: dict[str, str] = {}
    for name, value in tune.headers:
        if name in "MLQKR" and name not in header:
            header[name] = value
    if "K" in header and key_problem(header["K"]):
        raise RenderError(key_problem(header["K"]))
    written = header["M"].strip() if "M" in header else None
    meter = _clean_meter(written) if written is not None else None
    if written not in (None, "", meter, "C", "C|", "c", "c|"):
        notes.append(f"read M:{written} as M:{meter}")
    unit = _clean_unit(header["L"]) if "L" in header else None
    if unit is None:
        bar = parse_meter(meter) if meter else None
        unit = Fraction(1, 16) if bar is not None and bar < Fraction(3, 4) else Fraction(1, 8)
    q_tempo = _tempo_from_q(header["Q"]) if "Q" in header else None
    if tempo is None:
        tempo = q_tempo
    if tempo is None:
        rhythm = normalise_rhythm(header["R"]) if "R" in header else None
        tempo = DEFAULT_TEMPOS.get(rhythm or "", DEFAULT_TEMPO)
        if unit == Fraction(1, 16):
            # The defaults are for tunes in eighths; one written in sixteenths (Ryan's reels and
            # hornpipes in 2/4, L:1/16, or a 2/4 tune with no L:, which ABC reads so) holds a bar
            # of eighths in half the quarters, and at the same tempo played twice as fast.
            tempo //= 2

    wholes, bars, body, events = _scan_body(tune.body, meter, unit)
    # A bar of the wrong length still plays (as written), but never silently.
    notes += bar_length_problems("\n".join(tune.body), meter or "", f"{unit.numerator}/{unit.denominator}",
                                 header.get("K", "C"))
    seconds = float(wholes) * 4 * 60 / tempo
    if seconds > LIMITS.max_seconds:
        raise RenderError(
            f"the tune lasts about {seconds / 60:.0f} minutes at {tempo} beats a minute "
            f"(at most {LIMITS.max_seconds / 60:.0f})"
        )
    if wholes == 0:
        raise RenderError("the tune has no notes")

    lines = ["X:1"]
    if meter is not None:
        lines.append(f"M:{meter}")
    lines.append(f"L:{unit.numerator}/{unit.denominator}")
    lines.append(f"Q:1/4={tempo}")
    lines.extend(f"V:{value}" for name, value in tune.headers if name == "V")
    lines.append(f"K:{header.get('K', 'C')}")
    return Prepared("\n".join(lines + body) + "\n", tempo, seconds, bars, notes, events)


def _scan_body(body: list[str], meter: str | None, unit: Fraction) -> tuple[Fraction, int, list[str], int]:
    """(whole notes played with repeats, bar count, cleaned body lines, notes written with grace
    notes); RenderError on a bound."""
    bar_length = (parse_meter(meter) if meter else None) or Fraction(1)
    total = section = Fraction(0)
    bars = count = 0
    out: list[str] = []

    def field_value(name: str, value: str) -> str | None:
        """Check an M:/L:/Q: field inside the music; the value to keep (None drops it)."""
        nonlocal unit, bar_length
        if name == "M":
            value = _clean_meter(value)
            bar_length = parse_meter(value) or Fraction(1)
        elif name == "L":
            unit = _clean_unit(value)
            value = f"{unit.numerator}/{unit.denominator}"
        elif name == "Q":
            _tempo_from_q(value)  # bounds only: the whole tune plays at one tempo
            return None
        return value

    for line in body:
        match = _FIELD.match(line)
        if match and not line.startswith("|"):
            value = field_value(match.group(1), line[2:])
            if value is not None:
                out.append(f"{match.group(1)}:{value}")
            continue

        # One pass over the line's elements (the notation package's tokenizer): inline fields
        # are checked in order with the notes around them, as L: changes lengths.
        kept: list[str] = []
        last = 0
        accidentals = ""  # accidentals just before a note beyond the one the tokenizer reads (`^^^C`)
        for tok in tokenize(line):
            if tok.kind == "text":
                accidentals = tok.text[len(tok.text.rstrip("^_=")):]
                continue
            run, accidentals = accidentals, ""
            if tok.kind == "inline":
                name, _, value = tok.text[1:].rstrip("]").partition(":")
                kept.append(line[last:tok.start])
                last = tok.end
                value = field_value(name, value)
                if value is not None:
                    kept.append(f"[{name}:{value}]")
                continue
            if tok.kind == "bar":
                bars += 1
                if bars > LIMITS.max_bars:
                    raise RenderError(f"the tune has more than {LIMITS.max_bars} bars")
                if tok.text.startswith(":"):  # end of a repeat: play the section again
                    total += section
                    section = Fraction(0)
                if tok.text.rstrip("0123456789,-").endswith(":"):
                    section = Fraction(0)
                continue
            if tok.inside == "chord":
                _check_pitch(run + tok.text, tok.text)
                continue
            if tok.inside == "grace":
                # No time, but each is a note music21 parses and FluidSynth plays: 17,900 of
                # them took 9 s and 1 GB to fail. They count towards max_notes.
                count += 1
                if count > LIMITS.max_notes:
                    raise RenderError(f"the tune has more than {LIMITS.max_notes:,} notes (grace notes included)")
                continue
            if tok.inside or tok.kind not in ("note", "chord", "rest", "multirest"):
                continue  # chord symbols, decorations: no time
            if tok.kind == "chord":
                inner = list(NOTE.finditer(tok.text))
                if not inner:
                    continue  # `[]`: nothing sounds
                closed = tok.text.rfind("]")
                length = _length(inner[0].group("len"), tok.text) * _length(tok.text[closed + 1:] if closed > 0 else "", tok.text) * unit
            elif tok.kind == "multirest":  # Z4 is four bars
                length = int(tok.text[1:] or 1) * bar_length
            else:
                if tok.kind == "note":
                    _check_pitch(run + tok.text, tok.text)
                length = _length(tok.text.lstrip("^_=zxABCDEFGabcdefg,'"), tok.text) * unit
                if length > LIMITS.max_note_wholes:
                    raise RenderError(
                        f"note {tok.text!r} lasts {float(length):g} whole notes "
                        f"(at most {LIMITS.max_note_wholes})"
                    )
            count += 1
            if count > LIMITS.max_notes:
                raise RenderError(f"the tune has more than {LIMITS.max_notes:,} notes")
            total += length
            section += length
        kept.append(line[last:])
        out.append("".join(kept))
    return total, bars, out, count


# --- tools -----------------------------------------------------------------------------------
