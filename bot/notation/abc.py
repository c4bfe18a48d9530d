"""ABC notation text: split files into tunes, read headers, normalise tunes (no torch here).

The normalised form is what the model learns and what the generator emits:

    M:6/8
    L:1/8
    R:jig
    K:D
    <body lines>

Musical headers come in this fixed order (R: only when it names a known rhythm); all other
metadata is dropped. In a training stream tunes are separated by one blank line, so the model
learns that "\\n\\n" ends a tune.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

# The end of a tune in the model's text stream: a normalised tune never holds a blank line.
TUNE_END = "\n\n"

# Header fields the model conditions on, in the order they are written.
MUSICAL_HEADERS = ("M", "L", "R", "K")

# Rhythm names we keep in R:, mapped from the spellings found in real collections. Anything
# else (Essen's German song genres, "???") is metadata, not rhythm, and is dropped.
RHYTHMS = {
    "reel": "reel", "jig": "jig", "double jig": "jig", "single jig": "jig",
    "slip jig": "slip jig", "slipjig": "slip jig", "hop jig": "slip jig",
    "hornpipe": "hornpipe", "polka": "polka", "waltz": "waltz", "march": "march",
    "slide": "slide", "strathspey": "strathspey", "air": "air", "slow air": "air",
    "schottische": "schottische", "mazurka": "mazurka", "barndance": "barndance",
    "set dance": "set dance", "fling": "fling", "highland fling": "fling",
    "quickstep": "march", "quick step": "march", "country dance": "country dance",
    "minuet": "minuet", "song": "air", "lament": "air",
}

_FIELD_LINE = re.compile(r"^([A-Za-z]):\s*(.*)$")
_KEY = re.compile(
    r"^([A-G])((?-i:[#b])?)\s*(maj|major|ion|ionian|m|min|minor|aeo|aeolian|dor|dorian|phr|phrygian|"
    r"lyd|lydian|mix|mixolydian|loc|locrian)?(?![A-Za-z])",
    re.IGNORECASE,
)
_MODE_ABBREV = {
    "": "", "maj": "", "major": "", "ion": "", "ionian": "",
    "m": "m", "min": "m", "minor": "m", "aeo": "m", "aeolian": "m",
    "dor": "dor", "dorian": "dor", "phr": "phr", "phrygian": "phr",
    "lyd": "lyd", "lydian": "lyd", "mix": "mix", "mixolydian": "mix", "loc": "loc", "locrian": "loc",
}


class AbcError(ValueError):
    """Raised for ABC text that cannot be read; the message names the problem."""


@dataclass
class Tune:
    """One tune split into its header fields (in file order) and body lines."""

    headers: list[tuple[str, str]] = field(default_factory=list)
    body: list[str] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        """The first value of header field `name`, or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None


def split_tunes(text: str) -> list[str]:
    """Split a multi-tune ABC file into the text of each tune (each starting at `X:`)."""
    starts = [m.start() for m in re.finditer(r"(?m)^X:", text)]
    return [text[a:b] for a, b in zip(starts, starts[1:] + [len(text)])]


def strip_comment(line: str) -> str:
    """Remove a `%` comment (and `%%` directives) from one line, keeping an escaped `\\%`."""
    match = re.search(r"(?<!\\)%", line)
    return line if match is None else line[: match.start()]


def blank_comments(text: str) -> str:
    """`text` with each `%` comment (and `%%` directive) turned to spaces: positions stay, the words
    go (a comment's letters would read as notes: "% second half" holds e, c, d, a, f)."""
    return "\n".join(line[: len(strip_comment(line))].ljust(len(line)) for line in text.split("\n"))


def read_tune(text: str) -> Tune:
    """Read one tune: header lines up to and including `K:`, then body lines.

    Comments, line continuations and blank lines are removed from the body; field lines in
    the body other than M:, L:, K: (lyrics, parts, notes) are dropped.
    """
    tune = Tune()
    in_body = False
    pending = ""
    for raw in text.splitlines():
        line = strip_comment(raw).rstrip()
        if not in_body:
            match = _FIELD_LINE.match(line.strip())
            if match:
                name, value = match.group(1), match.group(2).strip()
                tune.headers.append((name, value))
                if name == "K":
                    in_body = True
            continue
        if line.endswith("\\"):
            # A trailing backslash continues the music on the next line.
            pending += line[:-1]
            continue
        line, pending = pending + line, ""
        line = re.sub(r"[ \t]+", " ", line).strip()
        if not line:
            continue
        match = _FIELD_LINE.match(line)
        if match and not line.startswith("|"):
            name, value = match.group(1), match.group(2).strip()
            if name in "MLK":
                tune.body.append(f"{name}:{normalise_field(name, value)}")
            elif name == "V":
                tune.body.append(line)  # kept so the multi-voice check can see it
            continue
        tune.body.append(line)
    if pending.strip():
        tune.body.append(re.sub(r"[ \t]+", " ", pending).strip())
    return tune


def parse_meter(value: str) -> Fraction | None:
    """The length of one bar in whole notes for an M: value; None for free meter."""
    value = value.strip()
    if value in ("C", "C|"):  # common time and cut time both fill one whole note
        return Fraction(1)
    match = re.fullmatch(r"(\d+(?:\+\d+)*)/(\d+)", value)
    if not match:
        return None
    numerator = sum(int(n) for n in match.group(1).split("+"))
    denominator = int(match.group(2))
    if numerator == 0 or denominator == 0 or numerator > 64 or denominator > 64:
        return None
    return Fraction(numerator, denominator)


