"""Typography: new music is written as players write it, in every new tune and continuation.

No backtick beam spacing, no rest among a tuplet's notes nor a tie between them, lengths in
lowest terms (`G` for `G2/2`), chords that are chords: no pitch twice (`[B4B4]`) and every note
one length (`[E4C6]`), rolls on notes long enough to roll, and no trill tied over. Each is a
mask, so such text is never drawn.
"""

from __future__ import annotations

import re
from fractions import Fraction

from bot.compose.rules.base import ALWAYS, Mask, Rule
from bot.compose.state import TuneState
from bot.notation.tokens import ELEMENT, NOTE

# Reading modes whose text is not music (a quoted string, a decoration, a field line).
_NOT_MUSIC = ('"', "!", "+", "F")
_LENGTH_CHARS = "0123456789/"
# A note whose octave marks may still grow: its accidental, letter and marks end the text.
_OPEN_NOTE = re.compile(r"[A-Ga-g][,']*$")


class NoBackticks(Rule):
    """No backtick (`` A<A```A>f ``) in music.

    Beam spacing that some 19th-century engravers wrote (25% of Aird's tunes, 28% of music21's
    misc) and no session tunebook or the NMD does: readers drop it and nobody plays it. In 100
    generated tunes 12 wrote it.
    """

    phase = ALWAYS

    def __init__(self, syntax):
        super().__init__(syntax)
        self.backtick = syntax.char("`")

    def banned(self, state: TuneState) -> Mask:
        return False if state.splitter.mode in _NOT_MUSIC else self.backtick


def tuplet_left(text: str) -> int:
    """Notes, rests and chords the last tuplet mark in bar text `text` still covers (0: none open).

    As `bot.notation.bars.measure` counts them: `(p` covers p elements, `(p:q:r` covers r; an
    element counts from its first character (`(3AB` leaves 1, `(3A[B` leaves 1 while the chord is written).
    """
    at = text.rfind("(")
    while at >= 0 and not text[at + 1 : at + 2].isdigit():  # `(` of a slur: look further back
        at = text.rfind("(", 0, at)
    if at < 0:
        return 0
    matches = ELEMENT.finditer(text, at)
    mark = next(matches)
    if mark.lastgroup != "tuplet" or mark.start() != at:
        return 0  # inside a quoted string, say: no tuplet
    left = int(mark.group("r") or mark.group("p"))
    for match in matches:
        if match.lastgroup in ("note", "rest", "chord") and match.group(0):
            left -= 1
            if left <= 0:
                return 0
    return left


class NoRestInTuplet(Rule):
    """No rest (`z`, `x`) among a tuplet's notes: `(3(D/2 z/2) z/` is a cadence padded out, not a triplet.

    No session tune or NMD tune writes one; 5 in 100 generated tunes did.
    """

    phase = ALWAYS

    def __init__(self, syntax):
        super().__init__(syntax)
        self.rests = syntax.banned_set({"z", "x"})

    def banned(self, state: TuneState) -> Mask:
        split = state.splitter
        content = split.content
        if "(" not in content or split.token:  # no tuplet in the bar (the common case), or a bar line being read
            return False
        mode = split.mode
        if mode == "[":  # inside a chord: the chord is the member, if the tuplet wants one more
            content = content[: content.rfind("[")]
        elif mode not in ("", "("):
            return False
        return self.rests if tuplet_left(content) else False


class NoTieInTuplet(Rule):
    """No tie between a tuplet's own notes: `(3A-A-A` is one crotchet written as a puzzle.

    None of the held-out corpus's 336 tunes or the NMD test split's 114 ties two members of a
    tuplet; generated hornpipes did, now and then (`python bench/session_style.py --typography
    both` reads both sides). A tie from a tuplet's last note on (`(3ABc-c2`) is syncopation,
    and stays.
    """

    phase = ALWAYS

    def banned(self, state: TuneState) -> Mask:
        split = state.splitter
        if split.token or split.mode or "(" not in split.content:
            return False  # a bar line being read, a chord or a quoted string being written, no tuplet
        return self.syntax.tie if tuplet_left(split.content) else False


class LengthInLowestTerms(Rule):
    """A length is written in lowest terms: `G2/2` is `G`, `B4/2` is `B2`, `e2/4` is `e/`.

    So no `/` follows an even number of a note's, a rest's or a chord's length (in a chord or a
    grace group too). None of the human tunes writes one (`python bench/session_style.py` reads
    the held-out corpus and the NMD test split); a few generated tunes in a hundred did.
    """

    phase = ALWAYS

    def __init__(self, syntax):
        super().__init__(syntax)
        self.slash = syntax.char("/")

    def banned(self, state: TuneState) -> Mask:
        split = state.splitter
        if split.token or split.mode in _NOT_MUSIC:
            return False
        return self.slash if _EVEN_LENGTH.search(split.content[-_TAIL:]) else False


# A note's, a rest's or a chord's length that ends in an even number: a `/` may not follow.
EVEN_LENGTH = r"(?:[A-Ga-gzx][,']*|\])\d*[02468]"
_EVEN_LENGTH = re.compile(EVEN_LENGTH + r"\Z")
_TAIL = 12  # characters: longer than any note's letter, octave marks and length


