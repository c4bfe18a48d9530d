"""Checks a person would want told about a tune they wrote or edited: bars whose length does
not fit the meter. The tune still plays; the reply names the bar and both lengths."""

from __future__ import annotations

from fractions import Fraction

from bot.notation.abc import parse_meter
from bot.notation.bars import read_body

# Bar lines next to which a short bar is ordinary: a part's pickup (`|:A|`), the bar before a
# repeat or a double bar, and endings (`|1`, `:|2`).
_PART_EDGE = (":", "[", "]", "||")


def _in_units(length: Fraction, unit: Fraction) -> str:
    count = length / unit
    shown = str(count.numerator) if count.denominator == 1 else f"{float(count):g}"
    return f"{shown} × {unit.numerator}/{unit.denominator}"


def bar_length_problems(body: str, meter: str, unit: str, key: str, limit: int = 5) -> list[str]:
    """Lines like "bar 5 holds 12 × 1/8 where M:6/8 takes 6 × 1/8", for the first `limit` bars
    that are too long, or too short away from the tune's ends and its parts' edges."""
    bar_length = parse_meter(meter) if meter else None
    if bar_length is None:
        return []  # free meter (M:none): any length fits
    num, _, den = unit.partition("/")
    try:
        unit_length = Fraction(int(num), int(den))
    except (ValueError, ZeroDivisionError):
        return []
    bars = [bar for bar in read_body(body, meter, unit, key) if bar.text.strip() or bar.duration]
    problems: list[str] = []
    for index, bar in enumerate(bars):
        want = parse_meter(bar.meter) if bar.meter else bar_length
        if want is None or not bar.duration or bar.duration == want:
            continue
        before = bars[index - 1].token if index else "|"
        edge = index in (0, len(bars) - 1) or bar.ending or any(
            mark in token for token in (before, bar.token) for mark in _PART_EDGE)
        if bar.duration < want and edge:
            continue
        number = sum(1 for earlier in bars[: index + 1] if earlier.duration)
        problems.append(f"bar {number} holds {_in_units(bar.duration, unit_length)} where "
                        f"M:{bar.meter or meter} takes {_in_units(want, unit_length)}")
        if len(problems) == limit:
            problems.append("and perhaps more")
            break
    return problems
