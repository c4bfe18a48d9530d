"""File names for a tune's downloads, made from its title: "The Humours of X" -> the-humours-of-x.pdf.

A title is user text, so the name is built only from ASCII letters and digits joined by "-":
no path separator, dot, space or control character can reach a path, and render.render's
stem check (`[A-Za-z0-9_-]{1,64}`) always passes. Accented letters keep their base letter
(Éire -> eire); a title with nothing left (only symbols, another script) is "tune".
"""

from __future__ import annotations

import re
import unicodedata

MAX_SLUG = 48  # characters: the name stays readable in a download bar, and a suffix still fits
FALLBACK = "tune"


def slug(title: str | None, limit: int = MAX_SLUG) -> str:
    """An ASCII file stem for `title` (lower case, words joined by "-"); "tune" when none is left."""
    ascii_text = unicodedata.normalize("NFKD", str(title or "")).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    stem = ""
    for word in words:  # whole words while they fit; a first word longer than the limit is cut
        joined = f"{stem}-{word}" if stem else word
        if len(joined) > limit:
            stem = stem or word[:limit]
            break
        stem = joined
    return stem or FALLBACK


def title_of(abc: str | None) -> str:
    """The first T: line's text of a tune ("" for none)."""
    for line in str(abc or "").splitlines():
        if line.startswith("T:") and line[2:].strip():
            return line[2:].strip()
        if line.startswith("K:"):
            break
    return ""


def tune_stem(abc: str | None) -> str:
    """The file stem for a tune's files: its title's slug, or "tune"."""
    return slug(title_of(abc))