def default_unit(meter: str) -> str:
    """ABC's default unit note length: 1/16 for meters shorter than 3/4, else 1/8."""
    bar = parse_meter(meter)
    if bar is not None and bar < Fraction(3, 4):
        return "1/16"
    return "1/8"


def parse_key(value: str) -> tuple[str, str] | None:
    """(tonic, mode) for a K: value such as `Gm`, `D mix`, `Bb`, `F#dor`; None if not a key."""
    match = _KEY.match(value.strip())
    if not match:
        return None
    rest = value.strip()[match.end():].strip()
    # Explicit accidentals (`K:D exp ^g`) change the signature: not a plain key.
    if rest and not re.fullmatch(r"((clef|middle|transpose|octave|stafflines)=\S+\s*)*", rest):
        return None
    tonic = match.group(1).upper() + match.group(2)
    mode = _MODE_ABBREV[(match.group(3) or "").lower()]
    return tonic, mode


# What may follow a key's tonic and mode in K: (ABC 2.1, 3.1.14): clef names, name=value pairs,
# explicit accidentals, `exp`, an octave shift.
_KEY_EXTRA = re.compile(r"(?i:exp|treble|bass|alto|tenor|perc|none|[_^=]{1,2}[a-g]|\w+=\S+|[+-]8)")


def key_problem(value: str) -> str | None:
    """Why a K: value is not a key ABC knows, or None when it is one: a tonic A-G with an
    optional #/b and mode, `none`, `HP`/`Hp` (bagpipes), a bare clef, explicit accidentals."""
    text = value.split("%", 1)[0].strip()
    if text.lower() in ("", "none", "hp"):
        return None
    match = _KEY.match(text)
    rest = text[match.end():] if match else text
    words = rest.split()
    if all(_KEY_EXTRA.fullmatch(word) for word in words) and (match or words):
        return None
    shown = text if len(text) <= 20 else text[:20] + "…"
    return (f"K:{shown} is not a key (write a tonic A to G, with # or b and a mode if wanted: "
            f"K:D, K:F#m, K:Ador, K:Bb mix)")


def normalise_field(name: str, value: str) -> str:
    """A header value in the model's form (`M:C` -> `4/4`, `K: D mix` -> `Dmix`)."""
    value = re.sub(r"\s+", " ", value.strip())
    if name == "M":
        if value in ("C", "c"):
            return "4/4"
        if value in ("C|", "c|"):
            return "2/2"
        return value.replace(" ", "")
    if name == "L":
        return value.replace(" ", "")
    if name == "K":
        key = parse_key(value)
        if key is None:
            return value
        return key[0] + key[1]
    return value


def normalise_rhythm(value: str) -> str | None:
    """The canonical rhythm name in an R: value, or None when it names no known rhythm."""
    text = re.sub(r"[^a-z ]+", " ", value.lower())
    text = re.sub(r"\s+", " ", text).strip()
    if text in RHYTHMS:
        return RHYTHMS[text]
    # Longest known name contained in the text wins ("double jig" before "jig").
    for name in sorted(RHYTHMS, key=len, reverse=True):
        if re.search(rf"\b{re.escape(name)}\b", text):
            return RHYTHMS[name]
    return None


def header_block(meter: str, unit: str, key: str, rhythm: str | None = None) -> str:
    """The normalised header lines, in the model's fixed order, ending with a newline."""
    lines = [f"M:{meter}", f"L:{unit}"]
    if rhythm:
        lines.append(f"R:{rhythm}")
    lines.append(f"K:{key}")
    return "\n".join(lines) + "\n"


def normalise(text: str) -> str:
    """One tune's text in the normalised training form.

    Raises AbcError (with the reason) for a tune the model should not learn from: no K:,
    several voices, an empty body, or characters outside printable ASCII in the music.
    """
    tune = read_tune(text)
    key = tune.get("K")
    if key is None:
        raise AbcError("no K: header")
    if any(name == "V" for name, _ in tune.headers) or any(
        line.startswith("V:") or "[V:" in line or "&" in line for line in tune.body
    ):
        raise AbcError("several voices")
    if not tune.body:
        raise AbcError("no music after K:")
    body = "\n".join(tune.body)
    bad = sorted({c for c in body if not (" " <= c <= "~" or c == "\n")})
    if bad:
        raise AbcError(f"characters outside printable ASCII: {''.join(bad)!r}")
    meter = normalise_field("M", tune.get("M") or "none")
    unit = normalise_field("L", tune.get("L") or default_unit(meter))
    rhythm_raw = tune.get("R")
    rhythm = normalise_rhythm(rhythm_raw) if rhythm_raw else None
    return header_block(meter, unit, normalise_field("K", key), rhythm) + body + "\n"


# A K: value's mode in words ("Ador" -> "A dorian"), for replies that say how a tune was read.
_MODE_WORDS = {"": " major", "m": " minor", "dor": " dorian", "phr": " phrygian", "lyd": " lydian",
               "mix": " mixolydian", "loc": " locrian"}


def key_in_words(key: str) -> str:
    """A K: value in words: "Amix" -> "A mixolydian", "D" -> "D major" (unread values as they are)."""
    parsed = parse_key(key)
    return f"{parsed[0]}{_MODE_WORDS.get(parsed[1], '')}" if parsed else key
