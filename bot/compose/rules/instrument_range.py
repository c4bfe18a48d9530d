"""Range: every note of a new tune is one its instrument plays (`bot.instruments`).

The issue: "`E,` in a fiddle tune, below the G string". The range is a mask in decoding, not a
filter afterwards: a letter is banned when no octave marks could bring it into the range, an
octave mark when it would take the note out of it. Uppercase letters reach down with `,`,
lowercase up with `'`; a letter's pitch is read as ABC reads it, with the key signature in force
(`F` is F# in D), an accidental written before it (`^F,` is F#3, below a fiddle's G3) and one
carried from earlier in the bar. Notes in chords and grace groups count; rests do not, nor
letters in quoted chord symbols, decorations and field lines.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.compose.rules.base import ALWAYS, Mask, Rule
from bot.compose.state import TuneState
from bot.instruments import range_for
from bot.notation.tokens import ACCIDENTALS, NOTE, key_signature, without

# Reading modes whose text is not music (a quoted string, a decoration, a field line).
_NOT_MUSIC = ('"', "!", "+", "F")
_SEMITONES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
# The note being written: its accidental, letter and octave marks end the text.
_OPEN_NOTE = re.compile(r"(?P<acc>\^\^|\^|__|_|=)?(?P<letter>[A-Ga-g])(?P<oct>[,']*)$")
# An accidental waiting for its letter.
_OPEN_ACC = re.compile(r"(?:\^\^|\^|__|_|=)$")
_MARKS = 4  # octave marks looked at: more are never written

Carried = tuple[tuple[tuple[str, int], int], ...]  # accidentals carried in the bar: ((letter, octave), shift)


def _pitch(letter: str, octave: int, acc: str | None, signature: tuple, carried: Carried) -> int:
    """The MIDI pitch of `letter` (upper case) at `octave` (0: `C` to `B`), as ABC reads it."""
    if acc is not None:
        shift = ACCIDENTALS[acc]
    else:
        shift = dict(carried).get((letter, octave), signature["CDEFGAB".index(letter)])
    return 60 + 12 * octave + _SEMITONES[letter] + shift


@lru_cache(maxsize=4096)
def banned_letters(low: int, high: int, signature: tuple, acc: str | None, carried: Carried) -> frozenset[str]:
    """Note letters that no octave marks (`,` after upper case, `'` after lower) bring into range."""
    banned = set()
    for letter in "CDEFGAB":
        if not any(low <= _pitch(letter, -k, acc, signature, carried) <= high for k in range(_MARKS)):
            banned.add(letter)
        if not any(low <= _pitch(letter, 1 + k, acc, signature, carried) <= high for k in range(_MARKS)):
            banned.add(letter.lower())
    return frozenset(banned)


@lru_cache(maxsize=4096)
def banned_marks(low: int, high: int, signature: tuple, note: tuple[str | None, str, str], carried: Carried) -> tuple[frozenset[str], str]:
    """(octave marks that would take the open `note` (accidental, letter, marks) out of range,
    the one mark it must take next: "" when none, its pitch being in range)."""
    acc, letter, marks = note
    octave = (1 if letter.islower() else 0) + marks.count("'") - marks.count(",")
    upper = letter.upper()
    pitch = _pitch(upper, octave, acc, signature, carried)
    banned = set()
    if _pitch(upper, octave - 1, acc, signature, carried) < low:
        banned.add(",")
    if _pitch(upper, octave + 1, acc, signature, carried) > high:
        banned.add("'")
    must = ""  # only the way the letter's marks go: `C'` is no way to write `c`
    if letter.isupper() and pitch > high and any(
            low <= _pitch(upper, octave - k, acc, signature, carried) <= high for k in range(1, _MARKS)):
        must = ","
    elif letter.islower() and pitch < low and any(
            low <= _pitch(upper, octave + k, acc, signature, carried) <= high for k in range(1, _MARKS)):
        must = "'"
    return frozenset(banned), must


@lru_cache(maxsize=64)
def _signature(key: str) -> tuple:
    signature = key_signature(key)
    return tuple(signature[letter] for letter in "CDEFGAB")


def carried_in(text: str) -> Carried:
    """The accidentals written in bar text `text` that later notes of their pitch keep (as
    `bot.notation.bars.bar_events` reads them: chord notes count, grace notes do not)."""
    if "^" not in text and "_" not in text and "=" not in text:
        return ()
    carried: dict[tuple[str, int], int] = {}
    for match in NOTE.finditer(without(text, {"quote", "deco", "grace", "inline", "linefield"})):
        if match["acc"] is not None:
            octave = (1 if match["letter"].islower() else 0) + match["oct"].count("'") - match["oct"].count(",")
            carried[(match["letter"].upper(), octave)] = ACCIDENTALS[match["acc"]]
    return tuple(sorted(carried.items()))


class InRange(Rule):
    """No note outside the range of the tune's instrument (`Settings.instrument`).

    ALWAYS, not CHECKED: a note out of range is unplayable whatever the bar's length, so the
    mask stays on when a bar's tries are spent and its durations go unchecked.
    """

    phase = ALWAYS

    def __init__(self, syntax):
        super().__init__(syntax)
        self._masks: dict[frozenset[str], Mask] = {}  # per set of banned characters; few ever, shared
        self._only: dict[str, Mask] = {}  # per octave mark a note must take

    def banned(self, state: TuneState) -> Mask:
        instrument = state.settings.instrument
        if instrument is None:
            return False
        split = state.splitter
        mode = split.mode
        if mode in _NOT_MUSIC:
            return False
        content = split.content
        if mode == "[" and content[content.rfind("[") + 1 :][:1] == "K":
            return False  # an inline key field `[K:D]`, not a chord
        low, high = range_for(instrument)
        signature = _signature(state.key)
        if split.token:  # a bar line: the next bar starts with nothing carried
            return self._mask(banned_letters(low, high, signature, None, ()))
        tail = content[-8:]
        note = _OPEN_NOTE.search(tail)
        acc = None if note else _OPEN_ACC.search(tail)
        if note is None and acc is None:
            return self._mask(banned_letters(low, high, signature, None, carried_in(content)))
        if acc is not None:
            carried = carried_in(content[: len(content) - len(acc[0])])
            return self._mask(banned_letters(low, high, signature, acc[0], carried))
        before = content[: len(content) - len(note[0])]
        carried = carried_in(before)
        marks, must = banned_marks(low, high, signature, (note["acc"], note["letter"], note["oct"]), carried)
        if must:
            mask = self._only.get(must)
            return mask if mask is not None else self._only.setdefault(must, self.syntax.only(must))
        # The next note's letter is read with this note's accidental carried.
        if note["acc"] is not None:
            carried = carried_in(content)
        return self._mask(marks | banned_letters(low, high, signature, None, carried))

    def _mask(self, chars: frozenset[str]) -> Mask:
        if not chars:
            return False
        mask = self._masks.get(chars)
        return mask if mask is not None else self._masks.setdefault(chars, self.syntax.banned_set(set(chars)))
