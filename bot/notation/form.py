"""The form of a tune: its parts, their lengths and repeats, and whether it ends on its tonic.

(Over 400 lines: reading a tune's form, planning a new one and tracking it while it is written
share one idea of a part, its length and its section lines; apart, they would drift.)

Two jobs, both on the repo's one tokenizer (`bot.notation.bars.read_body`):

* `read_form(abc)` reads a finished tune the way a musician hears its shape. Parts end at
  the section lines `:|`, `|:`, `::`, `||`, `|]`, `[|`; a part's length is its written
  duration in bars, so a pickup and the short last bar of a part count as one bar; a second
  ending (`:|2 ...`) stands in for the first and is not counted again. It also gives the
  last sounding note against the tonic of the key in force (mode-aware: A dorian ends on A).
* `plan_form(rhythm, bars)` chooses the form a new tune is written in, from the shapes of
  the training tunes of each rhythm (`python -m bot.notation.form` measures them; the
  figures are in `DANCE_SHAPES` below) and the NMD's layouts (`bot.notation.layouts`), and
  rounds the asked-for length to that form. A layout's written part may join several
  phrases, each closed on its cadence (`FormPlan.joined`): a 32-bar part played once.

No torch and no music21 here: the generator consults this on every bar.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from fractions import Fraction

from bot.notation.abc import blank_comments, default_unit, normalise_field, parse_meter
from bot.notation import layouts
from bot.notation.bars import Bar, beat_of, read_body
from bot.notation.tokens import pitch_class, tokenize, tonic

# Section lines: where a part ends (`|1`, `:|2` carry ending numbers after these).
_SECTION_LINES = (":|", "|:", "::", "||", "|]", "[|")

# Rhythms that are danced, and so are written in parts of 8 bars, each played twice. Measured
# on the 12,181 training tunes with `python -m bot.notation.form` (rhythm: tunes; share in
# two parts; all parts 8 bars; every part repeated; every part regular):
#   reel 667: 91% two parts, 57% all 8-bar, 46% all repeated (many reels write the
#             repeat out), 69% regular
#   jig 484: 88%, 82%, 89%, 87%          hornpipe 433: 93%, 85%, 95%, 87%
#   slip jig 93: 82%, 14%, 42%, 78% (A parts of 4 bars repeated, B parts written out)
#   strathspey 46: 98%, 61%, 7%, 61%     fling 15: 93%, 27%, 67%, 73%
# Two parts is the shape of nearly every dance tune; 8 bars each played twice the most common
# way to write them. Airs (air 34: 76% two phrases, 35% of 8 bars, 6% repeated) and the
# songs with no R: (10,189, mostly Essen: 79% one section, no repeats in 89%) are written
# in phrases of 4 or 8 bars, without repeats.
DANCE_RHYTHMS = frozenset({
    "reel", "jig", "hornpipe", "polka", "slip jig", "slide", "march", "strathspey", "barndance",
    "waltz", "mazurka", "schottische", "fling", "country dance", "minuet",
})
PART_BARS = 8  # a dance tune's part, and an air's phrase
PHRASE_BARS = 4  # the shortest phrase an air or song is written in
MAX_PARTS = 8  # 64 bars at most, the length slider's top
# A part of one of these lengths in bars is regular: 24 and 32 are whole 8-bar phrases written
# as one part, the repeats written out (the NMD's 32-bar reels and most of its waltzes).
REGULAR_LENGTHS = (4, 8, 12, 16, 24, 32)


@dataclass(frozen=True)
class Part:
    """One part of a tune as read from its text."""

    bars: Fraction  # written length in bars (a pickup and the part's short last bar make one)
    repeated: bool  # played twice: it ends with a repeat (`:|`, `::`) or has first and second endings (a `|:` alone is not enough)
    last_pitch: int | None  # MIDI number of its last sounding note (None: only rests)

    @property
    def regular(self) -> bool:
        """A whole 4, 8, 12, 16, 24 or 32 bars."""
        return self.bars.denominator == 1 and int(self.bars) in REGULAR_LENGTHS


@dataclass(frozen=True)
class FormReading:
    """What a finished tune's text says about its form."""

    parts: tuple[Part, ...]
    tonic: int | None  # pitch class of the tonic of the key in force at the end (None: no key)
    last_pitch: int | None  # MIDI number of the tune's last sounding note

    @property
    def ends_on_tonic(self) -> bool:
        """The last sounding note is the tonic (any octave)."""
        return self.tonic is not None and self.last_pitch is not None and self.last_pitch % 12 == self.tonic

    @property
    def regular(self) -> bool:
        """Every part is 4, 8, 12, 16, 24 or 32 bars long."""
        return bool(self.parts) and all(p.regular for p in self.parts)

    @property
    def repeats(self) -> bool:
        """At least one part is played twice."""
        return any(p.repeated for p in self.parts)

    @property
    def dance_form(self) -> bool:
        """Two or more parts, each played twice."""
        return len(self.parts) >= 2 and all(p.repeated for p in self.parts)

    @property
    def two_repeated_eights(self) -> bool:
        """Two or more parts, each 8 bars and played twice (AABB and longer)."""
        return self.dance_form and all(p.bars == PART_BARS for p in self.parts)

    def describe(self) -> str:
        """The form in words: "AABB: two 8-bar parts, each played twice"."""
        return describe(tuple(int(p.bars) if p.regular else p.bars for p in self.parts),
                        tuple(p.repeated for p in self.parts))


