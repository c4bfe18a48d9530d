"""Packing a tune into as few link characters as a context model can (v=4 links).

A v=3 link deflates the tune, which spends about 4 bits a character; this spends about 2.2 on
the bot's own tunes (`python bench/link_length.py`), so a 32-bar tune with its title and chords
fits in a link of under 300 characters. The method is PPM (prediction by partial matching,
Cleary and Witten 1984) with method C escapes and exclusion, over tokens, driving an arithmetic
coder:

* tokens: the text split greedily, longest first, into the frozen TOKENS (pieces of ABC that
  the bot's tunes are made of, the first byte-pair merges learned on the prior) and single
  characters;
* counts: each context of up to ORDER tokens counts the tokens that followed it in the frozen
  prior (`link_prior.abc`: 1,600 tunes the bot wrote with model 4, titled and harmonised as the
  page does, then O'Neill's tunes for pasted ones; `scripts/make_link_prior.py` says how) and,
  weighted LOCAL_WEIGHT times, in the tune so far, so its own repeats come cheap;
* coding: integer arithmetic only, so every machine reads a link the same way; after the tune's
  end, 16 bits of its CRC-32, so that a changed or cut link is refused, not opened as another
  tune (an arithmetic coder reads any bits as some text, so without the check a changed link
  could open as a plausible other tune; `bench/link_length.py` tries 6,000 such values).

Everything that decides the bits is frozen: the prior's bytes (a test pins its hash), TOKENS,
ORDER, LOCAL_WEIGHT and the coder. Changing any of them needs a new link version; the model
that writes tunes can change freely, because the link carries the tune, not how it was made.
"""

from __future__ import annotations

import functools
import re
import zlib
from collections import defaultdict
from pathlib import Path

PRIOR_PATH = Path(__file__).resolve().parent / "link_prior.abc"
# The first 30 byte-pair merges learned on the prior's first 800 tunes, as text (frozen with it).
TOKENS = (' "', '|"', ' |', 'G"', ' | "', 'D"', '2 ', '7"', '/2', 'm"', '|"G"', '|\n', '|"D"', 'C"',
          ') ', 'A"', 'ed', 'Em"', 'A7"', ' d', '/4', 'D7"', ' | "G"', 'Am"', 'BA', ':1', ' A', 'ef',
          'Bc', ':|\n')
ORDER = 4  # tokens of context; measured best of 3-6 on the bench's tunes
LOCAL_WEIGHT = 4  # a token seen in this tune counts as four seen in the prior
_UNICODE = 0x110000  # a single character is its code point; TOKENS follow, then the end
_END = _UNICODE + len(TOKENS)
_ALPHABET = _END + 1
_SPLIT = re.compile("|".join(re.escape(t) for t in sorted(TOKENS, key=len, reverse=True)) + "|.", re.S)
_TOKEN_ID = {t: _UNICODE + i for i, t in enumerate(TOKENS)}

_BITS = 48  # the coder's register; counts stay under 2**30, far inside it
_TOP = (1 << _BITS) - 1
_HALF = 1 << (_BITS - 1)
_QUARTER = 1 << (_BITS - 2)
_CHECK_BYTES = 2  # of the text's CRC-32, each coded as one of 256 equally likely values
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_B64_VALUE = {c: i for i, c in enumerate(_B64)}


class PackingError(ValueError):
    """A value that is not a packed tune (cut, changed or made otherwise)."""


def _check(text: str) -> list[int]:
    """The bytes of the text's check value: the low 16 bits of its UTF-8 bytes' CRC-32."""
    crc = zlib.crc32(text.encode("utf-8"))
    return [(crc >> (8 * i)) & 0xFF for i in range(_CHECK_BYTES)]


def symbols(text: str) -> list[int]:
    """The text as symbol ids: TOKENS where they fit, longest first, else code points."""
    return [_TOKEN_ID.get(piece, None) or ord(piece) for piece in _SPLIT.findall(text)]


