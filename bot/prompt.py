"""What a person typed or pasted -> the header lines to print and the text to prime the model with.

(Over 400 lines: words and pasted ABC are read in one place, as one message mixes them: the words
around a paste choose its tune, its rhythm and its parts, and fill what its header leaves out.)

Three kinds of input, told apart line by line:

* words ("a slip jig in E dorian", "reel, G minor", "6/8 in D"): rhythm words set M:, L: and
  R:, key words set K:, a time signature sets M:. Fields nobody gave are left "" for the
  model to choose when it writes the tune (`bot.generate`).
* a whole tune (header lines up to `K:`, then music): it is continued. Its own header lines
  are printed verbatim (title included), the music is repeated verbatim, and the model
  carries on from exactly where the music stops, mid-bar included.
* a few bars of music with no headers: continued too, with headers added: the meter read
  from the bars' lengths, the unit note 1/8 and key C unless words or the page say otherwise
  (ABC's own defaults for a tune with no L: or K:).

Characters the model has never seen are left out of the prime (and named in a notice);
input longer than MAX_PROMPT_CHARS or that looks binary is refused with PromptError.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import astuple, dataclass, field
from fractions import Fraction

from bot import style
from bot.instruments import RANGES
from bot.notation.tokens import model_view, tokenize, without
from bot.notation.units import halves_style, rescale
from bot.notation.abc import (
    default_unit, header_block, key_in_words, key_problem, normalise_field, normalise_rhythm, parse_key, parse_meter,
    read_tune, split_tunes, strip_comment,
)

# Longest message read: a tunebook of a few dozen tunes (33 session tunes are about 20,000
# characters). Only the tune continued is primed through the model, so the whole paste may be
# long; the tune itself is held to MAX_TUNE_CHARS.
MAX_PROMPT_CHARS = 262_144

# Longest tune continued: a long tune is about 2,000 characters, and the whole tune is primed
# through the model before the first new note.
MAX_TUNE_CHARS = 5000

# M: and L: for each rhythm the corpus names: the most common pairing among the corpus's tunes
# of that rhythm (reels 2/2 and eighths, slip jigs 9/8, waltzes 3/4 in crotchets: 50 of 57,
# the NMD's), checked against the corpus by tests/test_prompt.py; the usual notation where the
# corpus has fewer than 20 (polka, fling), and two chosen otherwise:
# - hornpipes: 2/4 in sixteenths (258, Ryan's) just outnumber 2/2 in eighths (221), but the
#   2/4 ones are mostly straight and the 2/2 ones often dotted, as players hear a hornpipe; the
#   model keeps each style, so asked for in 2/2 it writes dotted ones too;
# - marches: 4/4 (49), 6/8 (46) and 2/4 (31) are nearly even: 2/4, the quickstep's.
# Asked for in L:1/8, model 3's waltzes were 3/4 tunes in quavers and semiquavers; in L:1/4 they
# are people's waltzes (`python bench/model_compare.py`, waltz column: 79.5% -> 60.8%).
RHYTHM_TIMING = {
    "reel": ("2/2", "1/8"), "jig": ("6/8", "1/8"), "slip jig": ("9/8", "1/8"),
    "hornpipe": ("2/2", "1/8"), "polka": ("2/4", "1/8"), "waltz": ("3/4", "1/4"),
    "march": ("2/4", "1/8"), "slide": ("12/8", "1/8"), "strathspey": ("4/4", "1/8"),
    "air": ("4/4", "1/8"), "schottische": ("4/4", "1/8"), "mazurka": ("3/4", "1/8"),
    "barndance": ("4/4", "1/8"), "set dance": ("6/8", "1/8"), "fling": ("4/4", "1/8"),
    "country dance": ("6/8", "1/8"), "minuet": ("3/4", "1/8"),
}

# Meters each rhythm is written in (its RHYTHM_TIMING meter first). A rhythm asked for in
# another ("a jig in 7/8") is written in its own, and the reply says so: a jig in 7/8 is no jig,
# and the model, asked for one, wrote 6/8 figures in tied halves (`A/2-A/2 B/2-B/2`).
RHYTHM_METERS = {
    "reel": {"2/2", "4/4", "2/4"}, "jig": {"6/8", "9/8", "12/8"}, "slip jig": {"9/8"}, "hornpipe": {"2/2", "4/4", "2/4"},
    "polka": {"2/4", "4/4"}, "waltz": {"3/4", "3/8"}, "march": {"2/4", "4/4", "6/8", "2/2", "12/8"},
    "slide": {"12/8", "6/8"}, "strathspey": {"4/4", "2/2"}, "schottische": {"4/4", "2/4"},
    "mazurka": {"3/4"}, "barndance": {"4/4", "2/2"}, "set dance": {"6/8", "2/4", "4/4"},
    "fling": {"4/4", "2/4"}, "country dance": {"6/8", "2/4", "4/4", "9/8"}, "minuet": {"3/4", "3/8"},
}
# Today's tunebooks (session collections, the NMD) write reels and hornpipes in 4/4: 138 of 163
# session reels, 90 of 98 hornpipes, 93% and 96% of the NMD's. The model reads them in 2/2, the
# meter most of its training reels and hornpipes carry (the bars are the same eight quavers),
# and the tune is shown in 4/4; the old books' manner ("like O'Neill's") keeps their 2/2.
SHOWN_IN_FOUR = frozenset({"reel", "hornpipe"})

# Prompts that ask for nothing in particular.
SURPRISE = {"", "surprise me", "surprise", "anything", "random", "whatever", "any"}

_FIELD_LINE = re.compile(r"^\s*([A-Za-z]):(.*)$")
_ACCIDENTAL = r"(?P<acc>#|♯|♭|b(?![a-z])|[\s-]sharp|[\s-]flat)?"
_MODE = (
    r"(?P<mode>major|minor|maj|min|ionian|aeolian|dorian|dor|phrygian|phr|lydian|lyd|"
    r"mixolydian|mix|locrian|loc|m)"
)
# "in D", "key of F#", "in a minor": a tonic after "in"/"key of" may be lower case.
_KEY_AFTER_IN = re.compile(rf"\b(?:in|key of|key)\s+(?P<tonic>[A-Ga-g]){_ACCIDENTAL}(?:\s*{_MODE})?(?![\w#♯♭])", re.I)
# "G minor", "E dorian", "F#m", "Bb mixolydian": a capital tonic with a mode.
_KEY_WITH_MODE = re.compile(rf"\b(?P<tonic>[A-G]){_ACCIDENTAL}\s*(?i:{_MODE})(?![\w#♯♭])")
_METER_WORD = re.compile(r"(?<![\d/])(\d{1,2})\s*/\s*(\d{1,2})(?![\d/])")
_INLINE_FIELD = re.compile(r"\b([MLKR]):\s*([^\s,;]+(?:\s+(?:major|minor|dorian|mixolydian|m|dor|mix))?)")
# "a three-part reel", "in 3 parts": the number of parts asked for.
_PART_COUNTS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
# "for whistle", "on the tin whistle", "for fiddles": an instrument the tune is written for.
_INSTRUMENT = re.compile(r"\b(?:for|on)\s+(?:(?:the|a|an|tin|penny|low|irish)\s+)*(" + "|".join(RANGES) + r")s?\b", re.I)
_DOTTED = re.compile(r"\b(?:dotted|swung|swing)\b", re.I)
_PARTS = re.compile(r"\b(one|two|three|four|five|[1-5])[\s-]+parts?\b", re.I)
_NOTE_LETTERS = set("ABCDEFGabcdefgzxZuvTH")
_MUSIC_MARKS = set("|^_=,'/<>~[]{}()0123456789")


class PromptError(ValueError):
    """Input the bot refuses (too long, binary, several voices); the message is for the person."""


@dataclass
class Prompt:
    """A parsed prompt: what to print first, what to prime the model with, what to keep."""

    headers: str  # header lines to print verbatim, X: first; "X:1\n" alone while fields are left to the model
    prime: str  # text in the model's form fed before sampling (headers + pasted music); "" while fields are open
    music: str  # pasted music the output repeats verbatim before the continuation ("" if none)
    meter: str  # M: in model form ("6/8", "none"); "" = the model chooses
    unit: str  # L: ("1/8"); "" = the model chooses
    key: str  # K: in model form ("D", "Edor"); "" = the model chooses
    rhythm: str | None  # R: (a name in abc.RHYTHMS' values), None when not given
    notices: list[str] = field(default_factory=list)  # things the person should know (left-out characters ...)
    is_continuation: bool = False  # pasted music is being continued
    style: str | None = None  # the collection whose manner the words ask for (`bot.style` tag), None when none
    parts: int | None = None  # parts the words ask for ("a three-part reel"), None when they name none
    dotted: bool = False  # the words ask for broken rhythm written out ("a dotted hornpipe")
    instrument: str | None = None  # the instrument the words name ("a reel for whistle"), None when none
    shown_meter: str = ""  # M: as the tune is shown where the model reads another ("4/4" for a reel read in 2/2)
    scale: Fraction = Fraction(1)  # new music is written at `unit` x scale: the paste's own unit where the model reads another
    halves: str = "/"  # how the paste writes half a unit ("/" or "/2"): the new bars write it so

    @property
    def written_unit(self) -> str:
        """The unit the tune's new bars are written in: the paste's own where the model reads another."""
        unit = Fraction(self.unit) / self.scale
        return f"{unit.numerator}/{unit.denominator}"

    def shown(self, new: str) -> str:
        """New music as it is shown: in the paste's own unit and spelling (`scale`, `halves`)."""
        return new if self.scale == 1 else rescale(new, self.scale, self.halves)

    def shown_block(self, block: str) -> str:
        """Header lines as shown: the meter as today's tunebooks write it (`shown_meter`)."""
        return block.replace(f"M:{self.meter}\n", f"M:{self.shown_meter}\n", 1) if self.shown_meter else block

    @property
    def complete(self) -> bool:
        """M:, L: and K: are all known, so `headers` and `prime` are final."""
        return bool(self.meter and self.unit and self.key)


