"""Transposition: a whole tune by any number of semitones (the page), and a normalised tune a
whole step up or down (training-data augmentation, `transpose`).

`transpose_tune` reads the music with the one tokenizer (bot.notation.tokens) and lets music21
choose key spellings and intervals, once per K: field; the per-note work is letter arithmetic.

For `transpose`: moving the key's tonic a whole step and every note letter one diatonic step keeps all
unmarked notes right, because the new key signature is the old scale a whole step higher.
Only explicit accidentals (absolute pitches in ABC) need fixing where the letter step is a
semitone (E-F, B-C). Chord symbols in quotes move the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.notation.abc import parse_key, strip_comment
from bot.notation.tokens import (ACCIDENTALS, CHORD_SYMBOL, NOTE, key_fifths, key_signature, note_pitch,
                                 pitch_class, tokenize, tonic)

_LETTERS = "CDEFGAB"
# Semitones from each letter to the next one up (C-D ... B-C).
_GAP_UP = {"C": 2, "D": 2, "E": 1, "F": 2, "G": 2, "A": 2, "B": 1}
_ACC_TO_INT = {"__": -2, "_": -1, "=": 0, "^": 1, "^^": 2}
_INT_TO_ACC = {v: k for k, v in _ACC_TO_INT.items()}

def _step(letter: str, accidental: int, direction: int) -> tuple[str, int]:
    """Move a (letter, absolute accidental) a whole step; direction is +1 or -1."""
    index = _LETTERS.index(letter)
    if direction > 0:
        return _LETTERS[(index + 1) % 7], accidental + 2 - _GAP_UP[letter]
    below = _LETTERS[(index - 1) % 7]
    return below, accidental - 2 + _GAP_UP[below]


def transpose_key(value: str, direction: int) -> str | None:
    """The K: value a whole step up (+1) or down (-1); None when there is no playable key."""
    parsed = parse_key(value)
    if parsed is None or value != parsed[0] + parsed[1]:
        return None
    tonic, mode = parsed
    accidental = {"": 0, "#": 1, "b": -1}[tonic[1:]]
    letter, accidental = _step(tonic[0], accidental, direction)
    if abs(accidental) > 1:
        return None
    new_tonic = letter + {0: "", 1: "#", -1: "b"}[accidental]
    if abs(key_fifths(new_tonic, mode)) > 7:
        return None
    return new_tonic + mode


def _move_note(match: re.Match, direction: int) -> str | None:
    letter = match.group("letter")
    octave = 1 if letter.islower() else 0
    octave += match.group("oct").count("'") - match.group("oct").count(",")
    upper = letter.upper()
    acc_text = match.group("acc")
    new_letter, new_acc = _step(upper, _ACC_TO_INT.get(acc_text or "=", 0), direction)
    if direction > 0 and upper == "B":
        octave += 1
    if direction < 0 and upper == "C":
        octave -= 1
    if acc_text is not None and new_acc not in _INT_TO_ACC:
        return None
    if octave >= 1:
        text = new_letter.lower() + "'" * (octave - 1)
    else:
        text = new_letter + "," * (-octave)
    return (_INT_TO_ACC[new_acc] if acc_text is not None else "") + text + match.group("len")


def _move_chord_symbol(quoted: str, direction: int) -> str:
    inner = quoted[1:-1]
    match = re.fullmatch(r"([A-G])([#b]?)([^/]*)(?:/([A-G])([#b]?))?", inner)
    if not match:
        return quoted  # an annotation ("^text", fingering "4"): not a chord

    def move(letter: str, acc: str) -> str | None:
        new_letter, new_acc = _step(letter, {"": 0, "#": 1, "b": -1}[acc], direction)
        return None if abs(new_acc) > 1 else new_letter + {0: "", 1: "#", -1: "b"}[new_acc]

    root = move(match.group(1), match.group(2))
    if root is None:
        return quoted
    text = root + match.group(3)
    if match.group(4):
        bass = move(match.group(4), match.group(5))
        if bass is None:
            return quoted
        text += "/" + bass
    return f'"{text}"'


def transpose(tune: str, direction: int) -> str | None:
    """A normalised tune moved a whole step up (+1) or down (-1), or None if it cannot be.

    Tunes with key changes in the body, or whose new key or accidentals do not exist,
    are left to the caller (None), so augmentation never teaches wrong music.
    """
    lines = tune.rstrip("\n").split("\n")
    out = []
    in_body = False
    for line in lines:
        if not in_body:
            if line.startswith("K:"):
                new_key = transpose_key(line[2:], direction)
                if new_key is None:
                    return None
                out.append("K:" + new_key)
                in_body = True
            else:
                out.append(line)
            continue
        if line.startswith("K:"):
            return None
        pieces = []
        last = 0
        for tok in tokenize(line):
            if tok.kind == "inline" and tok.text.startswith("[K:"):
                return None
            if tok.kind == "quote":
                moved = _move_chord_symbol(tok.text, direction)
            elif tok.kind == "note":
                moved = _move_note(NOTE.match(tok.text), direction)
                if moved is None:
                    return None
            else:
                continue
            pieces.append(line[last:tok.start] + moved)
            last = tok.end
        pieces.append(line[last:])
        out.append("".join(pieces))
    return "\n".join(out) + "\n"


# -- a whole tune by any number of semitones (the page's transpose control) -------------------

MAX_SEMITONES = 12
_MODE_NAMES = {"": "major", "m": "minor", "dor": "dorian", "phr": "phrygian", "lyd": "lydian",
               "mix": "mixolydian", "loc": "locrian"}
_NATURAL = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTAL_TEXT = {value: text for text, value in ACCIDENTALS.items()}  # 1 -> "^"
_KEY_TONIC = re.compile(r"^(\s*)([A-Ga-g][#b]?)")  # the tonic at the start of a K: value
# Clef names and octave marks after a key (`bass`, `treble8`, `-8va`): they change no pitch.
_CLEF_WORDS = re.compile(r"(\s+(treble|bass|alto|tenor|baritone|perc|none)?([+-]?8(va|vb|ma|mb)?)?(?=\s|$))+\s*$",
                         re.IGNORECASE)


@dataclass(frozen=True)
class _Section:
    """How the notes under one K: move: old and new key signatures, letter steps, semitones."""

    old: dict[str, int]
    new: dict[str, int]
    steps: int  # letter names moved (D -> G up is 3, D -> G down is -4)
    semitones: int


def transpose_tune(abc: str, semitones: int) -> str:
    """The whole tune moved by `semitones` (-12..12): keys, notes and chord symbols; all else verbatim.

    Each K: (header, body line or inline `[K:..]`) gets the spelling with the fewest sharps or
    flats for its mode, and the notes under it move by the interval to that key, so a tune in
    D moved +1 is in Eb, not D#. Accidentals are read as the repo's tokenizer reads them (an
    accidental carries to the same letter and octave until the bar line) and written so that
    readers that carry it to every octave (abc2midi, ABC 2.1) read the same notes; an accidental
    the original wrote stays written wherever the note is still off the new key signature.
    Raises ValueError for a move outside -12..12, or a tune whose K: names no key.
    """
    if isinstance(semitones, bool) or not isinstance(semitones, int) or abs(semitones) > MAX_SEMITONES:
        raise ValueError(f"a transposition is a whole number of semitones from -{MAX_SEMITONES} "
                         f"to {MAX_SEMITONES}, not {semitones!r}")
    if semitones == 0:
        return abc
    lines = abc.splitlines(keepends=True)
    key_line, _ = _header_key(abc)
    out = lines[:key_line]
    mover = _BodyMover(semitones)
    for line in lines[key_line:]:  # the header's K: line first: the mover reads it as a key change
        code = strip_comment(line.rstrip("\r\n"))  # comments and `%%` directives stay as written
        out.append(mover.line(code) + line[len(code):])
    return "".join(out)


def semitones_to_key(abc: str, target: str) -> int:
    """Semitones (-5..+6, the nearest; a tritone goes up) that move the tune's K: tonic to `target`'s."""
    want = tonic(target)
    if want is None:
        raise ValueError(f"cannot read a key in {target[:40]!r} (try G, D, Bb or Amix)")
    have = _read_key(_header_key(abc)[1])[0]
    return 6 - (6 - (pitch_class(want) - pitch_class(have))) % 12


def _header_key(abc: str) -> tuple[int, str]:
    """(index of the header's K: line, its value); ValueError if there is none or it names no key."""
    for number, line in enumerate(abc.splitlines()):
        if line.startswith("K:"):
            value = strip_comment(line)[2:].strip()
            if _read_key(value) is None:
                raise ValueError(f"cannot read the tune's key K:{value[:40]} (expected e.g. K:D, K:Ador, K:Bbm)")
            return number, value
    raise ValueError("the tune has no K: line, so it has no key to move")


def _move_key(value: str, semitones: int) -> tuple[str, _Section]:
    """A K: value moved (tonic respelled, the rest as written) and how its notes move."""
    from music21 import interval, key, pitch

    old_tonic, mode = _read_key(value)
    old_sharps = sum(_signature(old_tonic, mode).values())
    target = (pitch_class(old_tonic) + semitones) % 12
    names = [letter + sign for letter in _NATURAL for sign in ("", "#", "b")
             if pitch_class(letter + sign) == target]
    sharps = {name: key.Key(name.replace("b", "-"), _MODE_NAMES[mode]).sharps for name in names}
    # Fewest sharps or flats; at a tie (F# or Gb major) a sharp key stays on the sharp side.
    new_tonic = min(names, key=lambda name: (abs(sharps[name]), (sharps[name] > 0) != (old_sharps >= 0)))
    start = pitch.Pitch(old_tonic.replace("b", "-") + "4")
    end = pitch.Pitch(new_tonic.replace("b", "-") + "4")
    end.octave += round((start.ps + semitones - end.ps) / 12)
    directed = interval.Interval(start, end).generic.directed
    assert end.ps - start.ps == semitones, (value, semitones, new_tonic)
    match = _KEY_TONIC.match(value)
    new_value = match.group(1) + new_tonic + value[match.end():]
    steps = directed - 1 if directed > 0 else directed + 1
    return new_value, _Section(_signature(old_tonic, mode), _signature(new_tonic, mode), steps, semitones)


def _read_key(value: str) -> tuple[str, str] | None:
    """parse_key, also for a sharp major key written without a mode (`K:F#`) and for a key
    followed by a bare clef name (`K:A min bass`, `K:E phr -8va`, as in music21's corpus).

    abc.parse_key's pattern ends in `\\b`, which never matches right after a `#`, so it reads
    `F#` and `C#` as no key (and tokens.key_signature as C major); `F#maj` it reads.
    """
    value = _CLEF_WORDS.sub("", value)
    parsed = parse_key(value)
    match = _KEY_TONIC.match(value)
    if parsed is None and match and match.group(2).endswith("#"):
        parsed = parse_key(value[:match.end()] + "maj" + value[match.end():])
    return parsed


def _signature(tonic_name: str, mode: str) -> dict[str, int]:
    """Each letter's accidental in the key (via tokens.key_signature, with the mode spelled out)."""
    return key_signature(tonic_name + (mode or "maj"))


class _BodyMover:
    """Moves body lines one at a time, carrying the bar's accidentals and the key across lines."""

    def __init__(self, semitones: int):
        self.semitones = semitones
        self.section: _Section | None = None  # set by the header's K: line, the first line read
        self._reset()

    def _reset(self) -> None:
        self.carried: dict[tuple[str, int], int] = {}  # as read: (letter, octave) -> accidental
        self.by_octave: dict[tuple[str, int], int] = {}  # as written, for octave-carrying readers
        self.by_letter: dict[str, int] = {}  # as written, for readers that carry to all octaves

    def line(self, code: str) -> str:
        """One line of music (no comment) moved."""
        pieces, last = [], 0
        for tok in tokenize(code):
            new = None
            if tok.kind == "bar":
                self._reset()
            elif tok.kind == "note":
                new = self._note(tok.text)
            elif tok.kind == "quote":
                new = self._chord_symbol(tok.text)
            elif tok.kind in ("inline", "linefield") and tok.text.lstrip("[").startswith("K:"):
                new = self._key_field(tok.text)
            if new is not None:
                pieces.append(code[last:tok.start] + new)
                last = tok.end
        return "".join(pieces) + code[last:]

    def _key_field(self, text: str) -> str | None:
        head, value = text.split(":", 1)
        close = "]" if head.startswith("[") and value.endswith("]") else ""
        value = value[:len(value) - len(close)]
        if _read_key(value) is None:
            return None  # a clef or other setting only (`[K:bass]`): the key stays
        value, self.section = _move_key(value, self.semitones)
        return f"{head}:{value}{close}"

    def _note(self, text: str) -> str:
        match = NOTE.match(text)
        # A grace note's accidental carries through the bar like any other (as music21 reads it).
        midi = note_pitch(match, self.section.old, self.carried)
        letter, octave = _spell(match.group("letter").upper(), _octave(match), midi, self.section)
        accidental = midi + self.section.semitones - 60 - 12 * octave - _NATURAL[letter]
        default = self.section.new[letter]
        written = (self.by_octave.get((letter, octave), default), self.by_letter.get(letter, default))
        # Written out where a reader would otherwise go wrong, and where the original wrote an
        # accidental that is still one in the new key: music21 reads ABC without `%abc-2.1` as
        # ABC 1.x, where an accidental holds for its own note only, so the original's repeats stay.
        explicit = match.group("acc") is not None and accidental != default
        sign = ""
        if written != (accidental, accidental) or explicit:
            sign = _ACCIDENTAL_TEXT[accidental]
            self.by_octave[(letter, octave)] = accidental
            self.by_letter[letter] = accidental
        name = letter.lower() + "'" * (octave - 1) if octave >= 1 else letter + "," * -octave
        return sign + name + match.group("len")

    def _chord_symbol(self, text: str) -> str | None:
        inner = text[1:-1] if len(text) > 1 and text.endswith('"') else None
        match = CHORD_SYMBOL.fullmatch(inner) if inner else None
        if match is None:
            return None  # an annotation ("^text", "<(3)"): not a chord
        root = _move_name(match.group("root") + match.group("racc"), self.section)
        moved = root + match.group("quality")
        if match.group("bass"):
            moved += "/" + _move_name(match.group("bass"), self.section)
        return f'"{moved}"'


def _octave(match: re.Match) -> int:
    """Octaves above the one starting at middle C (`C` 0, `c` 1, `c'` 2, `C,` -1)."""
    marks = match.group("oct")
    return (1 if match.group("letter").islower() else 0) + marks.count("'") - marks.count(",")


def _spell(letter: str, octave: int, midi: int, section: _Section) -> tuple[str, int]:
    """The new (letter, octave) of a note: its letter moved by the section's steps, or, where
    that would need a double sharp or flat, the same pitch under a letter that needs at most one
    (players read `=g` more easily than `^^f`, and music21 does not carry `^^`/`__` through a bar)."""
    index = _LETTERS.index(letter) + section.steps
    new_letter, new_octave = _LETTERS[index % 7], octave + index // 7
    target = midi + section.semitones
    if abs(target - 60 - 12 * new_octave - _NATURAL[new_letter]) <= 1:
        return new_letter, new_octave
    side = 1 if sum(section.new.values()) >= 0 else -1
    candidates = [(candidate, candidate_octave, target - 60 - 12 * candidate_octave - _NATURAL[candidate])
                  for candidate_octave in (new_octave - 1, new_octave, new_octave + 1)
                  for candidate in _LETTERS]
    best = min(candidates, key=lambda c: (abs(c[2]), c[2] != section.new[c[0]], c[2] != side))
    return best[0], best[1]


def _move_name(name: str, section: _Section) -> str:
    """A chord root or bass note name moved; respelled when it would need a double accidental."""
    letter = _LETTERS[(_LETTERS.index(name[0]) + section.steps) % 7]
    target = (pitch_class(name) + section.semitones) % 12
    shift = (target - _NATURAL[letter] + 6) % 12 - 6
    if abs(shift) > 1:  # "Fx" or "Cbb": a name with one accidental, on the new key's side, reads better
        side = 1 if sum(section.new.values()) >= 0 else -1
        letter, shift = min(((candidate, (target - _NATURAL[candidate] + 6) % 12 - 6) for candidate in _LETTERS),
                            key=lambda pair: (abs(pair[1]), pair[1] != side))
    return letter + {0: "", 1: "#", -1: "b"}[shift]