def split_abc(abc: str) -> tuple[dict[str, str], str]:
    """(the first value of each header field up to K:, the body after the K: line).

    M:, L: and R: lines after K: and before the first music line count as the header's, as
    abc2midi and abcjs read them (`K:Am` then `M:4/4` is common in people's tunebooks).
    """
    fields: dict[str, str] = {}
    lines = abc.split("\n")
    for i, line in enumerate(lines):
        if len(line) >= 2 and line[1] == ":" and line[0].isalpha():
            fields.setdefault(line[0], line[2:].strip())
            if line[0] == "K":
                for after in lines[i + 1:]:
                    if len(after) >= 2 and after[1] == ":" and after[0] in "MLR":
                        fields[after[0]] = after[2:].strip()
                    elif after.strip() and not after.lstrip().startswith("%") and not (
                            len(after) >= 2 and after[1] == ":" and after[0].isalpha()):
                        break
                return fields, "\n".join(lines[i + 1:])
    return fields, ""


def is_section_line(token: str) -> bool:
    """Whether a bar line ends a part (`:|`, `|:`, `::`, `||`, `|]`, `[|`, with or without an ending number)."""
    return any(line in token for line in _SECTION_LINES)


def read_parts(bars: list[Bar], bar_length: Fraction, close_last: bool = True) -> tuple[list[Part], Fraction]:
    """(the parts of a body read by `read_body`, the length in bars of the part left open).

    With `close_last` a last part that no section line closes counts as a part (a finished
    tune); without it, it is the open part (pasted music that breaks off). A pickup before a
    section line leads into the part after it: it counts in that part when the part ends
    with the matching short bar (the two make one bar), and not when the part's bars are
    whole without it (`A|:d2e ...|d3 d3:|`: the repeat goes back past the pickup).
    """
    parts: list[Part] = []
    length = lead = Fraction(0)
    lead_skipped = False  # the lead-in pickup ends with a repeat sign: repeats go back past it
    repeated = False
    last_pitch = None
    in_later_ending = False  # bars of a second ending stand in for the first: not counted
    for bar in bars:
        if bar.ending and not bar.ending.startswith("1"):
            in_later_ending = True
        pitches = [e.melody for e in bar.events if e.pitches]
        if not in_later_ending:
            length += bar.duration
            if pitches:
                last_pitch = pitches[-1]
        elif pitches:
            # A second ending closes the part when it is played the second time.
            parts[-1:] = [Part(parts[-1].bars, True, pitches[-1])] if parts else []
        if not is_section_line(bar.token) and (bar.token or not close_last):
            continue
        if bar.ending.startswith("1") or bar.token.rstrip("0123456789,-") != bar.token:
            repeated = True  # first and second endings: the part is played twice
        repeated = repeated or bar.token.startswith(":")
        if in_later_ending:
            in_later_ending = False
            length, repeated, last_pitch = Fraction(0), False, None
            continue
        if length == 0:
            continue
        if length < bar_length and bar.token:
            lead, lead_skipped = length, ":" in bar.token  # a pickup into the part that follows
            length, repeated = Fraction(0), False
            continue
        total = (length + lead) / bar_length
        parts.append(Part(total if total.denominator == 1 or not lead else length / bar_length, repeated, last_pitch))
        length, lead, repeated, last_pitch = Fraction(0), Fraction(0), False, None
    return parts, (length + (0 if lead_skipped else lead)) / bar_length


