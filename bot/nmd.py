"""The Nottingham Music Database (`data/nmd/`): its tunes, and the one fixed split every use of it shares.

The language model and the harmoniser both learn from NMD and are both scored on it, so the
split is made once, here: a tune's part is read from a hash of its text as written in the file
(never of a normalised form, which later code may change), one tenth each to validation and
test. Nothing is tuned on the test part.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from bot.notation.abc import split_tunes

NMD_DIR = Path(__file__).resolve().parent.parent / "data" / "nmd"
SPLITS = ("train", "validation", "test")
CREDIT = ("Nottingham Music Database: compiled by Eric Foxley, converted to ABC by Jay Glanville, "
          "published by James Allwright; free to use with acknowledgement (data/nmd/NOTICE)")


@dataclass(frozen=True)
class NmdTune:
    """One tune as written in its file, with the file's name and its split."""

    text: str
    file: str
    split: str


def split_of(text: str) -> str:
    """'train', 'validation' or 'test' for a tune's text as written (stable across machines)."""
    bucket = int(hashlib.sha1(text.strip().encode("latin-1", "replace")).hexdigest(), 16) % 10
    return "test" if bucket == 0 else "validation" if bucket == 1 else "train"


def files(directory: Path = NMD_DIR) -> list[Path]:
    """The NMD's ABC files, sorted; FileNotFoundError names the folder when it holds none."""
    found = sorted(directory.glob("*.abc"))
    if not found:
        raise FileNotFoundError(f"{directory}: no NMD .abc files (see data/nmd/README.md)")
    return found


def read(directory: Path = NMD_DIR) -> list[NmdTune]:
    """Every NMD tune in file order, with its split."""
    tunes = []
    for path in files(directory):
        for text in split_tunes(path.read_bytes().decode("latin-1")):
            tunes.append(NmdTune(text, path.name, split_of(text)))
    return tunes