@dataclass
class Hints:
    """Header values read from words or page pickers; None where nothing was said."""

    meter: str | None = None
    unit: str | None = None
    key: str | None = None
    rhythm: str | None = None
    style: str | None = None  # a collection's manner (`bot.style` tag)
    parts: int | None = None  # how many parts ("a three-part reel")
    dotted: bool | None = None  # "a dotted hornpipe": broken rhythm written out (`bot.compose.marks`)
    instrument: str | None = None  # "a reel for whistle": the range it is written in and the audio (`bot.instruments`)

    def any(self) -> bool:
        """Whether anything was recognised."""
        return any(v is not None for v in astuple(self))

    def over(self, other: Hints) -> Hints:
        """These hints, falling back to `other` where these say nothing."""
        return Hints(*(a if a is not None else b for a, b in zip(astuple(self), astuple(other))))


def read_key(text: str) -> str | None:
    """A key named in words ("in D", "G minor", "Bb mixolydian", "F# dor") as a model-form K: value."""
    matches = [m for pattern in (_KEY_AFTER_IN, _KEY_WITH_MODE) for m in pattern.finditer(text)]
    if not matches:
        return None
    match = min(matches, key=lambda m: m.start())
    tonic = match.group("tonic").upper()
    accidental = (match.group("acc") or "").strip(" -").lower()
    tonic += {"#": "#", "♯": "#", "sharp": "#", "b": "b", "♭": "b", "flat": "b"}.get(accidental, "")
    mode = (match.group("mode") or "").lower()
    key = parse_key(tonic + mode)
    return None if key is None else key[0] + key[1]


