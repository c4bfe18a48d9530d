"""The training tunes: read music21's bundled folk collections and user ABC, normalise, split."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from bot.notation.abc import TUNE_END, AbcError, normalise, split_tunes

# Folk collections in music21's corpus folder that hold ABC.
COLLECTIONS = ("essenFolksong", "oneills1850", "airdsAirs", "ryansMammoth", "miscFolk")

# One tune in HELD_OUT_EVERY goes to the held-out set (about 5%), chosen by a hash of its
# normalised text so the split is the same on every machine and never cuts a tune.
HELD_OUT_EVERY = 20


class CorpusError(ValueError):
    """Raised for an ABC path that cannot be read as ABC; the message names the path."""


@dataclass
class Corpus:
    """Normalised, de-duplicated tunes split into training and held-out sets."""

    train: list[str]
    held_out: list[str]
    counts: dict[str, int] = field(default_factory=dict)  # kept tunes per collection
    dropped: Counter = field(default_factory=Counter)  # reasons tunes were left out

    def vocabulary(self) -> str:
        """All characters of the training text, sorted: the model's alphabet."""
        chars = set(TUNE_END)
        for tune in self.train:
            chars.update(tune)
        return "".join(sorted(chars))

    def fingerprint(self) -> str:
        """SHA-256 of the training and held-out text: names the data a checkpoint saw."""
        digest = hashlib.sha256()
        for tune in self.train + ["\0"] + self.held_out:
            digest.update(tune.encode())
        return digest.hexdigest()

    def summary(self) -> str:
        """A few lines for the log: tunes per collection, characters, vocabulary."""
        lines = [f"  {name}: {count} tunes" for name, count in self.counts.items()]
        chars = sum(len(t) + 1 for t in self.train)
        lines.append(f"  train {len(self.train)} tunes, {chars:,} chars; held out {len(self.held_out)}")
        lines.append(f"  vocabulary {len(self.vocabulary())} chars: {self.vocabulary()!r}")
        if self.dropped:
            lines.append("  dropped: " + ", ".join(f"{r} {n}" for r, n in self.dropped.most_common()))
        return "\n".join(lines)


def music21_corpus_dir() -> Path:
    """The corpus folder inside the installed music21 package."""
    import music21  # imported here: reading the corpus is the only use, and it is slow to import

    return Path(music21.__file__).parent / "corpus"


def abc_files(path: Path) -> list[Path]:
    """The ABC files at `path`: the file itself, or every *.abc below a folder, sorted."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() == ".abc" and p.is_file())
        if not files:
            raise CorpusError(f"{path}: folder holds no .abc files")
        return files
    if not path.exists():
        raise CorpusError(f"{path}: no such file or folder")
    return [path]


def read_abc_file(path: Path) -> list[str]:
    """The raw tunes in one ABC file (latin-1 text); CorpusError for binary or non-ABC files."""
    data = path.read_bytes()
    if b"\0" in data[:65536]:
        raise CorpusError(f"{path}: binary file, not ABC text")
    tunes = split_tunes(data.decode("latin-1"))
    if not tunes:
        raise CorpusError(f"{path}: no tune found (an ABC tune starts with an X: line)")
    return tunes


def is_held_out(tune: str) -> bool:
    """Whether a normalised tune belongs to the held-out set."""
    return int(hashlib.sha1(tune.encode()).hexdigest(), 16) % HELD_OUT_EVERY == 0


def corpus_sources(extra: list[Path] = (), include_music21: bool = True,
                   also: tuple[str, ...] = ()) -> list[tuple[str, list[Path]]]:
    """(name, ABC files) to read: music21's folk collections (and the folders `also` names
    where this music21 has them), then each of `extra`."""
    sources: list[tuple[str, list[Path]]] = []
    if include_music21:
        root = music21_corpus_dir()
        sources += [(name, abc_files(root / name)) for name in COLLECTIONS]
        sources += [(name, abc_files(root / name)) for name in also if (root / name).exists()]
    sources += [(f"user:{path}", abc_files(Path(path))) for path in extra]
    return sources


def collect(sources: list[tuple[str, list[Path]]], held_out: Callable[[str], bool] = is_held_out,
            keep: Callable[[str], bool] | None = None) -> Corpus:
    """The normalised, de-duplicated tunes of `sources` that `keep` accepts, split by `held_out`."""
    seen: set[str] = set()
    corpus = Corpus(train=[], held_out=[])
    for name, files in sources:
        kept = 0
        for path in files:
            for raw in read_abc_file(path):
                try:
                    tune = normalise(raw)
                except AbcError as err:
                    corpus.dropped[str(err).split(":")[0]] += 1
                    continue
                if tune in seen:
                    corpus.dropped["duplicate"] += 1
                    continue
                seen.add(tune)
                if keep is not None and not keep(tune):
                    corpus.dropped["not kept"] += 1
                    continue
                kept += 1
                (corpus.held_out if held_out(tune) else corpus.train).append(tune)
        corpus.counts[name] = kept
    return corpus


def load_corpus(extra: list[Path] = (), include_music21: bool = True) -> Corpus:
    """Read, normalise, de-duplicate and split the music21 folk tunes plus any `extra` ABC."""
    return collect(corpus_sources(extra, include_music21))


def join_tunes(tunes: list[str]) -> str:
    """Tunes as one text stream, each followed by a blank line (the model's end of tune)."""
    return "".join(t + "\n" for t in tunes)
