"""Transpose a normalised tune a whole step up or down (training-data augmentation).

Moving the key's tonic a whole step and every note letter one diatonic step keeps all
unmarked notes right, because the new key signature is the old scale a whole step higher.
Only explicit accidentals (absolute pitches in ABC) need fixing where the letter step is a
semitone (E-F, B-C). Chord symbols in quotes move the same way.
"""

from __future__ import annotations

import re

from bot.notation.abc import parse_key

_LETTERS = "CDEFGAB"
# Semitones from each letter to the next one up (C-D ... B-C).
_GAP_UP = {"C": 2, "D": 2, "E": 1, "F": 2, "G": 2, "A": 2, "B": 1}
_FIFTHS = {"C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5, "F": -1}
_MODE_FIFTHS = {"": 0, "m": -3, "dor": -2, "phr": -4, "lyd": 1, "mix": -1, "loc": -5}
_ACC_TO_INT = {"__": -2, "_": -1, "=": 0, "^": 1, "^^": 2}
_INT_TO_ACC = {v: k for k, v in _ACC_TO_INT.items()}

# One body token: a quoted string, a decoration, an inline field, or a note.
_TOKEN = re.compile(
    r'(?P<quote>"[^"]*")|(?P<deco>![^!\n]*!|\+[^+\n]*\+)|(?P<field>\[[A-Za-z]:[^\]]*\])'
    r"|(?P<note>(?P<acc>\^\^|\^|__|_|=)?(?P<letter>[A-Ga-g])(?P<oct>[,']*))"
)


def _step(letter: str, accidental: int, direction: int) -> tuple[str, int]:
    """Move a (letter, absolute accidental) a whole step; direction is +1 or -1."""
    index = _LETTERS.index(letter)
    if direction > 0:
        return _LETTERS[(index + 1) % 7], accidental + 2 - _GAP_UP[letter]
    below = _LETTERS[(index - 1) % 7]
    return below, accidental - 2 + _GAP_UP[below]


def _key_signature(tonic: str, mode: str) -> int:
    """Sharps (positive) or flats (negative) in the signature of tonic+mode."""
    fifths = _FIFTHS[tonic[0]] + 7 * {"": 0, "#": 1, "b": -1}[tonic[1:]]
    return fifths + _MODE_FIFTHS[mode]


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
    if abs(_key_signature(new_tonic, mode)) > 7:
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
    return (_INT_TO_ACC[new_acc] if acc_text is not None else "") + text


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
        for match in _TOKEN.finditer(line):
            pieces.append(line[last:match.start()])
            last = match.end()
            if match.group("field"):
                if match.group("field")[1] == "K":
                    return None
                pieces.append(match.group(0))
            elif match.group("quote"):
                pieces.append(_move_chord_symbol(match.group(0), direction))
            elif match.group("deco"):
                pieces.append(match.group(0))
            else:
                moved = _move_note(match, direction)
                if moved is None:
                    return None
                pieces.append(moved)
        pieces.append(line[last:])
        out.append("".join(pieces))
    return "\n".join(out) + "\n"