def read_meter(text: str) -> str | None:
    """A time signature in words ("6/8", "3 / 4", "common time") as an M: value."""
    lowered = text.lower()
    if "common time" in lowered:
        return "4/4"
    if "cut time" in lowered:
        return "2/2"
    for match in _METER_WORD.finditer(text):
        value = f"{int(match.group(1))}/{int(match.group(2))}"
        if parse_meter(value) is not None and int(match.group(2)) in (1, 2, 4, 8, 16):
            return value
    return None


def read_words(text: str) -> Hints:
    """Header hints in free-form words; inline fields (`M:6/8 K:G`) count too."""
    hints = Hints()
    for name, value in _INLINE_FIELD.findall(text):
        value = value.strip()
        if name == "M" and (parse_meter(normalise_field("M", value)) or value == "none"):
            hints.meter = normalise_field("M", value)
        elif name == "L" and re.fullmatch(r"1/\d{1,2}", value):
            hints.unit = value
        elif name == "K" and parse_key(value):
            hints.key = normalise_field("K", value)
        elif name == "R" and normalise_rhythm(value):
            hints.rhythm = normalise_rhythm(value)
    words = _INLINE_FIELD.sub(" ", text)
    hints.meter = hints.meter or read_meter(words)
    hints.key = hints.key or read_key(words)
    hints.rhythm = hints.rhythm or normalise_rhythm(words)
    hints.style = style.asked_in(words)
    parts = _PARTS.search(words)
    if parts:
        hints.parts = _PART_COUNTS[parts.group(1).lower()]
    hints.dotted = True if _DOTTED.search(words) else None
    hints.instrument = instrument_in(words)
    return hints


def instrument_in(text: str) -> str | None:
    """The instrument words name ("a reel for whistle"; `bot.instruments` names), None when none."""
    found = _INSTRUMENT.search(text or "")
    return found.group(1).lower() if found else None


def read_pickers(meter: str | None, key: str | None) -> Hints:
    """Hints from the page's meter and key pickers; "" or "surprise me" mean no choice."""
    hints = Hints()
    if meter is not None and meter.strip().lower() not in SURPRISE:
        value = normalise_field("M", meter)
        if value != "none" and parse_meter(value) is None:
            raise PromptError(f"The meter {meter!r} is not a time signature like 6/8 or 4/4.")
        hints.meter = value
    if key is not None and key.strip().lower() not in SURPRISE:
        value = parse_key(key) and normalise_field("K", key)
        value = value or read_key(key) or read_key(f"in {key}")
        if not value:
            raise PromptError(f"The key {key!r} is not a key like D, Em, A dorian or Bb mixolydian.")
        hints.key = value
    return hints


def _letters_only(line: str) -> str:
    """A line without its comment, quoted chord symbols, decorations and inline fields."""
    return without(strip_comment(line), {"quote", "deco", "inline"}, " ").strip()


def looks_like_music(line: str) -> bool:
    """Whether a line reads as ABC music rather than words (`d2e fed|`, `GABc dBGB`)."""
    if _FIELD_LINE.match(line) or line.lstrip().startswith("%"):
        return False
    text = _letters_only(line)
    if not text:
        return False
    runs = re.findall(r"[A-Za-z]+", text)
    letters = sum(len(r) for r in runs)
    musical = sum(len(r) for r in runs if set(r) <= _NOTE_LETTERS)
    if letters == 0:
        return "|" in text
    has_marks = any(c in _MUSIC_MARKS for c in text)
    return musical / letters >= 0.9 and (has_marks or musical >= 6)


def _split_words_and_music(line: str) -> tuple[str, str] | None:
    """("a jig in D", "d2e fed|") for a line "a jig in D: d2e fed|", else None."""
    match = re.match(r"^(?P<words>[^|:\"]*[A-Za-z][^|:\"]*?):\s*(?P<music>\S.*)$", line)
    if match and looks_like_music(match.group("music")) and not looks_like_music(match.group("words")):
        return match.group("words"), match.group("music")
    return None