def _text_of(symbol: int) -> str:
    return TOKENS[symbol - _UNICODE] if symbol >= _UNICODE else chr(symbol)


@functools.cache
def _prior() -> list[dict[tuple, tuple[int, ...]]]:
    """Counts of what followed each context of 0..ORDER symbols in the prior (built on first use,
    1.5 s; the chat's warm-up builds it)."""
    tables: list[dict] = [defaultdict(lambda: defaultdict(int)) for _ in range(ORDER + 1)]
    text = PRIOR_PATH.read_text(encoding="utf-8")
    for tune in text.split("\n\n"):
        seq = symbols(tune.strip("\n") + "\n") + [_END]
        for i, symbol in enumerate(seq):
            for k in range(min(ORDER, i) + 1):
                tables[k][tuple(seq[i - k:i])][symbol] += 1
    # Kept flat, (symbol, count, symbol, count, ...) in symbol order: 160,000 contexts take
    # half the memory they take as dicts.
    return [{ctx: tuple(x for pair in sorted(counts.items()) for x in pair) for ctx, counts in table.items()}
            for table in tables]


class _Model:
    """PPM-C with exclusion: for the next symbol, the coder's intervals level by level."""

    def __init__(self):
        self.prior = _prior()
        self.local: list[dict] = [defaultdict(lambda: defaultdict(int)) for _ in range(ORDER + 1)]
        self.seq: list[int] = []

    def levels(self):
        """Yield (ctx symbols and counts sorted by symbol) from the longest context down, each
        without the symbols a longer one offered; the escape's count is their number."""
        excluded: set[int] = set()
        n = len(self.seq)
        for k in range(min(ORDER, n), -1, -1):
            ctx = tuple(self.seq[n - k:])
            flat = self.prior[k].get(ctx, ())
            counts = dict(zip(flat[::2], flat[1::2]))
            for symbol, count in self.local[k].get(ctx, {}).items():
                counts[symbol] = counts.get(symbol, 0) + LOCAL_WEIGHT * count
            for symbol in excluded:
                counts.pop(symbol, None)
            if counts:
                yield sorted(counts.items())
                excluded.update(counts)
        yield excluded  # the last level: every symbol not yet offered, equally likely

    def add(self, symbol: int) -> None:
        n = len(self.seq)
        for k in range(min(ORDER, n) + 1):
            self.local[k][tuple(self.seq[n - k:])][symbol] += 1
        self.seq.append(symbol)


def _uniform_cum(symbol: int, excluded: set[int]) -> int:
    return symbol - sum(1 for s in excluded if s < symbol)


def pack(text: str) -> str:
    """The text as base64url characters (no padding, trailing zero bits left out); PackingError
    for a lone surrogate, which no text that can be shown holds."""
    if any(0xD800 <= ord(c) < 0xE000 for c in text):
        raise PackingError("the tune holds a lone surrogate, which is not a character")
    model, bits = _Model(), []
    low, high, pending = 0, _TOP, 0

    def encode(cum: int, freq: int, total: int) -> None:
        nonlocal low, high, pending
        width = high - low + 1
        high = low + width * (cum + freq) // total - 1
        low = low + width * cum // total
        while True:
            if high < _HALF:
                bits.append(0), bits.extend([1] * pending)
                pending = 0
            elif low >= _HALF:
                bits.append(1), bits.extend([0] * pending)
                pending, low, high = 0, low - _HALF, high - _HALF
            elif low >= _QUARTER and high < _HALF + _QUARTER:
                pending, low, high = pending + 1, low - _QUARTER, high - _QUARTER
            else:
                return
            low, high = 2 * low, 2 * high + 1

    for symbol in symbols(text) + [_END]:
        for level in model.levels():
            if isinstance(level, set):
                encode(_uniform_cum(symbol, level), 1, _ALPHABET - len(level))
                break
            total = sum(c for _, c in level)
            cum = 0
            for s, c in level:
                if s == symbol:
                    encode(cum, c, total + len(level))
                    break
                cum += c
            else:  # not seen here: escape to a shorter context
                encode(total, len(level), total + len(level))
                continue
            break
        model.add(symbol)
    for byte in _check(text):
        encode(byte, 1, 256)
    # Two more bits settle which quarter the final interval holds.
    pending += 1
    bits.append(0 if low < _QUARTER else 1), bits.extend([1 if low < _QUARTER else 0] * pending)
    while bits and bits[-1] == 0:  # the reader takes missing bits as zeros
        bits.pop()
    bits.extend([0] * (-len(bits) % 6))
    return "".join(_B64[int("".join(map(str, bits[i:i + 6])), 2)] for i in range(0, len(bits), 6))


