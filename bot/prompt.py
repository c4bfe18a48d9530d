"""What a person typed or pasted -> the header lines to print and the text to prime the model with.

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
from bot.notation.tokens import model_view, tokenize, without
from bot.notation.abc import (
    header_block, key_problem, normalise_field, normalise_rhythm, parse_key, parse_meter, read_tune, split_tunes,
    strip_comment,
)

# Longest prompt accepted: a long tune is about 2,000 characters; more than this is not a
# tune to continue, and the whole prompt is primed through the model before the first note.
MAX_PROMPT_CHARS = 5000

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
    return hints


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


@dataclass
class _Pasted:
    """The parts of pasted ABC: verbatim header lines, verbatim body lines, the words around."""

    header_lines: list[str]
    body_lines: list[str]
    words: str
    ends_with_newline: bool
    notices: list[str]


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


def _find_abc(text: str) -> _Pasted:
    """Split the text into verbatim header lines, verbatim music lines and the words around them."""
    notices: list[str] = []
    lines = text.split("\n")
    ends_with_newline = text.endswith("\n")
    word_lines: list[str] = []
    x_index = next((i for i, line in enumerate(lines) if re.match(r"^\s*X:", line)), None)
    if x_index is not None:
        word_lines += lines[:x_index]
        tunes = split_tunes("\n".join(line.lstrip() if re.match(r"^\s*X:", line) else line for line in lines[x_index:]))
        if len(tunes) > 1:
            notices.append(f"found {len(tunes)} tunes; continuing the first")
            ends_with_newline = True
        lines = tunes[0].rstrip("\n").split("\n")
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
        count = 0
        while count < len(lines) and (_is_field(lines[count]) or lines[count].lstrip().startswith("%")):
            count += 1
        header_lines, rest = lines[:count], lines[count:]
    else:
        header_lines, rest = [], lines
    tune_given = bool(header_lines)
    body: list[str] = []
    in_music = False
    for line in rest:
        if not line.strip():
            continue  # a blank line would end the tune for every ABC reader
        split = None if in_music else _split_words_and_music(line)
        if split:
            word_lines.append(split[0])
            body.append(split[1])
        elif _is_field(line) or line.lstrip().startswith("%"):
            if in_music:
                body.append(line)
            elif _is_field(line):
                header_lines.append(line)
            continue
        elif looks_like_music(line) or (tune_given and not looks_like_words(line)):
            body.append(line)
        else:
            word_lines.append(line)
            continue
        in_music = True
    return _Pasted(header_lines, body, "\n".join(word_lines), ends_with_newline, notices)


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


def _tidy_header(lines: list[str], fields: dict[str, str]) -> str:
    """Verbatim header lines with X: first and any missing M:, L:, K: added (K: last)."""
    out = [line.rstrip() for line in lines]
    names = [(_FIELD_LINE.match(line).group(1) if _FIELD_LINE.match(line) else "") for line in out]
    if "X" not in names:
        out.insert(0, "X:1")
    else:
        index = names.index("X")
        out.insert(0, out.pop(index))
    k_at = next((i for i, line in enumerate(out) if re.match(r"^\s*K:", line)), None)
    added = [f"{name}:{fields[name]}" for name in ("M", "L", "R") if name in fields]
    if k_at is None:
        out += added + [f"K:{fields['K']}"]
    else:
        out[k_at:k_at] = added
    return "\n".join(out) + "\n"


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
    meter, unit = hints.meter, hints.unit
    if hints.rhythm:
        rhythm_meter, rhythm_unit = RHYTHM_TIMING.get(hints.rhythm, (None, None))
        meter = meter or rhythm_meter
        if unit is None and meter == rhythm_meter:
            unit = rhythm_unit
    prompt = Prompt(
        headers="X:1\n", prime="", music="", meter=meter or "", unit=unit or "", key=hints.key or "",
        rhythm=hints.rhythm, notices=notices, is_continuation=False, style=hints.style,
    )
    if prompt.complete:
        block = header_block(prompt.meter, prompt.unit, prompt.key, prompt.rhythm)
        prompt.headers, prompt.prime = "X:1\n" + block, block
    return prompt


def _pasted_prompt(pasted: _Pasted, hints: Hints, vocab: str, notices: list[str]) -> Prompt:
    """A prompt holding ABC: its headers kept, missing fields filled, its music continued."""
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
    problem = _not_music("\n".join(tune.body), has_headers=bool(pasted.header_lines))
    if problem:
        raise PromptError(problem)
    header_lines = list(pasted.header_lines)
    # A meter or unit no reader can count by (`M:0/4`, `L:1/0`) is replaced, not kept.
    for name, valid in (("M", _valid_meter), ("L", _valid_unit)):
        if name in own and not valid(normalise_field(name, own[name])):
            notices.append(f"replaced {name}:{own.pop(name)}, which is not a usable value")
            header_lines = [line for line in header_lines if not re.match(rf"^\s*{name}:", line)]
    fields: dict[str, str] = {}  # header lines to add
    meter = normalise_field("M", own["M"]) if "M" in own else None
    rhythm = (normalise_rhythm(own["R"]) if "R" in own else None) or hints.rhythm
    if meter is None:
        meter = hints.meter or (RHYTHM_TIMING.get(rhythm or "", (None,))[0])

    unit = normalise_field("L", own["L"]) if "L" in own else None
    if unit is None:
        unit = hints.unit or (RHYTHM_TIMING[rhythm][1] if rhythm in RHYTHM_TIMING and meter else None)
    body_text = "\n".join(tune.body)
    if meter is None:
        inferred = _infer_meter(body_text, Fraction(unit or "1/8"))
        meter = inferred or "4/4"
        notices.append(f"no time signature given; {'the bars read as' if inferred else 'using'} M:{meter}")
    if unit is None:
        # ABC's default unit for a tune with no L: (1/16 below 3/4, else 1/8) once M: is
        # known; for bare bars we read them as 1/8, what people type.
        unit = "1/8" if "M" not in own else ("1/16" if (parse_meter(meter) or 1) < Fraction(3, 4) else "1/8")
    if rhythm is None and tune.body:
        # No R: and no rhythm word: a dance is read from its title, meter and note values, so
        # that its continuation keeps a dance's form (repeated 8-bar parts), and the reply says so.
        rhythm, reason = _guess_rhythm(own.get("T", ""), body_text, meter, unit)
        if rhythm:
            notices.append(f"no R: line; read it as a {rhythm} from its {reason}")
    key_value = normalise_field("K", own_key) if own_key else (hints.key or "C")
    if "M" not in own:
        fields["M"] = meter
    if "L" not in own:
        fields["L"] = unit
    if "R" not in own and rhythm:
        fields["R"] = rhythm
    if own_key is None:
        fields["K"] = key_value
    headers = _tidy_header(header_lines, fields)

    music = _verbatim_music(pasted)
    # The model reads the music without chord symbols, annotations and decorations (the
    # output keeps them, in `music`): see bot.notation.tokens.model_view.
    prime_body = model_view(body_text)
    if prime_body and music.endswith("\n"):
        prime_body += "\n"
    elif prime_body and music and music[-1] == " " and not prime_body.endswith(" "):
        prime_body += " "
    block = header_block(meter, unit, key_value, rhythm)
    prime = _leave_out_unknown(block + prime_body, vocab, notices)
    return Prompt(
        headers=headers, prime=prime, music=music, meter=meter, unit=unit, key=key_value, rhythm=rhythm,
        notices=notices, is_continuation=bool(music.strip()), style=hints.style,
    )


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