def _chord(state: TuneState) -> str | None:
    """The text of the chord being written, after its `[` (None: not in a chord)."""
    split = state.splitter
    if split.mode != "[":
        return None
    content = split.content
    inner = content[content.rfind("[") + 1 :]
    if not inner or inner[0] in "K123456789":
        return None  # nothing written yet, an inline field `[K:` or an ending `[1`
    return inner


def _pitch(letter: str, marks: str) -> tuple[str, int]:
    """A written note's letter and octave (`B,` and `b,,` are one pitch; accidentals aside)."""
    return letter.upper(), (1 if letter.islower() else 0) + marks.count("'") - marks.count(",")


class ChordPitches(Rule):
    """No pitch twice in a chord (`[B4B4]`): one letter at one octave once, whatever its accidentals.

    A letter that would start a note already in the chord is banned, and so is the octave mark
    that would move the note being written onto one (`[B,B]` and `[Bb]` stay possible; an octave
    written high to low through the doubled pitch, `[B,B,,]`, does not: `[B,,B,]` does).
    """

    phase = ALWAYS

    def __init__(self, syntax):
        super().__init__(syntax)
        self._masks: dict[frozenset[str], Mask] = {}  # per set of banned characters; few ever, shared

    def banned(self, state: TuneState) -> Mask:
        inner = _chord(state)
        if inner is None:
            return False
        notes = [_pitch(m["letter"], m["oct"]) for m in NOTE.finditer(inner)]
        if not notes:
            return False
        chars = set()
        if _OPEN_NOTE.search(inner):  # the last note's octave marks may still come
            (letter, octave), written = notes[-1], notes[:-1]
            if (letter, octave + 1) in written:
                chars.add("'")
            if (letter, octave - 1) in written:
                chars.add(",")
        for letter, octave in notes:  # a new note's letter, before any octave mark
            if octave in (0, 1):
                chars.add(letter if octave == 0 else letter.lower())
        key = frozenset(chars)
        mask = self._masks.get(key)
        if mask is None:
            mask = self._masks.setdefault(key, self.syntax.banned_set(chars))
        return mask


class ChordLengths(Rule):
    """Every note of a chord the length of its first (`[E4C6]`, `[Ec2]` are not written).

    Once a later note is begun, its length is the first note's length text, character by
    character; only then may the chord go on or close (`[E2c2]`, or `[Ec]2`).
    """

    phase = ALWAYS

    def __init__(self, syntax):
        super().__init__(syntax)
        self.lengths = syntax.banned_set(set(_LENGTH_CHARS))
        self._only: dict[str, Mask] = {}  # per allowed set: the next character of a length

    def banned(self, state: TuneState) -> Mask:
        inner = _chord(state)
        if inner is None:
            return False
        notes = list(NOTE.finditer(inner))
        if len(notes) < 2 or notes[-1].end() != len(inner):
            return False  # the first note (its length is its own), or no note being written
        first, sofar = notes[0]["len"], notes[-1]["len"]
        if sofar == first:
            return self.lengths  # the length is written: no more of it
        if not first.startswith(sofar):
            return False  # written before these bans (a paste, an unchecked try): not ours
        allowed = first[len(sofar)] + ("" if sofar else ",'")  # octave marks come before a length
        mask = self._only.get(allowed)
        if mask is None:
            mask = self._only.setdefault(allowed, self.syntax.only(allowed))
        return mask


class RollLength(Rule):
    """A roll (`~`) sits on a crotchet or longer (`~B2`, `~B3`), as players write it: a roll takes
    a beat to play. On a single quaver (`A~Bcd`) it is no roll, and abc2midi, which swings a
    4/4 hornpipe's quaver pairs, counted that bar as 34/9 beats of 4.

    After `~` and a quaver-unit note with no length yet, only octave marks and the lengths of a
    crotchet or longer may follow; and no roll starts where less than a crotchet is left.
    """

    phase = ALWAYS

    def __init__(self, syntax):
        super().__init__(syntax)
        self.grow = syntax.only(",'23468")
        self.roll = syntax.char("~")

    def banned(self, state: TuneState) -> Mask:
        split = state.splitter
        if not split.in_music or state.bar_rules.timing.unit != _QUAVER:
            return False
        content = split.content
        if content.endswith("~") or _ROLLED.search(content) is None:
            limit, reading = state.limit(), state.reading
            room = limit is not None and reading is not None and limit - reading.duration < 2 * _QUAVER
            return self.roll if room and not content.endswith("~") else False
        return self.grow


_QUAVER = Fraction(1, 8)
# A rolled note being written, its length not begun (`~B`, `~^c'`).
_ROLLED = re.compile(r"~[=^_]*[A-Ga-g][,']*$")


class TrillUntied(Rule):
    """No tie after a trilled note (`TA4-|A2`): one of the corpus's 4,981 tunes ties a trill, and
    abc2midi, which plays the trill out as notes, then counts the next bar short (3 beats of 4),
    as it did in 2 of 1,753 bars the form bench wrote."""

    phase = ALWAYS

    def banned(self, state: TuneState) -> Mask:
        split = state.splitter
        if not split.in_music or "T" not in split.content:
            return False
        return self.syntax.tie if _TRILLED.search(split.content[-16:]) else False  # a note's text is short


# A trilled note being written, its length perhaps begun (`TA`, `T^c'3/2`).
_TRILLED = re.compile(r"T[=^_]*[A-Ga-g][,']*[0-9/]*\Z")