def _check_text(text: str) -> str:
    if not isinstance(text, str):
        raise PromptError(f"The prompt must be text, not {type(text).__name__}.")
    if len(text) > MAX_PROMPT_CHARS:
        raise PromptError(
            f"The prompt is {len(text):,} characters long; the limit is {MAX_PROMPT_CHARS:,} characters. "
            "Paste one tune, or just its first part."
        )
    controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\n\r\t")
    if "\0" in text or controls > max(2, len(text) // 20):
        raise PromptError("The prompt looks like binary data, not words or ABC music.")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def looks_like_words(line: str) -> bool:
    """Whether a line is words ("please continue this") rather than music, field or comment."""
    if _FIELD_LINE.match(line) or line.lstrip().startswith("%"):
        return False
    runs = re.findall(r"[A-Za-z]+", _letters_only(line))
    letters = sum(len(r) for r in runs)
    musical = sum(len(r) for r in runs if set(r) <= _NOTE_LETTERS)
    return letters > 0 and musical / letters < 0.9 and any(len(r) >= 2 and not set(r) <= _NOTE_LETTERS for r in runs)


def _is_field(line: str) -> bool:
    return bool(_FIELD_LINE.match(line)) and not line.lstrip().startswith("|")


@dataclass
class _Pasted:
    """The parts of pasted ABC: the tune's lines as written, and the words around them."""

    header_lines: list[str]  # verbatim, in order: fields and comments up to K:, and those after K: before the music
    body_lines: list[str]  # verbatim music lines, with the comments, lyrics and fields among them
    words: str
    ends_with_newline: bool
    notices: list[str]
    tunes: int = 1  # tunes in the paste
    chosen: int = 1  # the one continued (from 1)


# "tune 3", "tune #3", "number 3", "the 3rd tune": which of several pasted tunes to continue.
_TUNE_NUMBER = re.compile(r"\b(?:tune|number|no\.?)\s*#?\s*(\d{1,4})\b|\b(\d{1,4})(?:st|nd|rd|th)\s+(?:tune|one)\b", re.I)
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh",
             8: "eighth", 9: "ninth", 10: "tenth"}


def _which_tune(words: str, count: int) -> int:
    """The tune (from 1) the words ask to continue; the first when they name none."""
    match = _TUNE_NUMBER.search(words)
    if not match:
        return 1
    number = int(match.group(1) or match.group(2))
    if not 1 <= number <= count:
        raise PromptError(f"You asked for tune {number}, but the paste holds {count} tune{'s' if count > 1 else ''}"
                          f"{f' (1 to {count})' if count > 1 else ''}.")
    return number


def _which_words(number: int, count: int) -> str:
    """"the first of 33", "tune 12 of 33"."""
    return f"the {_ORDINALS[number]} of {count}" if number in _ORDINALS else f"tune {number} of {count}"


def _find_abc(text: str) -> _Pasted:
    """Split the text into the tune's lines as written (headers, music) and the words around them."""
    notices: list[str] = []
    lines = text.split("\n")
    ends_with_newline = text.endswith("\n")
    word_lines: list[str] = []
    x_index = next((i for i, line in enumerate(lines) if re.match(r"^\s*X:", line)), None)
    count = chosen = 1
    if x_index is not None:
        word_lines += lines[:x_index]
        tunes = split_tunes("\n".join(line.lstrip() if re.match(r"^\s*X:", line) else line for line in lines[x_index:]))
        count = len(tunes)
        chosen = _which_tune("\n".join(word_lines), count)
        if count > 1:
            title = re.search(r"(?m)^T:[ \t]*(.*\S)", tunes[chosen - 1])
            named = f" ({title.group(1)[:60]})" if title else ""
            notices.append(f"found {count} tunes; continuing {_which_words(chosen, count)}{named}"
                           + ('; say "continue tune 2" to continue another' if chosen == 1 else ""))
            ends_with_newline = True
        lines = tunes[chosen - 1].rstrip("\n").split("\n")
    k_index = next((i for i, line in enumerate(lines) if re.match(r"^\s*K:", line)), None)
    if k_index is not None:
        start = 0
        if x_index is None:
            # Header fields without X:: the block of field and comment lines ending at K:.
            start = k_index
            while start > 0 and (_is_field(lines[start - 1]) or lines[start - 1].lstrip().startswith("%")):
                start -= 1
            word_lines += lines[:start]
        header_lines, rest = lines[start : k_index + 1], lines[k_index + 1 :]
    elif x_index is not None:
        count_ = 0
        while count_ < len(lines) and (_is_field(lines[count_]) or lines[count_].lstrip().startswith("%")):
            count_ += 1
        header_lines, rest = lines[:count_], lines[count_:]
    else:
        header_lines, rest = [], lines
    tune_given = bool(header_lines)
    body: list[str] = []
    in_music = False
    blanks = 0  # blank lines left out between the tune's lines
    for line in rest:
        if not line.strip():
            blanks += 1 if (in_music or header_lines) else 0
            continue
        split = None if in_music else _split_words_and_music(line)
        if split:
            word_lines.append(split[0])
            body.append(split[1])
        elif _is_field(line) or line.lstrip().startswith("%"):
            # Fields and comments between K: and the first music line are still the header for
            # ABC readers (abc2midi, abcjs take an M: or L: there as the tune's own); kept in place.
            (body if in_music else header_lines).append(line)
            continue
        elif looks_like_music(line) or (tune_given and not looks_like_words(line)):
            body.append(line)
        else:
            word_lines.append(line)
            continue
        if blanks:
            # A blank line ends a tune for every ABC reader: the lines after it would be lost.
            notices.append(f"left out {blanks} blank line{'s' if blanks > 1 else ''} inside your tune, as a blank "
                           "line ends a tune for ABC readers")
            blanks = 0
        in_music = True
    return _Pasted(header_lines, body, "\n".join(word_lines), ends_with_newline, notices, count, chosen)