def explicit_repeats(body: str) -> str:
    """`body` with a `|:` after each `:|` whose next part is repeated without opening one.

    Players, abc2midi and abcjs take `A:| B:|` back to the last `:|` (AABB); music21 takes it
    back to the tune's start (AABAAB). Written out, every reader plays AABB.
    """
    inserts: list[int] = []
    last_end: int | None = None  # where the last plain `:|` ends
    opened = False  # a `|:` (or `::`) since it
    for tok in tokenize(body):
        if tok.kind != "bar":
            continue
        if tok.text.startswith(":"):
            if last_end is not None and not opened:
                inserts.append(last_end)
            last_end = tok.end if tok.text == ":|" else None
            opened = tok.text.endswith(":")
        elif tok.text.endswith(":"):
            opened = True
    for at in reversed(inserts):
        body = body[:at] + " |:" + body[at:]
    return body


def read_form(abc: str) -> FormReading:
    """The parts of a tune (headers and body) and its last note against its tonic."""
    fields, body = split_abc(abc)
    meter = normalise_field("M", fields.get("M", "none"))  # `C` and `C|` as 4/4 and 2/2
    key = fields.get("K", "C")
    bars = read_body(blank_comments(body), meter, fields.get("L") or default_unit(meter), key)
    bar_length = parse_meter(meter)
    parts = tuple(read_parts(bars, bar_length)[0]) if bar_length else ()
    end_key = bars[-1].key if bars else key
    root = tonic(end_key)
    last = None
    for bar in reversed(bars):
        pitches = [e.melody for e in bar.events if e.pitches]
        if pitches:
            last = pitches[-1]
            break
    return FormReading(parts, pitch_class(root) if root else None, last)


_COUNT_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}


def describe(lengths: tuple, repeated: tuple[bool, ...], noun: str = "part") -> str:
    """A form in words from its parts' lengths and repeats: "AABB: two 8-bar parts, each played twice"."""
    if not lengths:
        return "no parts"
    letters = "".join(chr(ord("A") + i) * (2 if r else 1) for i, r in enumerate(repeated[:26]))
    n = len(lengths)
    same = len(set(lengths)) == 1
    size = f"{lengths[0]}-bar " if same else ""
    words = f"{_COUNT_WORDS.get(n, str(n))} {size}{noun}{'s' if n > 1 else ''}"
    if not same:
        words += " of " + ", ".join(str(length) for length in lengths) + " bars"
    if all(repeated):
        words += ", each played twice" if n > 1 else ", played twice"
    elif any(repeated):
        words += ", " + " and ".join(chr(ord("A") + i) for i, r in enumerate(repeated) if r) + " repeated"
    return f"{letters}: {words}"


