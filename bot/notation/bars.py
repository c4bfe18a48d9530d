"""Bar-duration arithmetic for ABC music: how long a bar is, where bars end, which bars are right.

(Over 600 lines: it now also holds the timed reading of a body into bars and events,
`read_body`, moved here from tokens.py so that the notation package imports one way; both
read bars with the same splitter and timing, and belong together.)

Three pieces, used by the generator to keep every bar in time (and by tests and the bench):

* `measure(text, timing)` sums the durations in one bar's text: note lengths (`A2`, `A/`,
  `A//`, `A3/2`), broken rhythm (`>` `<`), tuplets (`(3`, `(p:q:r`), chords (`[CEG]2`, as
  long as their first note), rests (`z`, `x`), multi-bar rests (`Z4`); grace notes `{..}`,
  quoted strings, `!decorations!`, ties and slurs take no time. Inline and line fields
  (`[L:1/16]`, `M:3/4`) change the timing from where they stand.
* `BarSplitter` reads music one character at a time and says when a bar line is complete,
  so a bar can be judged the moment it is closed.
* `BarRules` judges closed bars the way abc2midi counts them (found by feeding it test
  tunes): every bar full, except a pickup at the start and its complement at a section end
  (`:|`, `||`, `|]`, `::`), which abc2midi adds to the next bar or to the bar a repeat
  goes back to. `audit` applies them to a whole tune body.

* `read_body(body, meter, unit, key)`: the body as bars, each with its timed events (offset
  and duration in whole notes, tuplets and broken rhythm applied by `measure`), their MIDI
  pitches (key signature and the bar's accidentals applied) and the chord symbols written in
  it (`bot.notation.chords` says which quotes are chords).

Durations are Fractions of a whole note (added up in whole-number ticks), so a change of
`L:` inside a bar is exact. No torch here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import lru_cache

from bot.notation.abc import parse_meter
from bot.notation.chords import parse_chord_symbol
from bot.notation.tokens import ELEMENT, LENGTH as _LENGTH, NOTE, key_signature, note_pitch, tokenize

# One element of bar text: the notation package's one tokenizer pattern.
_ELEMENT = ELEMENT
# The first note (or rest) inside a chord gives the chord its length.
_CHORD_NOTE = re.compile(rf"(?:\^\^|\^|__|_|=)?[A-Ga-gz][,']*(?P<len>{_LENGTH})")
_LENGTH_PARTS = re.compile(r"(\d*)(/*)(\d*)")
_UNIT = re.compile(r"\s*(\d{1,3})/(\d{1,3})\s*$")

# `(p` puts p notes in the time of q; q for the forms that leave it out (ABC 2.1, 4.13).
# None means "2 in simple meters, 3 in compound ones".
_TUPLET_Q = {2: 3, 3: 2, 4: 3, 5: None, 6: 2, 7: None, 8: 3, 9: None}

# Characters that continue a bar line as an ending's number (`|1`, `:|2`, `|1,3`).
_VARIANT_CHARS = set("0123456789,-")


def note_length(text: str) -> Fraction:
    """The multiplier written after a note: '' 1, '2' 2, '/' 1/2, '//' 1/4, '3/2' 3/2, '/4' 1/4."""
    digits, slashes, denominator = _LENGTH_PARTS.fullmatch(text).groups()
    numerator = int(digits) if digits else 1
    if not slashes:
        return Fraction(numerator)
    if denominator:
        return Fraction(numerator, int(denominator) * 2 ** (len(slashes) - 1)) if int(denominator) else Fraction(0)
    return Fraction(numerator, 2 ** len(slashes))


@lru_cache(maxsize=256)
def _bar_length(meter: str) -> Fraction | None:
    return parse_meter(meter)


@dataclass(frozen=True)
class Timing:
    """The meter and unit note length in force (M: and L:)."""

    meter: str = "4/4"  # M: value as written in the model's form ("6/8", "none")
    unit: Fraction = Fraction(1, 8)  # L: in whole notes

    @property
    def bar(self) -> Fraction | None:
        """Length of a full bar in whole notes; None in free meter (no bar check)."""
        return _bar_length(self.meter)

    @property
    def compound(self) -> bool:
        """6/8, 9/8, 12/8 ...: tuplets (5, (7, (9 then fill three beats, not two."""
        match = re.fullmatch(r"(\d+)/\d+", self.meter.strip())
        return bool(match) and int(match.group(1)) % 3 == 0 and int(match.group(1)) > 3

    def with_field(self, name: str, value: str) -> Timing:
        """The timing after an M: or L: field; other fields (and unreadable values) change nothing."""
        value = value.strip()
        if name == "M":
            meter = {"C": "4/4", "C|": "2/2"}.get(value, value.replace(" ", ""))
            return replace(self, meter=meter)
        if name == "L":
            match = _UNIT.match(value)
            if match and int(match.group(1)) and int(match.group(2)):
                return replace(self, unit=Fraction(int(match.group(1)), int(match.group(2))))
        return self


def beat_of(meter: str) -> Fraction:
    """The beat in whole notes: a dotted quarter in 6/8, 9/8, 12/8; else the lower number's note."""
    match = re.fullmatch(r"(\d+)/(\d+)", meter)
    if not match:
        return Fraction(1, 4)
    top, bottom = int(match.group(1)), int(match.group(2))
    if top % 3 == 0 and top > 3:
        return Fraction(3, bottom)
    return Fraction(1, bottom)


@dataclass(frozen=True)
class Measure:
    """What one bar's text adds up to."""

    duration: Fraction  # every timed element as written so far, in whole notes
    settled: Fraction  # the part later characters can no longer change (all but an open last element)
    open: bool  # the text ends on an element whose length (or broken rhythm) may still grow or shrink
    elements: int  # notes, rests and chords (a chord counts once)
    rest_bars: int  # bars of multi-bar rest (`Z4` is 4)
    timing: Timing  # the timing after the text's fields
    variant: bool  # the bar starts an ending (`[1`, `[2`)
    irregular: str = ""  # why abc2midi would read the bar otherwise ("" when it reads it as we do)
    fields: int = 0  # inline or line fields (`K:G`, `[M:3/4]`) in the text
    ending: str = ""  # the ending the bar starts (`[1` -> "1"), "" for none
    text: str = ""  # the bar text itself
    # (starts, ends, ticks) of the timed elements, kept as the lists measure built: making
    # Fractions of them costs time on every sampled character, so `timed()` does it on demand.
    spans: tuple = ((), (), ())

    def timed(self) -> list[tuple[int, int, Fraction]]:
        """(start, end, duration in whole notes) of each note, chord and rest, tuplets and broken rhythm applied."""
        starts, ends, ticks = self.spans
        return [(a, b, _whole(t)) for a, b, t in zip(starts, ends, ticks)]


# Durations are added as whole numbers of ticks (a Fraction per note is slow, and this runs
# once per sampled character): a whole note is 2^14 * 9 * 5 * 7 ticks, so every length
# with up to six halvings, units down to 1/32, triplets to nonuplets and broken rhythm up to
# `>>>` is a whole number of ticks.
TICKS = 2**14 * 9 * 5 * 7


@lru_cache(maxsize=4096)
def _element_ticks(length_text: str, chord_text: str | None, unit_num: int, unit_den: int) -> tuple[int, Fraction]:
    """(ticks, written length) of a note or chord: its length text times the unit note."""
    length = note_length(length_text) * (note_length(chord_text) if chord_text is not None else 1)
    ticks = length * Fraction(unit_num * TICKS, unit_den)
    return (ticks.numerator // ticks.denominator), length


def measure(text: str, timing: Timing) -> Measure:
    """Add up the durations in one bar's text (no bar lines in it), starting from `timing`."""
    durations: list[int] = []  # ticks
    lengths: list[Fraction] = []  # written lengths, to check broken rhythm pairs
    paired: list[bool] = []  # the element was the second of a broken-rhythm pair
    ends: list[int] = []
    starts: list[int] = []
    rest_bars = 0
    fields = 0
    variant = False
    ending = ""
    irregular = ""
    tuplet_left, tuplet_q, tuplet_p = 0, 1, 1
    broken_next: tuple[int, int] | None = None  # (times, over) waiting for the element after `>` or `<`
    broken_end = -1  # where the last broken-rhythm mark ended
    unit = (timing.unit.numerator, timing.unit.denominator)

    for match in _ELEMENT.finditer(text):
        kind = match.lastgroup
        if kind in ("quote", "grace", "inline", "chord") and not _closed(match, kind):
            irregular = f"{kind} not closed"
        if kind in ("inline", "linefield"):
            name = match.group("iname") or match.group("lname")
            value = match.group("ivalue") if kind == "inline" else match.group("lvalue")
            timing = timing.with_field(name, value)
            unit = (timing.unit.numerator, timing.unit.denominator)
            fields += 1
            continue
        if kind == "variant":
            if not durations and not variant:
                variant, ending = True, match.group("variant")[1:]
            continue
        if kind == "tuplet":
            p = int(match.group("p"))
            q = int(match.group("q")) if match.group("q") else _TUPLET_Q.get(p)
            if q is None:
                q = 3 if timing.compound else 2
            r = int(match.group("r")) if match.group("r") else p
            tuplet_left, tuplet_q, tuplet_p = r, q, p
            continue
        if kind == "multirest":
            rest_bars += int(match.group("count") or 1)
            continue
        if kind == "broken":
            if text[match.end() : match.end() + 1] == ".":
                irregular = "a staccato dot right after broken rhythm"  # abc2midi cannot apply it
            if durations and paired[-1]:
                irregular = "chained broken rhythm"  # abc2midi compares the changed lengths
            if durations and broken_next is None:
                over = 2 ** len(match.group("broken"))  # `>`: 3/2 and 1/2, `>>`: 7/4 and 1/4
                longer, shorter = (2 * over - 1, over), (1, over)
                first, broken_next = (longer, shorter) if match.group("broken")[0] == ">" else (shorter, longer)
                durations[-1] = durations[-1] * first[0] // first[1]
                broken_end = match.end()
            else:
                irregular = "broken rhythm with no note before it"
            continue
        if kind == "note":
            duration, length = _element_ticks(match.group("nlen"), None, *unit)
        elif kind == "rest":
            duration, length = _element_ticks(match.group("rlen"), None, *unit)
        elif kind == "chord":
            first_note = _CHORD_NOTE.search(match.group("inner"))
            if first_note is None:
                duration, length = 0, Fraction(0)
            else:
                duration, length = _element_ticks(first_note.group("len"), match.group("clen"), *unit)
        else:  # quote, decoration, grace notes: no time
            continue
        if length.denominator & (length.denominator - 1):
            irregular = f"a note length of {length} (abc2midi takes only halves, quarters ...)"
        if tuplet_left:
            if duration * tuplet_q % tuplet_p:
                irregular = f"a ({tuplet_p} tuplet too fine to count"
            duration = duration * tuplet_q // tuplet_p
            tuplet_left -= 1
        paired.append(broken_next is not None)
        if broken_next is not None:
            if lengths and lengths[-1] != length:
                irregular = "broken rhythm between notes of different lengths"
            duration = duration * broken_next[0] // broken_next[1]
            broken_next = None
        durations.append(duration)
        lengths.append(length)
        ends.append(match.end())
        starts.append(match.start())

    total = sum(durations)
    # The last element is open while nothing but its own length (or a broken-rhythm mark
    # after it) has been written since: `A` may yet become `A2` or `A/`, `A>` `A>>`.
    is_open = bool(durations) and (ends[-1] == len(text) or broken_end == len(text))
    settled = total - durations[-1] if is_open else total
    if tuplet_left and not irregular:
        irregular = "a tuplet left unfinished at the bar line"
    if broken_next is not None and not irregular:
        irregular = "broken rhythm with no note after it"
    return Measure(_whole(total), _whole(settled), is_open, len(durations), rest_bars, timing, variant,
                   irregular, fields, ending, text, (starts, ends, durations))


def _whole(ticks: int) -> Fraction:
    """Ticks as a Fraction of a whole note."""
    return _WHOLE_CACHE.get(ticks) or Fraction(ticks, TICKS)


_WHOLE_CACHE: dict[int, Fraction] = {}


def _closed(match: re.Match, kind: str) -> bool:
    """Whether a quote, grace group, inline field or chord found its closing mark."""
    closer = {"quote": '"', "grace": "}", "inline": "]", "chord": "]"}[kind]
    text = match.group(kind) if kind != "chord" else "[" + match.group("inner") + match.string[match.end("inner") : match.end("inner") + 1]
    return len(text) > 1 and text.endswith(closer)


@dataclass
class BarSplitter:
    """Reads bar text one character at a time and finds the bar lines in it.

    A bar line token (`|`, `||`, `|]`, `[|`, `:|`, `|:`, `::`, `:|2` ...) is complete when a
    character arrives that cannot continue it; `closes(ch)` says so before `ch` is taken, so
    the caller can keep the state at the very start of the next bar.
    """

    content: str = ""  # text of the bar being read (no bar lines)
    token: str = ""  # bar line being read, "" when none
    mode: str = ""  # "" music, '"' quote, "!"/"+" decoration, "{" grace, "[" bracket, "(" tuplet, "F" field line
    line_start: bool = True  # the next character begins a line
    field_letter: bool = False  # the last character was a letter at the start of a line (`K` of `K:`)

    def clone(self) -> BarSplitter:
        """An independent copy (a snapshot to roll back to)."""
        return replace(self)

    @property
    def in_music(self) -> bool:
        """Outside quotes, decorations, grace notes, brackets, tuplet marks, field lines and bar lines."""
        return self.mode == "" and not self.token

    def closes(self, ch: str) -> bool:
        """Whether `ch` would complete the bar line being read (and so close a bar)."""
        if not self.token:
            return False
        if ch in "|:":
            return False
        if ch == "]":
            return not self.token.endswith("|")  # `|]`, `:|]`: a thick line, else a new bracket
        if ch in _VARIANT_CHARS:
            return "|" not in self.token  # `|1`, `:|2` carry an ending number
        return True

    def close(self) -> tuple[str, str]:
        """(bar text, bar line) of the bar just completed; starts reading the next bar."""
        closed = (self.content, self.token)
        self.content, self.token = "", ""
        return closed

    def feed(self, ch: str) -> None:
        """Take one character (call `close` first when `closes(ch)` says so)."""
        at_line_start, self.line_start = self.line_start, ch == "\n"
        field_letter, self.field_letter = self.field_letter, False
        if self.token:
            assert not self.closes(ch), (self.token, ch)
            self.token += ch
            return
        mode = self.mode
        if mode == "":
            self._music(ch, at_line_start, field_letter)
            return
        if mode == "(":
            # `(3:2:2` is a tuplet mark, `(` before anything else a slur.
            if ch.isdigit() or ch == ":":
                self.content += ch
                return
            self.mode = ""
            self._music(ch, at_line_start, field_letter)
            return
        if mode == "[" and (ch == "|" or (ch.isdigit() and self.content.endswith("["))):
            if ch == "|":  # `[|` a thick bar line (or a bracket never closed)
                if self.content.endswith("["):
                    self.content = self.content[:-1]
                    self.token = "[|"
                else:
                    self.token = "|"
            else:  # `[1`: an ending, back to music
                self.content += ch
            self.mode = ""
            return
        if mode in "!+{" and (ch == "|" or (mode != "{" and ch.isspace())):
            # An unclosed decoration or grace group: abc2midi reads on as music (and so do we).
            self.mode = ""
            self._music(ch, at_line_start, field_letter)
            return
        self.content += ch
        closer = {'"': '"', "!": "!", "+": "+", "{": "}", "[": "]", "F": "\n"}[mode]
        if ch == closer or ch == "\n":
            self.mode = ""

    def _music(self, ch: str, at_line_start: bool, field_letter: bool) -> None:
        if ch == ":" and field_letter:
            self.content += ch
            self.mode = "F"  # `K:` at the start of a line: a field line, not a bar line
            return
        if ch in "|:":
            self.token = ch
            return
        self.content += ch
        if ch in '"!+{[(':
            self.mode = ch
        elif at_line_start and ch.isalpha():
            self.field_letter = True


@dataclass
class Verdict:
    """How a closed bar fares against the meter."""

    ok: bool
    duration: Fraction  # whole notes in the bar
    expected: Fraction | None  # the duration a full bar needs here (None: free meter)
    counts: int  # bars it adds to the tune's length (a pickup adds none)
    miss: Fraction  # distance from the nearest acceptable duration (0 when ok)
    kind: str  # "empty", "full", "pickup", "complement", "rest", "free", "bad"


def is_plain(token: str) -> bool:
    """A bar line that ends no section: `|`, maybe with an ending number (`|1`)."""
    return token.rstrip(_ENDING_DIGITS) == "|"


def is_repeat_end(token: str) -> bool:
    """`:|`, `::`, `:|]`, `:|2`: the music goes back to the section's start."""
    return token.startswith(":")


def is_pickup(duration: Fraction, bar: Fraction, timing: Timing) -> bool:
    """Whether a duration can be a pickup: up to half a bar, in whole half-units (a note or a few)."""
    return 0 < duration <= bar / 2 and (duration / (timing.unit / 2)).denominator == 1


def final_token(token: str) -> str:
    """The bar line that ends a tune in place of `token`: `:|` after a repeat, else `|]`."""
    if token in ("|]", ":|", ":|]"):
        return token
    return ":|" if is_repeat_end(token) else "|]"


_ENDING_DIGITS = "0123456789,-"


@dataclass
class BarRules:
    """Which bar durations are right at this point of a tune, and its bar count so far.

    The rules are the ones abc2midi checks (found by feeding it test tunes), which are also
    how folk tunes are written:
    - a full bar is always right, and the first bar may be shorter (a pickup);
    - abc2midi adds a short bar before a section line (`||`, `|]`, `|:`, `[|`) to the bar
      that follows, so such a bar is right when the next one is exactly its complement
      (the next section's pickup, at most half a bar): it leaves a `debt` the next bar must pay;
    - at a repeat end (`:|`, `::`) abc2midi adds the bar to the first bar it goes back to
      (the tune's start, or the last `|:`, `::` or `:|`; `||` and `|]` too once a `:|` was
      read and no `|:` is open), so a repeat that began with a pickup must end with its
      complement, and then the next bar must be the pickup again; a second ending (`:|2`,
      `[2`) replays the bar before the repeat instead and owes nothing;
    - nothing between two bar lines on one line (`| |`) is a stutter, not a bar;
    - abc2midi reads some bars differently from the notation (broken rhythm between unequal
      notes, a tuplet running over the bar line, lengths like 1/3): such bars are wrong;
    - the tune's last bar may be full or the complement of a pickup;
    - in free meter (M:none) every bar is right.
    """

    timing: Timing = field(default_factory=Timing)
    started: bool = False  # a bar with notes has been read
    pickup: Fraction = Fraction(0)  # the tune's pickup (0 when the first bar is full)
    section_pickup: Fraction = Fraction(0)  # pickup of the current section (after any section line)
    repeat_pickup: Fraction = Fraction(0)  # pickup where a repeat goes back to (start, `|:`, `::`, `:|`)
    section_start: bool = False  # the next bar with notes opens a section
    repeat_start: bool = False  # ... and a repeat goes back to it
    debt: Fraction | None = None  # the duration the next bar must have (after a short section end)
    bars: int = 0  # bars counted so far (pickups not counted)
    last_token: str = ""  # the bar line before the bar being read ("" at the start)
    repeat_open: bool = False  # a `|:` waits for its `:|` (abc2midi rejects a second `|:`)
    ending_open: bool = False  # inside a first ending (`|1`, `[1`), which a `:|` must close
    seen_repeat_end: bool = False  # a `:|` has been read: abc2midi then repeats from `||` too
    second_allowed: bool = False  # the last bar line closed a first ending: `[2` may follow

    def clone(self) -> BarRules:
        """An independent copy (a snapshot to roll back to)."""
        return replace(self)

    def replays(self, reading: Measure) -> bool:
        """Whether the bar is a later ending (`:|[2`), standing in for the bar before the repeat."""
        return reading.variant and is_repeat_end(self.last_token)

    def targets(self, token: str = "|", final: bool = False) -> list[tuple[Fraction, str]]:
        """(duration, kind) pairs a bar closed by `token` may have now; [] in free meter."""
        bar = self.timing.bar
        if bar is None:
            return []
        if not self.started:
            return [(bar, "full")]  # or any pickup shorter than a bar, see `judge`
        if self.debt is not None:
            return [(self.debt, "pickup" if self.debt < bar else "full")]
        # A bar that opens a repeat and also ends it: the repeat goes back to this bar itself.
        rp = Fraction(0) if self.repeat_start else self.repeat_pickup
        if is_repeat_end(token):
            # abc2midi adds a repeat's last bar to the bar it goes back to.
            return [(bar - rp, "complement")] if 0 < rp < bar else [(bar, "full")]
        allowed = [(bar, "full")]
        if final:
            sp = Fraction(0) if self.section_start else self.section_pickup
            pickups = sorted({sp, rp, self.pickup})
            allowed += [(bar - p, "complement") for p in pickups if 0 < p < bar]
        return allowed

    def judge(self, reading: Measure, token: str, final: bool = False) -> Verdict:
        """The verdict on a bar read as `reading` and closed by `token` ("" at the tune's end)."""
        bar = reading.timing.bar
        d = reading.duration
        if reading.irregular and bar is not None:
            return Verdict(False, d, bar, 1, bar, "bad")
        if reading.elements == 0 and reading.rest_bars == 0:
            # Nothing at all before a plain bar line: `| |` on one line is a stutter, and
            # abc2midi adds a pending pickup's complement to such an empty bar (`||\n|`).
            # Before a section line (`:| |:`), at the start (`|:`), across a line break (`|\n|`)
            # or around a field line it is no bar at all.
            stutter = "\n" not in reading.text or self.debt is not None
            ok = not self.started or not is_plain(token) or reading.fields > 0 or not stutter
            if self.started and is_repeat_end(token) and not reading.fields:
                ok = False  # `| :|`: abc2midi adds the empty bar to the repeat's first bar
            return Verdict(ok, d, bar, 0, Fraction(0) if ok else bar or Fraction(1), "empty")
        if reading.rest_bars:
            ok = d == 0
            return Verdict(ok, d, bar, reading.rest_bars, d, "rest" if ok else "bad")
        if bar is None:
            return Verdict(True, d, None, 1, Fraction(0), "free")
        rules = self if reading.timing == self.timing else replace(self, timing=reading.timing)
        if not self.started and 0 < d < bar and not is_repeat_end(token):
            return Verdict(True, d, bar, 0, Fraction(0), "pickup")
        if self.debt is not None and self.replays(reading):
            rules = replace(rules, debt=None)  # a second ending replays the bar before it
        allowed = rules.targets(token, final)
        if rules.debt is not None and not is_plain(token) and token and not final:
            allowed = []  # a pickup is followed by its section's first bar, not a section line
        for want, kind in allowed:
            if d == want:
                return Verdict(True, d, bar, 0 if kind == "pickup" else 1, Fraction(0), kind)
        section_line = bool(token) and not is_plain(token) and not is_repeat_end(token)
        if rules.debt is None and self.started and section_line and not final and is_pickup(bar - d, bar, reading.timing):
            return Verdict(True, d, bar, 1, Fraction(0), "complement")
        miss = min((abs(d - want) for want, _ in allowed), default=bar)
        return Verdict(False, d, bar, 1, miss, "bad")

    def commit(self, reading: Measure, token: str, verdict: Verdict) -> None:
        """Move on past a bar that was accepted (right, or the best of its tries)."""
        self.timing = reading.timing
        self.last_token = token
        section_line = bool(token) and not is_plain(token)
        if reading.ending.startswith("1"):
            self.ending_open = True  # this bar starts a first ending (`[1`)
        self.second_allowed = False
        if is_repeat_end(token):
            self.second_allowed, self.ending_open = self.ending_open, False
            self.repeat_open = token.startswith("::")
        else:
            if section_line:
                self.ending_open = False  # `|1 ... ||`: an ending closed without its repeat
            if token.endswith(":"):
                self.repeat_open = True
        digits = token.lstrip(":|[]")
        if digits.startswith("1"):
            self.ending_open = True  # the next bar starts a first ending (`|1`)
        elif digits:
            self.second_allowed = False  # `:|2`: the second ending has begun
        # Where a later `:|` goes back to: `|:`, `::`, `:|`, and once a `:|` was read,
        # abc2midi also "assumes a repeat" from a double bar (`||`, `|]`).
        repeat_line = ":" in token or (section_line and self.seen_repeat_end and not self.repeat_open)
        self.seen_repeat_end = self.seen_repeat_end or is_repeat_end(token)
        if verdict.kind == "empty":
            self.section_start = self.section_start or section_line
            self.repeat_start = self.repeat_start or repeat_line
            return
        self.bars += verdict.counts
        bar = reading.timing.bar
        d = verdict.duration
        pickup = d if verdict.kind == "pickup" else Fraction(0)
        if not self.started:
            self.started = True
            self.pickup = self.section_pickup = self.repeat_pickup = pickup
        else:
            if self.section_start:
                self.section_pickup = pickup
            if self.repeat_start:
                self.repeat_pickup = pickup
        self.section_start, self.repeat_start = section_line, repeat_line
        self.debt = None
        ending = token.rstrip(_ENDING_DIGITS) != token
        if verdict.kind == "complement" and bar is not None and not ending:
            self.debt = bar - d


def split_bars(body: str) -> list[tuple[str, str]]:
    """(bar text, bar line) pairs of a tune body; a last bar with no bar line has token ""."""
    splitter = BarSplitter()
    bars = []
    for ch in body:
        if splitter.closes(ch):
            bars.append(splitter.close())
        splitter.feed(ch)
    if splitter.token or splitter.content.strip():
        bars.append(splitter.close())
    return bars


def audit(body: str, timing: Timing) -> list[Verdict]:
    """The verdict on every bar of a tune body (model form, no headers), in order."""
    rules = BarRules(timing=timing)
    bars = split_bars(body)
    verdicts = []
    for index, (text, token) in enumerate(bars):
        reading = measure(text, rules.timing)
        last = all(not t.strip() for t, _ in bars[index + 1:])
        verdict = rules.judge(reading, token, final=last)
        rules.commit(reading, token, verdict)
        verdicts.append(verdict)
    return verdicts


@dataclass(frozen=True)
class Event:
    """A note, chord or rest that takes time."""

    start: int  # index in the body where its text starts
    end: int
    offset: Fraction  # from the bar's start, in whole notes
    duration: Fraction  # in whole notes, tuplets and broken rhythm applied
    pitches: tuple[int, ...]  # MIDI numbers (middle C `C` is 60); () for a rest
    text: str

    @property
    def melody(self) -> int | None:
        """The pitch heard as the tune's: a chord's top note (a double stop or a chord in a
        melody line carries the tune on top, `[D2F2]` ends on F); None for a rest."""
        return max(self.pitches) if self.pitches else None


@dataclass(frozen=True)
class ChordMark:
    """A chord symbol written in the music."""

    start: int  # index of its opening quote in the body
    end: int
    symbol: str  # the text inside the quotes
    offset: Fraction  # where it sounds: the start of the next timed event in the bar


@dataclass(frozen=True)
class Bar:
    """One bar of a tune body and the bar line that closes it."""

    start: int  # index in the body where the bar's text starts
    end: int  # where its bar line starts (== start of the bar line token)
    token: str  # the closing bar line ("" for a last bar without one)
    text: str
    duration: Fraction  # whole notes as written
    events: tuple[Event, ...]
    chords: tuple[ChordMark, ...]
    ending: str  # the ending this bar starts ("1", "2", "" for none)
    key: str  # the key in force at the bar's end (inline K: fields change it)
    meter: str = ""  # the meter in force at the bar's end (an M: field changes it)


def bar_events(text: str, reading, key: str, at: int = 0) -> tuple[tuple[Event, ...], tuple[ChordMark, ...], str]:
    """(timed events, chord symbols, key at the end) of one bar's text, read by `measure` as `reading`.

    `at` is where the text starts in the body (event positions are body indices).
    """
    signature = key_signature(key)
    carried: dict[tuple[str, int], int] = {}  # accidentals written earlier in the bar
    events: list[Event] = []
    chords: list[ChordMark] = []
    pending: list[tuple[int, int, str]] = []  # chord symbols waiting for the next event
    timed = iter(reading.timed())
    offset = Fraction(0)
    for tok in tokenize(text):
        if tok.kind in ("inline", "linefield"):
            name, _, value = tok.text.strip("[]").partition(":")
            if name == "K":
                key, signature = value.strip(), key_signature(value.strip())
            continue
        if tok.kind == "quote":
            symbol = tok.text.strip('"')
            if parse_chord_symbol(symbol) is not None:
                pending.append((at + tok.start, at + tok.end, symbol))
            continue
        if tok.kind not in ("note", "chord", "rest") or tok.inside:
            continue
        _, _, duration = next(timed)
        if tok.kind == "note":
            pitches = (note_pitch(NOTE.match(tok.text), signature, carried),)
        elif tok.kind == "chord":
            inner = tok.text[1:tok.text.rfind("]")] if "]" in tok.text else tok.text[1:]
            pitches = tuple(note_pitch(m, signature, carried) for m in NOTE.finditer(inner))
        else:
            pitches = ()
        chords.extend(ChordMark(a, b, s, offset) for a, b, s in pending)
        pending.clear()
        events.append(Event(at + tok.start, at + tok.end, offset, duration, pitches, tok.text))
        offset += duration
    chords.extend(ChordMark(a, b, s, offset) for a, b, s in pending)
    return tuple(events), tuple(chords), key


def read_body(body: str, meter: str, unit: str | Fraction, key: str) -> list[Bar]:
    """The bars of a tune body (model form: fields on their own lines or inline) with their events."""
    if isinstance(unit, str):
        num, _, den = unit.partition("/")
        unit = Fraction(int(num), int(den)) if num.isdigit() and den.isdigit() and int(den) else Fraction(1, 8)
    timing = Timing(meter, unit)
    bars: list[Bar] = []
    splitter = BarSplitter()
    start = 0
    pieces: list[tuple[int, int, str]] = []  # (text start, text end, bar line)
    for i, ch in enumerate(body):
        if splitter.closes(ch):
            _, token = splitter.close()
            pieces.append((start, i - len(token), token))
            start = i
        splitter.feed(ch)
    if splitter.token or splitter.content.strip():
        _, token = splitter.close()
        pieces.append((start, len(body) - len(token), token))
    before = ""  # the bar line before the bar: `|1` and `:|2` start an ending
    for text_start, text_end, token in pieces:
        text = body[text_start:text_end]
        reading = measure(text, timing)
        events, chords, key = bar_events(text, reading, key, text_start)
        ending = before.lstrip(":|[]") or reading.ending
        bars.append(Bar(text_start, text_end, token, text, reading.duration, events, chords, ending, key,
                        reading.timing.meter))
        timing, before = reading.timing, token
    return bars