def _infer_meter(body: str, unit: Fraction) -> str | None:
    """The meter whose bar length the pasted bars mostly have (bars between two bar lines)."""
    from bot.notation.bars import Timing, measure, split_bars  # bars imports abc only; kept local to show the one use

    timing = Timing("none", unit)
    bars = split_bars(body)
    lengths = Counter()
    for index, (content, token) in enumerate(bars):
        if index == 0 or not token:
            continue  # the first may be a pickup, the last unfinished
        reading = measure(content, timing)
        if reading.duration > 0:
            lengths[reading.duration] += 1
    if not lengths:
        return None
    length = lengths.most_common(1)[0][0]
    if length == Fraction(3, 4):
        # 6/8 and 3/4 bars are as long; jigs beam in threes (`d2e fed`), waltzes in pairs.
        groups = [measure(g, timing).duration for g in re.split(r"[\s|:]+", body) if g]
        threes = sum(1 for g in groups if g == Fraction(3, 8))
        return "6/8" if threes >= len(groups) / 2 else "3/4"
    for meter in ("4/4", "2/4", "6/8", "9/8", "12/8", "3/8", "3/2", "2/2", "5/4", "5/8", "7/8"):
        if parse_meter(meter) == length:
            return meter
    return None


def _leave_out_unknown(text: str, vocab: str, notices: list[str]) -> str:
    known = set(vocab)
    unknown = sorted({c for c in text if c not in known})
    if unknown:
        notices.append("left out characters the model has never seen: " + ", ".join(repr(c) for c in unknown))
        text = "".join(c for c in text if c in known)
    return text


def parse_prompt(text: str, vocab: str, meter: str | None = None, key: str | None = None) -> Prompt:
    """Read a prompt (words, a whole tune, or a few bars) against the model's alphabet `vocab`.

    `meter` and `key` are the page's pickers: they win over words, and fill what a pasted
    tune leaves out. Raises PromptError for input the bot refuses.
    """
    text = _check_text(text)
    pickers = read_pickers(meter, key)
    if text.strip().lower().strip(" .!?") in SURPRISE:
        return _free_prompt(pickers, [])
    pasted = _find_abc(text)
    notices = list(pasted.notices)
    has_key_line = any(re.match(r"^\s*K:", line) for line in pasted.header_lines)
    if not pasted.body_lines and not has_key_line:
        pasted.words = text  # field-like words ("M:2/4 K:Ador please") with no music: words
    problem = _not_words(pasted.words)
    if problem:
        raise PromptError(problem)
    hints = pickers.over(read_words(pasted.words))
    if not pasted.body_lines and not has_key_line:
        if not hints.any():
            if sum(1 for c in text if not c.isspace()) >= 200:
                # A long text with neither music nor a word the bot knows: not a request to guess at.
                raise PromptError("I found neither ABC music nor a request for a tune in that text (no rhythm "
                                  "like jig or reel, no key like D minor, no meter like 6/8). Paste a tune in "
                                  "ABC, or describe one in a few words.")
            notices.append("found no rhythm, key or time signature in the words; the model chooses")
        return _free_prompt(hints, notices)
    return _pasted_prompt(pasted, hints, vocab, notices)


def _free_prompt(hints: Hints, notices: list[str]) -> Prompt:
    """A prompt of words only: header fields from the hints, the rest left to the model."""
    meter, unit, shown = hints.meter, hints.unit, ""
    if hints.rhythm:
        rhythm_meter, rhythm_unit = RHYTHM_TIMING.get(hints.rhythm, (None, None))
        if meter and rhythm_meter and meter not in RHYTHM_METERS.get(hints.rhythm, {meter}):
            others = sorted(RHYTHM_METERS[hints.rhythm] - {rhythm_meter}, key=lambda m: (len(m), m))
            also = f" (or {', '.join(others)})" if others else ""
            notices.append(f"a {hints.rhythm} is in {rhythm_meter}{also}, not {meter}: this one is in {rhythm_meter}")
            meter = None
        if hints.rhythm in SHOWN_IN_FOUR and meter in (None, "4/4") and unit in (None, "1/8") \
                and hints.style not in style.OLD_BOOKS:
            meter, shown = "2/2", "4/4"
        meter = meter or rhythm_meter
        if unit is None and meter == rhythm_meter:
            unit = rhythm_unit
    prompt = Prompt(
        headers="X:1\n", prime="", music="", meter=meter or "", unit=unit or "", key=hints.key or "",
        rhythm=hints.rhythm, notices=notices, is_continuation=False, style=hints.style, parts=hints.parts,
        dotted=bool(hints.dotted), instrument=hints.instrument, shown_meter=shown,
    )
    if prompt.complete:
        block = header_block(prompt.meter, prompt.unit, prompt.key, prompt.rhythm)
        prompt.headers, prompt.prime = "X:1\n" + prompt.shown_block(block), block
    return prompt


