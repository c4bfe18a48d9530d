"""Human chords to learn from and to score against: the Nottingham Music Database's split.

The tunes and their one fixed split come from bot.nmd (shared with the language model):
the harmoniser learns on `train`, is chosen on `validation`, and is scored on `test` by
bench/chords.py only. Each tune is read with the repo's tokenizer (bot.harmony.reading), after
three repairs of the original NMD spellings, each counted:

* `"/@<.5A7"`: a chord meant to sound a fraction of a beat off its note; the chord is kept,
  on the note it stands before (junk removed).
* `"G/dim"`, `"D#/dim"`: the NMD's way of writing a diminished chord; read as `"Gdim"`.
* lower-case symbols (`"f#"`, `"b"`, `"D/f+"`'s bass): walking-bass notes between chords. The
  chord reader ignores them (they are not chords), and they are counted as dropped.

Dropped whole: tunes with more than one voice (`V:`; the harmoniser reads one melody), tunes
with fewer than MIN_CHORDS chord symbols (a marking, not an accompaniment), and any tune the
reader refuses (counted by reason).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field

from bot import nmd
from bot.harmony.reading import HarmonyError, Reading, read
from bot.notation.chords import parse_symbol
from bot.notation.tokens import tokenize

MIN_CHORDS = 4  # fewer chord symbols than this is a marking, not an accompaniment
# `"/@<.5A7"`: NMD2ABC's "this chord is displaced by .5 of a beat" prefix.
_DISPLACED = re.compile(r'"/@[<>]\.\d+')
# `"G/dim"`: NMD's diminished chord.
_SLASH_DIM = re.compile(r'"([A-G][#b]?)/dim"')
_VOICE = re.compile(r"(?m)^V:")


@dataclass
class ChordTunes:
    """The NMD read for the harmoniser: readings per split, and what was repaired or dropped."""

    splits: dict[str, list[Reading]] = field(default_factory=dict)  # "train" | "validation" | "test"
    texts: dict[str, list[str]] = field(default_factory=dict)  # each reading's tune text, repaired
    originals: dict[str, list[str]] = field(default_factory=dict)  # ... as written in the file (its hash is its split)
    counts: Counter = field(default_factory=Counter)  # repairs and drops, by name

    def fingerprint(self) -> str:
        """SHA-1 of every kept tune's split and text: changes when the data or the split does."""
        digest = hashlib.sha1()
        for split in nmd.SPLITS:
            for text in self.texts.get(split, []):
                digest.update(f"{split}\n{text}\n".encode("utf-8", "replace"))
        return digest.hexdigest()[:16]

    def summary(self) -> str:
        """One line: tunes kept per split and what was repaired or dropped."""
        kept = ", ".join(f"{s} {len(self.splits.get(s, []))}" for s in nmd.SPLITS)
        other = ", ".join(f"{name} {n}" for name, n in sorted(self.counts.items()))
        return f"NMD tunes kept: {kept}; {other}"


def repair(text: str, counts: Counter) -> str:
    """The NMD tune with displaced and slash-dim chord spellings made readable (counted in `counts`)."""
    text, displaced = _DISPLACED.subn('"', text)
    text, dims = _SLASH_DIM.subn(r'"\1dim"', text)
    counts["chords un-displaced (/@)"] += displaced
    counts["slash-dim chords read as dim"] += dims
    return text


def chord_symbols(tune: str) -> tuple[int, int]:
    """(chord symbols, other quoted strings) in a tune's text."""
    chords = other = 0
    for tok in tokenize(tune):
        if tok.kind == "quote":
            if parse_symbol(tok.text.strip('"')) is not None:
                chords += 1
            else:
                other += 1
    return chords, other


def load_chord_tunes(splits: tuple[str, ...] = nmd.SPLITS) -> ChordTunes:
    """The NMD tunes of `splits` read into chord slots, with repairs and drops counted."""
    data = ChordTunes()
    for split in splits:
        data.splits[split], data.texts[split], data.originals[split] = [], [], []
    for tune in nmd.read():
        if tune.split not in data.splits:
            continue
        counts = data.counts
        counts["tunes read"] += 1
        if _VOICE.search(tune.text):
            counts["dropped: more than one voice"] += 1
            continue
        text = repair(tune.text, counts)
        chords, other = chord_symbols(text)
        counts["chord symbols"] += chords
        counts["quoted non-chords dropped (walking bass, junk)"] += other
        if chords < MIN_CHORDS:
            counts[f"dropped: under {MIN_CHORDS} chords"] += 1
            continue
        try:
            reading = read(text)
        except HarmonyError as err:
            counts[f"dropped: {err}"] += 1
            continue
        data.splits[tune.split].append(reading)
        data.texts[tune.split].append(text)
        data.originals[tune.split].append(tune.text)
    return data


def learning_tunes(data: ChordTunes) -> list[Reading]:
    """The train and validation tunes together (the final refit learns on both); never a test tune.

    ValueError when `data` holds test tunes, or a tune whose text hashes to the test split
    (bot.nmd.split_of) sits in another split: the test tunes must stay unseen by any model.
    """
    if data.splits.get("test"):
        raise ValueError(f"{len(data.splits['test'])} test tunes loaded: the refit must not see them")
    tunes = []
    for split in ("train", "validation"):
        for reading, original in zip(data.splits.get(split, []), data.originals.get(split, [])):
            if nmd.split_of(original) != split:
                raise ValueError(f"a tune filed under {split} hashes to {nmd.split_of(original)}: "
                                 f"{original.strip().splitlines()[0][:60]!r}")
            tunes.append(reading)
        if len(data.originals.get(split, [])) != len(data.splits.get(split, [])):
            raise ValueError(f"{split}: {len(data.splits.get(split, []))} tunes but "
                             f"{len(data.originals.get(split, []))} texts to check their split")
    return tunes
