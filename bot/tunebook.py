"""A tunebook: every tune of a conversation as one ABC file, numbered X:1, X:2, ... in order."""

from __future__ import annotations

import re

from bot.notation.abc import split_tunes

_X_LINE = re.compile(r"^X:[^\n]*", re.MULTILINE)


def tunebook(tunes: list[str]) -> str:
    """One ABC file of `tunes` in order: renumbered X:, a T: each, a blank line between tunes.

    Each tune's music is kept as written. A text holding several tunes (each from `X:`) gives
    each its own entry, empty texts are skipped, and a blank line inside a tune (which would
    end it in a file) becomes an empty `%` comment line.
    """
    entries = []
    for text in tunes:
        if not text.strip():
            continue
        several = split_tunes(text)
        entries.extend(several if len(several) > 1 else [text])
    return "\n".join(_entry(text.strip("\r\n"), number) for number, text in enumerate(entries, start=1))


def _entry(text: str, number: int) -> str:
    """One tune as a numbered tunebook entry, ending with a blank line."""
    lines = ["%" if not line.strip() else line for line in text.splitlines()]
    header_end = next((i for i, line in enumerate(lines) if line.startswith("K:")), len(lines))
    has_title = any(line.startswith("T:") and line[2:].strip() for line in lines[:header_end])
    x_line = next((i for i, line in enumerate(lines[:header_end]) if _X_LINE.fullmatch(line)), None)
    if x_line is None:
        lines.insert(0, f"X:{number}")
        x_line = 0
    else:
        lines[x_line] = f"X:{number}"
    if not has_title:
        lines.insert(x_line + 1, f"T:Tune {number}")
    return "\n".join(lines) + "\n"