def _pasted_prompt(pasted: _Pasted, hints: Hints, vocab: str, notices: list[str]) -> Prompt:
    """A prompt holding ABC: the tune's lines kept as written, its reading fed to the model only.

    Nothing is written into the person's lines. What the bot reads into them (rhythm, meter,
    unit, key) goes into the prime and is said in a notice; a line is added only where ABC
    needs one (X: to start a tune, K: to end a header, a header for bare bars), before the
    tune or after its header, and a notice says which and why.
    """
    has_key = any(re.match(r"^\s*K:", line) for line in pasted.header_lines)
    # read_tune's body starts after K:; a placeholder K: marks where bare music begins.
    tune = read_tune("\n".join(pasted.header_lines + ([] if has_key else ["K:_"]) + pasted.body_lines))
    if any(name == "V" for name, _ in tune.headers) or any(
        line.startswith("V:") or "[V:" in line or "&" in line for line in tune.body
    ):
        raise PromptError("This tune has several voices; the bot continues single-voice tunes only.")
    own = {name: value for name, value in reversed(tune.headers)}  # the first of each field wins
    own_key = own.get("K") if own.get("K") not in (None, "_") else None
    if own_key is not None and key_problem(own_key):
        raise PromptError(_placed(key_problem(own_key), pasted.header_lines, "K:"))
    # Fields after K: and before the first music line set the tune's M: and L: for ABC readers.
    music_lines = list(tune.body)
    while music_lines and _FIELD_LINE.match(music_lines[0]):
        name, value = _FIELD_LINE.match(music_lines.pop(0)).groups()
        if name in "MLR" and value.strip():
            own[name] = value.strip()
    problem = _not_music("\n".join(music_lines), has_headers=bool(pasted.header_lines))
    if problem:
        raise PromptError(problem)
    header_lines = list(pasted.header_lines)
    # A meter or unit no reader can count by (`M:0/4`, `L:1/0`) is left out, and said: every
    # renderer would fail on it.
    for name, valid in (("M", _valid_meter), ("L", _valid_unit)):
        if name in own and not valid(normalise_field(name, own[name])):
            notices.append(f"left out your {name}:{own.pop(name)} line, which no ABC reader can count by")
            header_lines = [line for line in header_lines if not re.match(rf"^\s*{name}:", line)]
    read_from: list[str] = []  # what the reading below was inferred from, for the notice
    meter = normalise_field("M", own["M"]) if "M" in own else None
    rhythm = (normalise_rhythm(own["R"]) if "R" in own else None) or hints.rhythm
    if meter is None and (hints.meter or rhythm in RHYTHM_TIMING):
        meter = hints.meter or RHYTHM_TIMING[rhythm][0]
        read_from.append(f"the meter from your words" if hints.meter else f"{meter}, a {rhythm}'s meter")
    unit = normalise_field("L", own["L"]) if "L" in own else None
    if unit is None and (hints.unit or (rhythm in RHYTHM_TIMING and meter)):
        unit = hints.unit or RHYTHM_TIMING[rhythm][1]
    body_text = "\n".join(music_lines)
    if meter is None:
        inferred = _infer_meter(body_text, Fraction(unit or "1/8"))
        meter = inferred or "4/4"
        read_from.append("the meter from the bars' lengths" if inferred else "no meter given: 4/4")
    if unit is None:
        # ABC's default unit for a tune with no L: (1/16 below 3/4, else 1/8) once M: is
        # known; for bare bars we read them as 1/8, what people type.
        unit = "1/8" if "M" not in own else ("1/16" if (parse_meter(meter) or 1) < Fraction(3, 4) else "1/8")
    if rhythm is None and music_lines:
        # No R: and no rhythm word: a dance is read from its title, meter and note values, so
        # that its continuation keeps a dance's form (repeated 8-bar parts), and the reply says so.
        rhythm, reason = _guess_rhythm(own.get("T", ""), body_text, meter, unit)
        if rhythm:
            read_from.append(f"the rhythm from its {reason}")
    key_value = normalise_field("K", own_key) if own_key else (hints.key or "C")
    # The meter, unit and key in force where the paste ends (inline `[M:3/4]` or `K:` lines in
    # the music change them): the continuation is written in those.
    end_meter, end_unit, end_key = _in_force_at_end(music_lines, meter, unit, key_value)
    # A tune barred in half bars (4/4 written four eighths a bar) is continued in bars of that
    # size: fed to the model and counted as such (its M: line stays as written).
    halves = _half_bars(body_text, end_meter, end_unit)
    written_meter = end_meter
    if halves:
        read_from.append(f"barred in halves: {halves} bars between the bar lines")
        meter = end_meter = halves

    added: list[str] = []
    prefix: list[str] = []
    if not header_lines:
        prefix = ["X:1", f"M:{meter}", f"L:{unit}", f"K:{key_value}"]
        added.append(f"a header ({', '.join(prefix)}) before your bars, as ABC needs one to read them")
    elif not any(re.match(r"^\s*X:", line) for line in header_lines):
        prefix = ["X:1"]
        added.append("X:1 before your tune, as ABC readers start a tune at an X: line")
    if header_lines and not has_key:
        header_lines.append(f"K:{key_value}")
        added.append(f"K:{key_value} after your header, as ABC ends a tune's header with a K: line")
    headers = "\n".join(prefix + header_lines) + "\n"
    if added:
        notices.append("added " + "; and ".join(added))
    reading = f"read as {_a(rhythm) if rhythm else 'a tune'} in {written_meter}"
    if end_unit != default_unit(written_meter):
        reading += f" (L:{end_unit})"
    reading += f", in {key_in_words(end_key)}"
    notices.append(reading + (f" ({'; '.join(read_from)})" if read_from else "")
                   + "; that reading is the model's only, your lines are as you wrote them")

    music = _verbatim_music(pasted)
    if len(headers) + len(music) > MAX_TUNE_CHARS:
        raise PromptError(f"The tune is {len(headers) + len(music):,} characters long; I can continue tunes of up to "
                          f"{MAX_TUNE_CHARS:,} characters. Paste a shorter tune, or just its first part.")
    # The model reads the music without chord symbols, annotations and decorations (the
    # output keeps them, in `music`): see bot.notation.tokens.model_view.
    prime_body = model_view(body_text)
    if prime_body and music.endswith("\n"):
        prime_body += "\n"
    elif prime_body and music and music[-1] == " " and not prime_body.endswith(" "):
        prime_body += " "
    scale = Fraction(1)
    if unit == end_unit and unit in _READ_IN_EIGHTHS and normalise_field("M", end_meter) in _READ_IN_EIGHTHS[unit] \
            and re.search(r"[|\s]$", music):
        # Crotchet-unit reels and hornpipes (the NMD's `A/2B/2 c`) are read by the model in
        # quavers, the unit it learned them in, and its bars written back in crotchets
        # (bench/continue.py: 13 of 43 such pastes lost their form when the model wrote in L:1/4).
        scale = Fraction(_READ_IN_EIGHTHS_UNIT) / Fraction(unit)
        prime_body = rescale(prime_body, 1 / scale)
        unit = end_unit = _READ_IN_EIGHTHS_UNIT
    block = header_block(meter, unit, key_value, rhythm)
    prime = _leave_out_unknown(block + prime_body, vocab, notices)
    return Prompt(
        headers=headers, prime=prime, music=music, meter=end_meter, unit=end_unit, key=end_key, rhythm=rhythm,
        notices=notices, is_continuation=bool(music.strip()), style=hints.style, parts=hints.parts,
        dotted=bool(hints.dotted), instrument=hints.instrument, scale=scale, halves=halves_style(music),
    )