@dataclass(frozen=True)
class FormPlan:
    """The form a new tune (or the rest of a pasted one) is written in."""

    parts: tuple[int, ...]  # each part's whole length in bars, in order
    repeated: bool  # every part is played twice (dance tunes); phrases are not
    note: str = ""  # why the length asked for was changed ("" when it was not)
    done: Fraction = Fraction(0)  # bars of the first part already written (pasted music that breaks off)
    after: int = 0  # closed parts before the first of these (pasted music): a part after them opens with `|:` too
    marked: bool = False  # each part but the last ends on a section line, so that readers see where (continuations)
    # A layout drawn from the NMD's (`layouts.WRITTEN`): `parts` are then phrases, each closed on
    # its cadence, and a written part may hold several. `repeats`: whether each phrase's part is
    # played twice (empty: as `repeated` says); `joined`: phrases that run on into the next with
    # no section line (the NMD's 32-bar part played once; its B written out in 16 bars).
    repeats: tuple[bool, ...] = ()
    joined: frozenset[int] = frozenset()

    @property
    def bars(self) -> int:
        """Written bars in all."""
        return sum(self.parts)

    def repeats_at(self, index: int) -> bool:
        """Whether the part holding phrase `index` is played twice."""
        return self.repeats[index] if self.repeats else self.repeated

    def ends_part(self, index: int) -> bool:
        """Whether phrase `index` ends a written part (a section line or the tune's end follows it)."""
        return index not in self.joined

    def opens_repeat(self, index: int) -> bool:
        """Whether phrase `index` begins a written part that is played twice."""
        return 0 <= index < len(self.parts) and self.repeats_at(index) and (index == 0 or self.ends_part(index - 1))

    def written(self) -> tuple[tuple[int, bool], ...]:
        """The written parts: (bars, played twice) each, joined phrases as one."""
        parts: list[tuple[int, bool]] = []
        for i, bars in enumerate(self.parts):
            if i and not self.ends_part(i - 1):
                parts[-1] = (parts[-1][0] + bars, parts[-1][1])
            else:
                parts.append((bars, self.repeats_at(i)))
        return tuple(parts)

    def describe(self) -> str:
        """"AABB: two 8-bar parts, each played twice"."""
        if self.repeats or self.joined:
            written = self.written()
            return describe(tuple(b for b, _ in written), tuple(r for _, r in written))
        return describe(self.parts, (self.repeated,) * len(self.parts), "part" if self.repeated else "phrase")


