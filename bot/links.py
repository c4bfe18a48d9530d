"""The "Link to this tune": the tune and the page's settings as URL query parameters, and back.

Four formats:

* v=4 (`?v=4&transpose=2&tempo=110&abc=...`), what links are made as now: the tune itself,
  packed by a context model over a frozen prior of tunes (`bot.link_packing`): about half the
  length of v=3 on the bot's tunes, so a 32-bar tune's link stays under 300 characters
  (`python bench/link_length.py`).
* v=3: the tune's UTF-8 text raw-deflated (level 9, no zlib header or checksum) against a preset
  dictionary of real ABC (`link_dictionary.abc`, frozen: every v=3 link needs its exact bytes),
  then base64url without padding; every such link still opens its tune byte for byte
  (tests/data/links_v3.json).
* v=2 (`?v=2&...&abc=eNpLtDI0...`): the same with plain zlib level 9 and no dictionary; every
  such link still opens its tune byte for byte (tests/data/old_links.json).
* v=1 (no `v`, no `abc`: `?prompt=a+jig+in+D&seed=42&temperature=0.9&bars=16`) carries only
  the prompt, seed and settings, so the tune is written again by the current model; such a
  link reads with `regenerated` True so the page can say so.

Reading a link never raises: a value that is missing, malformed or out of range falls back to
its default (and is named in `problems`), because a link is user text from anywhere. That
includes a damaged, oversized or zip-bomb `abc` (decompression stops at MAX_LINK_ABC).
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlencode

from bot import link_packing

# Ranges the page's controls allow; the same bounds are enforced on the server.
TEMPERATURE_RANGE = (0.1, 2.0)
BARS_RANGE = (0, 64)  # 0: the rhythm's usual length
TOP_K_RANGE = (0, 100)
TEMPO_RANGE = (30, 300)
SEED_RANGE = (0, 2**31 - 1)
TRANSPOSE_RANGE = (-12, 12)  # semitones
MAX_LINK_PROMPT = 4000  # characters of prompt a link may carry (a short pasted tune fits)
# Characters of ABC a link may carry: the renderer's own limit (bot.render.LIMITS.max_chars),
# eight times the longest tune in music21's corpus. Decompression stops past it.
MAX_LINK_ABC = 20_000
# Encoded `abc` longer than this cannot hold MAX_LINK_ABC characters (UTF-8 is at most 4 bytes
# a character, deflate adds little to incompressible data, base64 adds a third).
_MAX_ENCODED_ABC = 4 * MAX_LINK_ABC * 4 // 3 + 1000
LINK_VERSION = 4  # the format to_query writes when the link carries the tune
READ_VERSIONS = ("2", "3", "4")  # the formats a link's `abc` is read from
# The preset dictionary of v=3 links: 32 KB of O'Neill's 1850 (out of copyright) and common
# header lines. Frozen: a changed byte would open every v=3 link made so far as garbage, so a
# test pins its hash; a new dictionary needs a new version number.
DICTIONARY = (Path(__file__).resolve().parent / "link_dictionary.abc").read_bytes()
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
# Control characters a tune never holds (tab, newline and carriage return are fine).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class TuneLink:
    """Everything that decides a tune: the tune itself (v=2 and later), or the prompt, seed and settings."""

    prompt: str = ""  # words or pasted ABC; "" means "surprise me"
    seed: int | None = None  # None: a random seed is drawn when generating
    temperature: float = 1.0  # sampling temperature
    bars: int = 16  # length of the new music in bars
    top_k: int = 0  # 0: sample from the whole alphabet
    meter: str | None = None  # None: the prompt or the model decides
    key: str | None = None  # None: the prompt or the model decides
    tempo: int | None = None  # beats per minute; None: the tune's own Q: or the default
    instrument: str | None = None  # None: the renderer's default
    # The instrument playing chords under the tune; None: the melody alone. A tune-carrying
    # link's tune already holds the chords the card played (the harmoniser never writes into a
    # bar that has a chord), so they come back as they were.
    accompaniment: str | None = None
    abc: str | None = None  # the tune itself (v=2 and later); None: regenerate it from prompt and seed
    transpose: int = 0  # semitones the tune is played and shown moved by
    # Values ignored on reading. Compared too: a damaged link (`?v=2&abc=!!!***`) is not an
    # empty one, and the page must say what was wrong with it rather than open blank.
    problems: list[str] = field(default_factory=list)

    def has_tune(self) -> bool:
        """True when the link names a tune to regenerate (it has a prompt or a seed)."""
        return bool(self.prompt) or self.seed is not None

    @property
    def regenerated(self) -> bool:
        """True when opening the link writes the tune again with the current model (no `abc`)."""
        return self.abc is None and self.has_tune()

    def to_query(self, version: int | None = None) -> str:
        """The query string (without `?`); settings at their default are left out.

        With `abc` it is a link of `version` (2 to 4; by default v=4, or v=3 where deflate packs
        the tune shorter, as it does a few lines of rare characters), the tune last;
        ValueError for a tune over MAX_LINK_ABC.
        """
        default = TuneLink()
        packed = None
        if self.abc is not None and version is None:
            version, packed = min(((v, encode_abc(self.abc, v)) for v in (LINK_VERSION, 3)),
                                 key=lambda pair: len(pair[1]))  # a tie keeps v=4
        params = {"v": str(version)} if self.abc is not None else {}
        for f in fields(self):
            if f.name in ("problems", "abc"):
                continue
            value = getattr(self, f.name)
            if value == getattr(default, f.name) or value is None:
                continue
            params[f.name] = _format(value)
        if self.abc is not None:
            params["abc"] = packed if packed is not None else encode_abc(self.abc, version)
        return urlencode(params)


def encode_abc(abc: str, version: int = LINK_VERSION) -> str:
    """ABC text as a link value of `version` (4: packed by `bot.link_packing`; 3: raw deflate
    with DICTIONARY; 2: zlib), base64url without `=` padding."""
    if len(abc) > MAX_LINK_ABC:
        raise ValueError(f"a link can carry a tune of up to {MAX_LINK_ABC:,} characters, not {len(abc):,}")
    if version == 4:
        return link_packing.pack(abc)
    if version == 2:
        packed = zlib.compress(abc.encode("utf-8"), 9)
    else:
        deflater = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, DICTIONARY)
        packed = deflater.compress(abc.encode("utf-8")) + deflater.flush()
    return base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def decode_abc(value: str, version: int = LINK_VERSION) -> str:
    """The ABC text of a link value of `version`; ValueError saying what is wrong (damaged, too
    long, not text)."""
    if len(value) > _MAX_ENCODED_ABC:
        raise ValueError(f"{len(value):,} characters of encoded tune is more than a link can hold")
    if version == 4:
        abc = link_packing.unpack(value, MAX_LINK_ABC)  # its PackingError says what is wrong
        if _CONTROL.search(abc):
            raise ValueError("the tune holds control characters, which ABC text never does")
        return abc
    if not _BASE64URL.fullmatch(value) or len(value) % 4 == 1:
        raise ValueError("it is not base64url text (the link may have been cut or changed)")
    try:
        data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except binascii.Error:
        raise ValueError("it is not base64url text (the link may have been cut or changed)") from None
    # v=2: zlib's header and checksum; v=3: raw deflate against the dictionary.
    inflater = zlib.decompressobj() if version == 2 else zlib.decompressobj(-15, DICTIONARY)
    try:
        # At most 4 bytes a character: anything longer is refused without inflating the rest.
        raw = inflater.decompress(data, 4 * MAX_LINK_ABC + 1)
    except zlib.error:  # zlib's own words ("Error -3 while decompressing") say nothing to a person
        raise ValueError("the compressed tune is damaged (the link may have been cut or changed)") from None
    if len(raw) > 4 * MAX_LINK_ABC or inflater.unconsumed_tail:
        raise ValueError(f"the tune is longer than the {MAX_LINK_ABC:,} characters a link may carry")
    if not inflater.eof or inflater.unused_data:
        raise ValueError("the compressed tune is cut short or has extra data (the link may have been cut)")
    try:
        abc = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the tune is not UTF-8 text") from None
    if len(abc) > MAX_LINK_ABC:
        raise ValueError(f"the tune is longer than the {MAX_LINK_ABC:,} characters a link may carry")
    if _CONTROL.search(abc):
        raise ValueError("the tune holds control characters, which ABC text never does")
    return abc


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _number(raw: str, kind, lo, hi):
    value = kind(float(raw)) if kind is int else kind(raw)
    if value != value or not lo <= value <= hi:  # NaN or out of range
        raise ValueError(raw)
    return value


def from_query(params: Mapping[str, str], meters=(), keys=(), instruments=(), accompaniments=()) -> TuneLink:
    """A TuneLink from query parameters; bad values are dropped and listed in `problems`.

    `meters`, `keys`, `instruments` and `accompaniments` are the choices the page offers; a
    value outside a non-empty choice list is dropped.
    """
    link = TuneLink()
    if params.get("link") == "too-long":  # bot.serving.LongLinks sent an overlong address here
        link.problems.append("the address was too long to be a link to a tune (it may have been "
                             "pasted twice or joined to other text)")
    numbers = {
        "seed": (int, *SEED_RANGE),
        "temperature": (float, *TEMPERATURE_RANGE),
        "bars": (int, *BARS_RANGE),
        "top_k": (int, *TOP_K_RANGE),
        "tempo": (int, *TEMPO_RANGE),
        "transpose": (int, *TRANSPOSE_RANGE),
    }
    for name, (kind, lo, hi) in numbers.items():
        raw = params.get(name)
        if raw is None or raw == "":
            continue
        try:
            setattr(link, name, _number(str(raw), kind, lo, hi))
        except (ValueError, OverflowError):
            link.problems.append(f"{name}={str(raw)[:20]!r} (expected {lo} to {hi})")
    prompt = params.get("prompt")
    if prompt:
        link.prompt = str(prompt)[:MAX_LINK_PROMPT]
    for name, choices in (("meter", meters), ("key", keys), ("instrument", instruments),
                          ("accompaniment", accompaniments)):
        raw = params.get(name)
        if not raw:
            continue
        if choices and raw not in choices:
            link.problems.append(f"{name}={str(raw)[:20]!r} (not one of the choices)")
            continue
        setattr(link, name, str(raw))
    _read_abc(params, link)
    return link


def _read_abc(params: Mapping[str, str], link: TuneLink) -> None:
    """Set `link.abc` from a tune-carrying link's `abc`; a value that cannot be read goes to `problems`."""
    raw = params.get("abc")
    if raw is None or raw == "":
        return
    version = str(params.get("v") or "")
    if version not in READ_VERSIONS:
        # Another format may encode the tune otherwise: better no tune than a wrong one.
        link.problems.append(f"abc in a link of version {version[:10] or 'none'!r} "
                             f"(this page reads tunes from v={' and v='.join(READ_VERSIONS)} links)")
        return
    try:
        link.abc = decode_abc(str(raw), int(version))
    except ValueError as err:
        link.problems.append(f"abc (the tune in the link cannot be read: {err})")