def unpack(value: str, max_chars: int) -> str:
    """The text packed in `value`; PackingError if it is not one `pack` makes, or unpacks to more
    than `max_chars` characters."""
    if any(c not in _B64_VALUE for c in value) or value.endswith("A"):
        raise PackingError("it is not a packed tune (the link may have been cut or changed)")
    stream = "".join(format(_B64_VALUE[c], "06b") for c in value)
    position = 0

    def bit() -> int:
        nonlocal position
        position += 1
        return int(stream[position - 1]) if position <= len(stream) else 0

    model, out, chars = _Model(), [], 0
    low, high = 0, _TOP
    code = 0
    for _ in range(_BITS):
        code = 2 * code + bit()

    def decode(total: int) -> int:
        return ((code - low + 1) * total - 1) // (high - low + 1)

    def narrow(cum: int, freq: int, total: int) -> None:
        nonlocal low, high, code
        width = high - low + 1
        high = low + width * (cum + freq) // total - 1
        low = low + width * cum // total
        while True:
            if high < _HALF:
                pass
            elif low >= _HALF:
                low, high, code = low - _HALF, high - _HALF, code - _HALF
            elif low >= _QUARTER and high < _HALF + _QUARTER:
                low, high, code = low - _QUARTER, high - _QUARTER, code - _QUARTER
            else:
                return
            low, high, code = 2 * low, 2 * high + 1, 2 * code + bit()

    while True:
        # A value read well past its end without reaching the end symbol was cut.
        if position > len(stream) + 2 * _BITS:
            raise PackingError("the packed tune is cut short (the link may have been cut)")
        for level in model.levels():
            if isinstance(level, set):
                size = _ALPHABET - len(level)
                target = decode(size)
                symbol = _nth_unexcluded(target, level)
                narrow(target, 1, size)
                break
            total = sum(c for _, c in level)
            target = decode(total + len(level))
            if target >= total:
                narrow(total, len(level), total + len(level))
                continue
            cum = 0
            for symbol, c in level:
                if target < cum + c:
                    break
                cum += c
            narrow(cum, c, total + len(level))
            break
        if symbol == _END:
            break
        if 0xD800 <= symbol < 0xE000:  # a lone surrogate is no character of any text
            raise PackingError("the packed tune is damaged (the link may have been changed)")
        piece = _text_of(symbol)
        chars += len(piece)
        if chars > max_chars:
            raise PackingError(f"the tune is longer than the {max_chars:,} characters a link may carry")
        out.append(piece)
        model.add(symbol)
    text = "".join(out)
    for byte in _check(text):
        target = decode(256)
        if target != byte:
            raise PackingError("the packed tune is damaged (the link may have been cut or changed)")
        narrow(target, 1, 256)
    # One text has one packing: anything else (extra characters, a changed tail) is damage.
    if pack(text) != value:
        raise PackingError("the packed tune is damaged (the link may have been cut or changed)")
    return text


def _nth_unexcluded(target: int, excluded: set[int]) -> int:
    """The symbol at `target` among the alphabet's symbols not in `excluded`, in order."""
    symbol = target
    for s in sorted(excluded):
        if s <= symbol:
            symbol += 1
        else:
            break
    return symbol