def _round_parts(bars: int, size: int) -> int:
    """How many parts of `size` bars come nearest to `bars` (halves round up)."""
    return (bars + size // 2) // size


def plan_form(rhythm: str | None, bars: int | None, seed: int = 0, asked_parts: int | None = None) -> FormPlan:
    """The form for a new tune of `rhythm` about `bars` bars long (None: the rhythm's usual length).

    A dance tune, or an air, is laid out as today's tunebooks lay its rhythm out
    (`bot.notation.layouts`, drawn by `seed`): at its usual length one of the NMD's layouts of
    the rhythm (`layouts.WRITTEN`), composed in phrases of the rhythm's part length whatever
    the layout; else parts of its length, two or three of them (as many as `asked_parts` asks),
    repeated or played once (then, as in the NMD, a section line between them is the model's
    choice). A tune of no rhythm is written in 8-bar phrases.
    """
    if rhythm in DANCE_RHYTHMS or rhythm in layouts.LAYOUTS:
        drawn = layouts.draw(rhythm, bars, seed, asked_parts)
        if drawn.written:
            return _written_plan(drawn)
        least = 1 if rhythm not in DANCE_RHYTHMS else 2  # nearly every dance tune has two parts at least
        count = max(least, min(MAX_PARTS, 64 // drawn.part_bars, drawn.parts))
        plan = FormPlan((drawn.part_bars,) * count, drawn.repeated)
    elif bars is None or bars >= PART_BARS - PHRASE_BARS // 2:
        count = 2 if bars is None else _round_parts(bars, PART_BARS)
        plan = FormPlan((PART_BARS,) * max(1, min(MAX_PARTS, count)), False)
    else:
        plan = FormPlan((PHRASE_BARS,), False)  # a short air or song: one 4-bar phrase
    if bars is not None and plan.bars != bars:
        plan = replace(plan, note=f"{bars} bars make no whole form of this kind, so it has {plan.bars}")
    return plan


def _written_plan(drawn: layouts.Drawn) -> FormPlan:
    """The plan of a drawn WRITTEN layout: its written parts cut into phrases of the rhythm's
    part length (where that does not divide them all, the largest length that does: a waltz's
    8r 16 is three 8-bar phrases, AABB with B written out; a hornpipe's 4r 8 three of 4), the
    phrases of a part joined, so that the cadences fall
    where AABB's would and only the section lines and repeat signs differ. Every written part
    but the last ends on a section line (`marked`): where the NMD has none, the phrases are
    joined instead."""
    phrases: list[int] = []
    repeats: list[bool] = []
    joined: set[int] = set()
    size = math.gcd(drawn.part_bars, *(bars for bars, _ in drawn.written))
    for bars, repeated in drawn.written:
        for _ in range(bars // size):
            phrases.append(size)
            repeats.append(repeated)
            joined.add(len(phrases) - 1)
        joined.discard(len(phrases) - 1)
    return FormPlan(tuple(phrases), all(repeats), repeats=tuple(repeats), joined=frozenset(joined), marked=True)


def plan_continuation(rhythm: str | None, given: list[Part], open_bars: Fraction, bars: int,
                      asked_parts: int | None = None) -> FormPlan:
    """The parts still to write after pasted music, as a player completes a tune.

    `given` are the pasted music's closed parts, `open_bars` the length of the part it breaks
    off in (0 when it ends on a section line), `bars` the whole tune's length asked for (pasted
    and new), `asked_parts` the parts the words ask for ("a three-part reel").

    The part in progress is finished to its regular length: the first part's, else the next
    whole part. New parts take the first part's shape: its length, and repeated where it is.
    A dance tune has two parts; three or more only when asked, or when the paste already has
    more than two. A paste that already fills `bars` gets one more part.
    """
    first = given[0] if given else None
    dance = rhythm in DANCE_RHYTHMS or any(p.repeated for p in given)
    if first is not None and first.regular and first.bars <= 16:  # (a 32-bar part's phrases are 8 or 16)
        size = int(first.bars)
    else:
        size = PART_BARS if dance or open_bars > PHRASE_BARS or bars >= PART_BARS else PHRASE_BARS
    repeated = first.repeated if first is not None else dance
    parts: list[int] = []
    if open_bars > 0:
        # The part in progress runs to the next whole part length after what is written (a
        # part that already has a whole length but no section line gets another phrase).
        parts.append((int(open_bars) // size + 1) * size)
    have = len(given) + len(parts)
    written = int(sum(p.bars for p in given)) + sum(parts)
    by_length = max(1, _round_parts(bars - written, size)) + have if written < bars else have
    most = asked_parts or max(2, len(given) + len(parts))
    total = min(by_length, most, MAX_PARTS)
    if dance or asked_parts:
        total = max(total, min(asked_parts or 2, MAX_PARTS))
    if total <= have and not parts:
        total = have + 1  # the paste fills the length asked for: one more part
    notes = []
    whole = written + (total - have) * size
    if asked_parts and total != asked_parts:
        notes.append(f"your tune already has {have} part{'s' if have > 1 else ''}, so it has {total}")
    if whole != bars and not notes:
        if asked_parts:
            notes.append(f"{total} parts of {size} bars make {whole} bars, not the Length's {bars}")
        elif by_length > most:
            kind = f"a {rhythm}" if rhythm else "a tune"
            notes.append(f"a Length of {bars} bars would take {_round_parts(bars, size)} parts of {size} bars; {kind} "
                         f"has {total} unless you ask for more (\"a three-part {rhythm or 'tune'}\"), so it has {whole} bars")
        elif written >= bars:
            notes.append(f"your tune already has {written} bars, the Length asked for, so one more part was written")
        else:
            notes.append(f"a Length of {bars} bars makes no whole number of {size}-bar parts, so it has {whole}")
    parts += [size] * (total - have)
    return FormPlan(tuple(parts), repeated, note="; ".join(notes), done=open_bars,
                    after=len(given) if not open_bars else 0, marked=True)


def strong_beat(meter: str) -> Fraction:
    """Where a cadence may land: on a beat (`bars.beat_of`), and on any quarter where the beat
    is a half note, as in 2/2 and 3/2 (reels end `d2 z2`, the last note on the third quarter)."""
    beat = beat_of(meter)
    return Fraction(1, 4) if beat == Fraction(1, 2) else beat


@dataclass(frozen=True)
class FormTracker:
    """Where a tune being written stands in its FormPlan; judges each closed bar against it.

    Immutable, so the generator keeps the one before a bar and goes back to it on a retry.
    """

    plan: FormPlan
    tonic: int | None  # pitch class every tune ends on (None: no key read; no cadence check)
    index: int = 0  # the part being written
    length: Fraction = Fraction(0)  # bars of it written so far (a pickup counts its fraction)
    opened: bool = False  # a start-repeat (`|:`, `::`) opens the current part

    @property
    def finished(self) -> bool:
        """Every part of the plan is written."""
        return self.index >= len(self.plan.parts)

    @property
    def needs_opening(self) -> bool:
        """A repeated part after the first has not yet been opened by `|:` (only a bar line may come)."""
        return (self.plan.opens_repeat(self.index) and 0 < self.index + self.plan.after and not self.finished
                and self.length == 0 and not self.opened)

    @property
    def at_part_start(self) -> bool:
        """Nothing of the current part is written yet."""
        return self.length == 0

    @property
    def phrase_end(self) -> Fraction:
        """Where the part being written ends, in bars counted as `length` counts them. A phrase
        that runs on into the next ends on a whole bar (no section line, so no short bar): the
        pickup its written part began with (`length`'s fraction) moves its end and is carried
        on, to be made whole by the written part's short last bar."""
        target = self.plan.parts[self.index]
        return target if self.plan.ends_part(self.index) else target + self.length % 1

    def closes_part(self, bars: Fraction) -> bool:
        """Whether a bar `bars` long ends the part being written."""
        return not self.finished and self.length + bars == self.phrase_end

    def closes_part_soon(self, bars: Fraction) -> bool:
        """Whether a bar `bars` long ends the part, or leaves only the part's closing bar after it."""
        return not self.finished and 0 <= self.phrase_end - self.length - bars <= 1

    def closes_section(self, bars: Fraction) -> bool:
        """Whether a bar `bars` long ends the part being written and a section line (or the tune's end) follows it."""
        return self.closes_part(bars) and self.plan.ends_part(self.index)

    def closes_tune(self, bars: Fraction) -> bool:
        """Whether a bar `bars` long ends the last part."""
        return self.closes_part(bars) and self.index == len(self.plan.parts) - 1

    def judge(self, bars: Fraction, token: str, notes: list[tuple[int, Fraction]], beat: Fraction) -> str:
        """Why a bar `bars` long closed by `token` breaks the form ("" when it does not).

        `notes` are (MIDI number, onset in whole notes) of the bar's sounding notes, needed
        only when the bar closes a part. `token` "" is the tune's end.
        """
        if self.finished:
            return ""
        section = is_section_line(token) or not token
        new = self.length + bars
        target = self.phrase_end
        # A repeat sign only where the plan repeats: closing a part played twice (`:|`) or
        # opening one (`|:`: the next part's, or this one's at its start).
        following = self.index if bars == 0 and self.length == 0 else self.index + 1
        if ":" in token and not (self.plan.repeats_at(self.index) or self.plan.opens_repeat(following)):
            return "phrases are not repeated"
        if token.startswith(":") and not self.plan.repeats_at(self.index):
            return "this part is played once"
        if token.endswith(":") and bars > 0 and not self.plan.opens_repeat(following):
            # `A::` opens a repeat for a B played once: B's end then leaves it open, and the syntax
            # guard rightly bans a second `|:` before its `:|`, so no try of the next part could start.
            return "the next part is played once"
        if self.needs_opening and bars > 0:
            # Without `|:` music21 takes `A:| B:|` back to the tune's start (AABAAB), where
            # abc2midi and players go back to the last `:|` (AABB): the part says where.
            return "a repeated part after the first opens with |:"
        if bars == 0:
            inside = self.length >= 1 or not self.plan.ends_part(self.index - 1)  # or between joined phrases
            return "a section line inside a part" if section and inside else ""
        if self.length == 0 and Fraction(1, 2) < bars < 1:
            return "a pickup longer than half a bar"  # its complement would be a bar of a note or two
        if new < target:
            if section and self.length == 0 and new < 1:
                # A pickup leads into its part: after a section line the repeat would go back
                # past it, and the part's last bar could not be its complement.
                return "a section line after a pickup"
            return f"a part ends after {new} of its {target} bars" if section else ""
        if new > target:
            return f"a part runs past its {target} bars"
        ends = self.plan.ends_part(self.index)
        if section and not ends:
            return "a section line inside a written part"  # the phrase runs on: a plain bar line
        if ends and self.plan.repeats_at(self.index) and token and not token.startswith(":"):
            return "a part played twice must end with a repeat"
        if ends and self.plan.marked and token and not is_section_line(token) and self.index < len(self.plan.parts) - 1:
            return "a part ends on a section line"
        return "" if self.tonic is None else self.cadence(notes, beat)

    def cadence(self, notes: list[tuple[int, Fraction]], beat: Fraction) -> str:
        """Why the closing bar of the current part is no cadence ("" when it is one).

        The tune's last note is its tonic, on a beat. An inner part's cadence is its last
        note on a beat, the tonic or the fifth; notes after it off the beat lead back into
        the repeat or on to the next part, as musicians write them.
        """
        if self.index == len(self.plan.parts) - 1:
            if not notes:
                return "the tune must end on a note"
            pitch, onset = notes[-1]
            if pitch % 12 != self.tonic:
                return "the tune must end on its tonic"
            return "the last note must fall on a beat" if onset % beat else ""
        on_beat = [pitch for pitch, onset in notes if onset % beat == 0]
        if not on_beat or on_beat[-1] % 12 not in (self.tonic, (self.tonic + 7) % 12):
            return "a part must close on the tonic or the fifth"
        return ""

    def after(self, bars: Fraction, token: str) -> FormTracker:
        """The tracker once a bar `bars` long closed by `token` is accepted."""
        if self.finished:
            return self
        if bars == 0:
            return replace(self, opened=self.opened or token.endswith(":"))
        end = self.phrase_end
        if self.length + bars >= end:
            # The part is over; past its length only when every try of its last bar failed
            # and the closest was kept: the next part then starts afresh, in step again. A
            # phrase that runs on hands its pickup on to the next (`phrase_end`).
            carry = end - self.plan.parts[self.index] if self.length + bars == end else Fraction(0)
            return replace(self, index=self.index + 1, length=carry, opened=token.endswith(":"))
        return replace(self, length=self.length + bars)


@dataclass
class _Shape:
    tunes: int = 0
    eights: int = 0
    repeated: int = 0
    regular: int = 0
    tonic: int = 0
    counts: Counter = field(default_factory=Counter)


def measure_corpus() -> dict[str, _Shape]:
    """Per rhythm: how the training tunes' parts are shaped (for DANCE_SHAPES above)."""
    from bot.corpus import load_corpus

    shapes: dict[str, _Shape] = {}
    for tune in load_corpus().train:
        fields, _ = split_abc(tune)
        reading = read_form(tune)
        if not reading.parts:
            continue
        shape = shapes.setdefault(fields.get("R", "(none)"), _Shape())
        shape.tunes += 1
        shape.eights += all(p.bars == PART_BARS for p in reading.parts)
        shape.repeated += all(p.repeated for p in reading.parts)
        shape.regular += reading.regular
        shape.tonic += reading.ends_on_tonic
        shape.counts[len(reading.parts)] += 1
    return shapes


def main(argv: list[str] | None = None) -> int:
    """CLI: print the form of ABC files, or (no files) the shapes of the training tunes per rhythm."""
    parser = argparse.ArgumentParser(prog="python -m bot.notation.form", description=main.__doc__)
    parser.add_argument("files", nargs="*", help="ABC files (one tune each); none: measure the corpus")
    args = parser.parse_args(argv)
    if args.files:
        for path in args.files:
            with open(path, encoding="latin-1") as handle:
                reading = read_form(handle.read())
            print(f"{path}: {reading.describe()}; ends on the tonic: {reading.ends_on_tonic}")
        return 0
    print(f"{'rhythm':16s}{'tunes':>7s}{'all 8-bar':>11s}{'all repeated':>14s}{'regular':>9s}{'tonic end':>11s}  parts")
    for rhythm, s in sorted(measure_corpus().items(), key=lambda kv: -kv[1].tunes):
        pct = lambda n: f"{100 * n / s.tunes:.0f}%"  # noqa: E731
        counts = ", ".join(f"{k}:{v}" for k, v in sorted(s.counts.items())[:6])
        print(f"{rhythm:16s}{s.tunes:>7d}{pct(s.eights):>11s}{pct(s.repeated):>14s}{pct(s.regular):>9s}"
              f"{pct(s.tonic):>11s}  {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
