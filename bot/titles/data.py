"""The corpus's titles with the corpus's own split: what the title model learns and is scored on.

A tune's titles are its `T:` lines as the book wrote them. Which split a title falls in is the
tune's (`bot.corpus`: a hash of its normalised text, or the NMD's own split), read here through
the same `read_tune_of` the music model's corpus uses, so no title of a held-out tune is
trained on and the NMD's test part is never read.

Essen is left out. Its titles are German song incipits and Chinese pinyin ("Schoe jung is mai
Blut", "Dao caicha"), not the English-language dance and air names of the tradition this product
serves, and its terms allow non-commercial use only (the default music model leaves it out too).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

from bot.titles.text import clean, key


@dataclass
class Titles:
    """Cleaned, de-duplicated titles by split, each with its tune's rhythm ("" when none is named)."""

    train: list[tuple[str, str]] = field(default_factory=list)  # (title, rhythm)
    held_out: list[tuple[str, str]] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)  # T: lines read per source
    dropped: Counter = field(default_factory=Counter)  # why a T: line gave no title

    def fingerprint(self) -> str:
        """SHA-256 of the cleaned titles and rhythms of both splits, in order."""
        digest = hashlib.sha256()
        for title, rhythm in self.train + [("\0", "")] + self.held_out:
            digest.update(f"{title}\t{rhythm}\n".encode())
        return digest.hexdigest()


def raw_titles(raw: str) -> list[str]:
    """Every T: value in a tune's header, as written."""
    from bot.notation.abc import read_tune

    return [value for name, value in read_tune(raw).headers if name == "T" and value.strip()]


def read_titles(with_nmd: bool = True) -> Titles:
    """The default corpus's titles (O'Neill's, Aird's, Ryan's, misc and the NMD), split as its tunes are."""
    from bot.corpus import corpus_sources, is_held_out, raw_reads

    titles = Titles()
    seen: dict[str, str] = {}  # key of a cleaned title -> the split it went to
    for source, raw, read in raw_reads(corpus_sources(with_nmd=with_nmd)):
        if read is None:
            titles.dropped["tune the corpus drops"] += 1
            continue
        if read.part == "test":
            continue  # the NMD's test part: never read for training or tuning
        held = (read.part == "validation") if read.part is not None else is_held_out(read.plain)
        for value in raw_titles(raw):
            titles.counts[source.name] += 1
            cleaned = clean(value)
            if not cleaned:
                titles.dropped["no title left after cleaning"] += 1
            for title in cleaned:
                k = key(title)
                if k in seen:
                    titles.dropped["duplicate"] += 1
                    continue
                seen[k] = "held" if held else "train"
                (titles.held_out if held else titles.train).append((title, read.rhythm or ""))
    return titles
