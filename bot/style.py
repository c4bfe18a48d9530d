"""The style line: which collection a tune is written in the manner of, as an `S:` header line.

Asked for "a hornpipe", a model that only reads `R:hornpipe` writes the style most of its
hornpipes share, stepwise O'Neill's, and never Ryan's leaping ones (43% of the corpus's
hornpipes): a free-running LSTM drifts towards its majority style, since nothing in the
header tells it which one to keep. So in training most tunes (`TrainConfig.styles`) name
their collection on an `S:` line (ABC's "source" field) before `K:`, the rest none (a pasted
tune has none), and the card keeps how many tunes of each rhythm each collection gave. A new
tune's style is then drawn by its seed from that mix for its rhythm, so the tunes of one
rhythm come in the styles, and the shares, people's tunes of it do.

The line is fed to the model only: the tune shown, saved and shared has no `S:` line (it
would name a source the tune does not come from).
"""

from __future__ import annotations

import random
import re
from collections import Counter

from bot.notation.abc import read_tune

FIELD = "S"
# A short tag per collection (bot.corpus names them), in characters every alphabet holds.
TAGS = {
    "oneills1850": "oneill", "airdsAirs": "aird", "ryansMammoth": "ryan", "miscFolk": "misc",
    "nmd": "nmd", "essenFolksong": "essen",
}
# What the chat calls each style.
NAMES = {
    "oneill": "O'Neill's Music of Ireland (1850)", "aird": "Aird's Airs (1782-1803)",
    "ryan": "Ryan's Mammoth Collection (1883)", "misc": "music21's miscellaneous folk tunes",
    "nmd": "the Nottingham Music Database", "essen": "the Essen folk songs", "user": "your own tunes",
}
ANY = ""  # the card's key for tunes that name no rhythm
# The 18th- and 19th-century books: asked for their manner, a tune keeps their conventions
# (reels and hornpipes in 2/2, hornpipes dotted) where today's tunebooks write 4/4, straight.
OLD_BOOKS = frozenset({"oneill", "ryan", "aird"})
TODAY = "nmd"  # the collection written as today's tunebooks write (4/4 reels, straight hornpipes)
# Words that ask for a collection's manner ("a hornpipe like Ryan's", "an air from Aird's").
_ASKED = (
    (re.compile(r"\bryan(?:['’]?s)?\b|\bmammoth\b", re.I), "ryan"),
    (re.compile(r"\bo\s?['’]?\s?neill(?:['’]?s)?\b", re.I), "oneill"),
    (re.compile(r"\baird(?:['’]?s)?\b", re.I), "aird"),
    (re.compile(r"\bnottingham\b|\bnmd\b", re.I), "nmd"),
)
# Below this many tunes of a rhythm, its styles are drawn from the whole corpus's mix.
FEW = 20
_KEY_LINE = re.compile(r"^K:", re.M)


def asked_in(words: str) -> str | None:
    """The style tag a prompt's words ask for ("like Ryan's" -> "ryan"); None when none is named."""
    for pattern, tag in _ASKED:
        if pattern.search(words):
            return tag
    return None


def _mixes(card: dict) -> dict[str, dict[str, int]]:
    """The card's {rhythm: {tag: tunes}}; empty for a model trained without style lines."""
    return ((card or {}).get("styles") or {}).get("counts") or {}


def known(card: dict) -> set[str]:
    """The style tags a model's card can write in (none for a model trained without style lines)."""
    return {tag for mix in _mixes(card).values() for tag in mix}


def tag_of(collection: str) -> str:
    """The style tag of a corpus collection (`bot.corpus` names); extra ABC files are "user"."""
    return TAGS.get(collection, "user")


def line(tag: str) -> str:
    """The header line naming `tag`."""
    return f"{FIELD}:{tag}\n"


def styled(text: str, tag: str) -> str:
    """`text` (a tune, or a header block) with the style line before its first `K:` line.

    ValueError for text with no `K:` line: a style names the music that follows the header.
    """
    found = _KEY_LINE.search(text)
    if found is None:
        raise ValueError("a style line goes before K:, and this text has none")
    return text[: found.start()] + line(tag) + text[found.start():]


def counts(tunes: list[str], collections: list[str]) -> dict[str, dict[str, int]]:
    """{rhythm (ANY for none): {tag: tunes}} over training tunes and their collections, for the card."""
    found: dict[str, Counter] = {}
    for tune, collection in zip(tunes, collections, strict=True):
        found.setdefault(read_tune(tune).get("R") or ANY, Counter())[tag_of(collection)] += 1
    return {rhythm: dict(c.most_common()) for rhythm, c in sorted(found.items())}


def pick(card: dict, rhythm: str | None, seed: int) -> str | None:
    """The style a new tune of `rhythm` is written in, drawn by `seed` from the card's mix for
    that rhythm (the whole corpus's, for a rhythm with fewer than FEW tunes); None for a model
    trained without style lines, whose card has none."""
    by_rhythm = _mixes(card)
    if not by_rhythm:
        return None
    mix = by_rhythm.get(rhythm or ANY, {})
    if sum(mix.values()) < FEW:
        mix = Counter()
        for tally in by_rhythm.values():
            mix.update(tally)
    tags = sorted(mix)
    # A draw of its own, so that the style does not move the seed's draws of the music.
    return random.Random(f"style {seed}").choices(tags, [mix[t] for t in tags])[0]
