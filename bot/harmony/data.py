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
from pathlib import Path

from bot.corpus import HELD_OUT_EVERY, Corpus, collect, corpus_sources
from bot.notation.chords import parse_symbol
from bot.notation.tokens import tokenize

MIN_CHORDS = 4  # fewer symbols than this is a marking, not an accompaniment
HELD_OUT_SHARE = 5  # of every HELD_OUT_EVERY hash values: a quarter of the chord tunes
# music21's corpus folders that hold chord symbols, besides the folk collections.
EXTRA_MUSIC21 = ("nottingham-dataset",)


def chord_count(tune: str) -> int:
    """How many chord symbols (not annotations) a tune's text holds."""
    return sum(1 for tok in tokenize(tune) if tok.kind == "quote" and parse_symbol(tok.text.strip('"')))


def is_held_out_chords(tune: str) -> bool:
    """Whether a normalised chord tune is held out (the corpus hash; a quarter of the values)."""
    return int(hashlib.sha1(tune.encode()).hexdigest(), 16) % HELD_OUT_EVERY < HELD_OUT_SHARE


def load_chord_tunes(extra: list[Path] = (), include_music21: bool = True) -> Corpus:
    """Chord tunes from music21's corpus (and `extra` ABC files or folders), de-duplicated and split."""
    sources = corpus_sources(extra, include_music21, also=EXTRA_MUSIC21)
    return collect(sources, held_out=is_held_out_chords, keep=lambda tune: chord_count(tune) >= MIN_CHORDS)