# Units and meters whose pastes the model reads in quavers instead (see _pasted_prompt).
_READ_IN_EIGHTHS = {"1/4": {"4/4", "2/4", "2/2"}}
_READ_IN_EIGHTHS_UNIT = "1/8"


# Half of a meter's bar, as the meter of bars that long (4/4 barred in halves: 2/4 bars).
_HALF_METERS = {Fraction(1, 2): "2/4", Fraction(3, 8): "3/8", Fraction(3, 4): "6/8", Fraction(1, 1): "2/2"}


def _half_bars(body: str, meter: str, unit: str) -> str | None:
    """The meter of half bars when most of a paste's bars are half its M:'s bar, else None."""
    from bot.notation.bars import Timing, measure, split_bars  # bars imports abc only; kept local to show the one use

    full = parse_meter(meter)
    if not full:
        return None
    timing = Timing("none", Fraction(unit))
    lengths = [measure(content, timing).duration for content, token in split_bars(body)[1:] if token]
    lengths = [length for length in lengths if length > 0]
    if len(lengths) < 3:
        return None
    half = full / 2
    return _HALF_METERS.get(half) if sum(1 for length in lengths if length == half) >= 0.6 * len(lengths) else None


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


_INLINE_TIMING = re.compile(r"\[([MLK]):([^\]\n]*)\]")


def _in_force_at_end(lines: list[str], meter: str, unit: str, key: str) -> tuple[str, str, str]:
    """(meter, unit, key) in force after the music lines: field lines and inline fields change them."""
    values = {"M": meter, "L": unit, "K": key}
    for line in lines:
        field_line = _FIELD_LINE.match(line)
        found = [field_line.groups()] if field_line else _INLINE_TIMING.findall(line)
        for name, value in found:
            value = normalise_field(name, value.strip())
            if name in values and value and (_valid_meter(value) if name == "M" else
                                             _valid_unit(value) if name == "L" else parse_key(value) is not None):
                values[name] = value
    return values["M"], values["L"], values["K"]


