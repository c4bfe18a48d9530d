"""Human chords to learn from and to score against: tunes whose text carries chord symbols.

music21's folk collections hold almost none: what music21 reads as chord symbols in
O'Neill's and Ryan's are fingerings ("4"), "D.C." and "Segno" marks. Its corpus does ship
two Nottingham Music Database tunes with real guitar chords, and any ABC files given with
--abc are read the same way. A tune counts when it has at least MIN_CHORDS chord symbols.

The split follows bot.corpus: a SHA-1 of the normalised tune decides. A quarter of the chord
tunes are held out (hash % 20 below 5), a superset of the corpus' own held-out twentieth, so
the held-out set is large enough to score.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from bot.corpus import COLLECTIONS, HELD_OUT_EVERY, abc_files, music21_corpus_dir, read_abc_file
from bot.notation.chords import parse_symbol
from bot.notation.abc import AbcError, normalise
from bot.notation.tokens import tokenize

MIN_CHORDS = 4  # fewer symbols than this is a marking, not an accompaniment
HELD_OUT_SHARE = 5  # of every HELD_OUT_EVERY hash values: a quarter of the chord tunes
# music21's corpus folders that hold chord symbols, besides the folk collections.
EXTRA_MUSIC21 = ("nottingham-dataset",)


@dataclass
class ChordTunes:
    """Normalised tunes with human chords, split like the corpus."""

    train: list[str] = field(default_factory=list)
    held_out: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # chord tunes per source

    def fingerprint(self) -> str:
        """SHA-256 of the training and held-out text."""
        digest = hashlib.sha256()
        for tune in self.train + ["\0"] + self.held_out:
            digest.update(tune.encode())
        return digest.hexdigest()


def chord_count(tune: str) -> int:
    """How many chord symbols (not annotations) a tune's text holds."""
    return sum(1 for tok in tokenize(tune) if tok.kind == "quote" and parse_symbol(tok.text.strip('"')))


def is_held_out_chords(tune: str) -> bool:
    """Whether a normalised chord tune is held out (the corpus hash; a quarter of the values)."""
    return int(hashlib.sha1(tune.encode()).hexdigest(), 16) % HELD_OUT_EVERY < HELD_OUT_SHARE


def load_chord_tunes(extra: list[Path] = (), include_music21: bool = True) -> ChordTunes:
    """Chord tunes from music21's corpus (and `extra` ABC files or folders), de-duplicated and split."""
    sources: list[tuple[str, list[Path]]] = []
    if include_music21:
        root = music21_corpus_dir()
        for name in COLLECTIONS + EXTRA_MUSIC21:
            if (root / name).exists():
                sources.append((name, abc_files(root / name)))
    for path in extra:
        sources.append((str(path), abc_files(Path(path))))
    tunes = ChordTunes()
    seen: set[str] = set()
    for name, files in sources:
        kept = 0
        for path in files:
            for raw in read_abc_file(path):
                try:
                    tune = normalise(raw)
                except AbcError:
                    continue
                if tune in seen or chord_count(tune) < MIN_CHORDS:
                    continue
                seen.add(tune)
                kept += 1
                (tunes.held_out if is_held_out_chords(tune) else tunes.train).append(tune)
        tunes.counts[name] = kept
    return tunes