# A rhythm for a meter when the title names none (4/4 and 2/2 are told apart by note values).
_METER_RHYTHM = {"6/8": "jig", "9/8": "slip jig", "12/8": "slide", "2/4": "polka", "3/4": "waltz"}
# Token kinds that are music (everything else in a body is stray text).
_MUSIC_KINDS = {"note", "rest", "bar", "chord", "tuplet", "broken", "grace", "quote", "deco", "inline",
                "linefield", "variant", "multirest"}


def _guess_rhythm(title: str, body: str, meter: str, unit: str | None) -> tuple[str | None, str]:
    """(rhythm, what it was read from) for a pasted tune without R:, or (None, "")."""
    named = read_words(title).rhythm if title else None
    if named:
        return named, f"title ({title.strip()[:40]})"
    meter = normalise_field("M", meter)
    if meter in _METER_RHYTHM:
        return _METER_RHYTHM[meter], f"M:{meter}"
    if meter not in ("4/4", "2/2"):
        return None, ""
    lengths = [tok.text.lstrip("^_=").lstrip("ABCDEFGabcdefg,'") for tok in tokenize(body)
               if tok.kind == "note" and not tok.inside]
    if len(lengths) < 8:
        return None, ""
    running = sum(1 for length in lengths if length in ("", "1")) / len(lengths)
    if unit not in (None, "1/8") or running < 0.6:
        return None, ""
    # Dotted pairs (`A>B`, `A3/2B/`) mark a hornpipe; even running eighths a reel.
    dotted = len(re.findall(r">|3/2", body)) / len(lengths)
    rhythm = "hornpipe" if dotted > 0.15 else "reel"
    return rhythm, f"M:{meter} in {'dotted' if rhythm == 'hornpipe' else 'running'} eighths"


def _not_words(words: str) -> str | None:
    """Why the text around the music is neither words nor music (a long run of symbols or
    of letters without spaces: random or binary-like text), or None."""
    chars = [c for c in words if not c.isspace()]
    if len(chars) < 200:
        return None  # a short request is read as it is; the reply says what was understood
    letters = sum(1 for c in chars if c.isalpha() or c in ",.;:'\"!?-()") / len(chars)
    mean_word = len(chars) / max(1, len(words.split()))
    if letters >= 0.75 and mean_word <= 15:
        return None
    return (f"That doesn't read as words or music: {len(chars):,} characters, "
            + (f"{1 - letters:.0%} of them symbols or digits" if letters < 0.75 else
               f"in 'words' {mean_word:.0f} letters long on average")
            + ". Paste a tune in ABC (a K: line, then bars of notes between | bar lines), or describe "
              "one in words, like \"a jig in D\".")


def _not_music(body: str, has_headers: bool) -> str | None:
    """Why a pasted text is not music (few of its characters are notes, rests or bar lines; no
    bar line and no header), or None. A few characters are left to the generator to judge."""
    lines = [strip_comment(line) for line in body.split("\n")]
    text = "\n".join(line for line in lines if line.strip())
    chars = sum(1 for c in text if not c.isspace())
    if chars < 40:
        return None
    tokens = list(tokenize(text))
    covered = sum(sum(1 for c in tok.text if not c.isspace()) for tok in tokens
                  if tok.kind in _MUSIC_KINDS and not tok.inside)
    bars = sum(1 for tok in tokens if tok.kind == "bar")
    share = covered / chars
    if share >= 0.6 and (bars or has_headers or chars < 200):
        return None
    reasons = [f"only {share:.0%} of its {chars:,} characters are notes, rests or bar lines"]
    if not bars:
        reasons.append("it has no bar lines")
    if not has_headers:
        reasons.append("no header lines (K:, M:)")
    return ("That doesn't read as music: " + ", ".join(reasons) + ". Paste a tune in ABC (a K: line, "
            "then bars of notes between | bar lines), or describe one in words, like \"a jig in D\".")


def _placed(message: str, lines: list[str], field: str) -> str:
    """`message` with the line and column (from 1) of the header line starting `field`."""
    for number, line in enumerate(lines, 1):
        if line.lstrip().startswith(field):
            return f"{message} (line {number}, column {len(line) - len(line.lstrip()) + 1})."
    return message + "."


def _valid_meter(value: str) -> bool:
    return value == "none" or parse_meter(value) is not None


def _valid_unit(value: str) -> bool:
    match = re.fullmatch(r"(\d{1,3})/(\d{1,3})", value)
    return bool(match) and int(match.group(1)) > 0 and int(match.group(2)) in (1, 2, 4, 8, 16, 32, 64)


def _verbatim_music(pasted: _Pasted) -> str:
    """The pasted music as the output repeats it; it ends where the continuation starts.

    A trailing newline is kept (the continuation starts a new line); so is one trailing space
    (it ends a beam group). After a comment or a field line the continuation must start on a
    new line, or it would be part of the comment.
    """
    lines = list(pasted.body_lines)
    if not lines:
        return ""
    last = lines[-1]
    music = "\n".join(lines[:-1] + [last.rstrip()])
    tail = last[len(last.rstrip()):]
    if pasted.ends_with_newline or re.search(r"(?<!\\)%", last) or _FIELD_LINE.match(last) or last.rstrip().endswith("\\"):
        return music + "\n"
    return music + (" " if tail else "")
