"""The training tunes: music21's bundled folk collections, the NMD and user ABC; normalise, split.

The default corpus holds only tunes whose terms allow any use: O'Neill's (1850), Ryan's
Mammoth (1883) and Aird's Airs (1782-1803), out of copyright; music21's miscFolk (colonial
American fife tunes and Northumbrian Minstrelsy, 1882, shipped in music21 under its BSD
licence); and the Nottingham Music Database (free use with acknowledgement, `bot.nmd`), read
as the model reads a pasted tune (chord symbols out). Essen (`ESSEN`) may be used for
non-commercial purposes only, so it is added only when asked (`with_essen`), and a model
trained so says so in its card (`terms`).

A tune whose R: line names no rhythm gets one written in where its title or NMD file names it
(`bot.rhythm_labels`): prompts ask for a rhythm by its R: line, and without the labels the
corpus had 4 waltzes and no polka saying so.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

from bot import nmd, style
from bot.notation.abc import TUNE_END, AbcError, normalise, split_tunes
from bot.notation.tokens import model_view
from bot.rhythm_labels import labelled, rhythm_of

# Folk collections in music21's corpus folder that hold ABC, all free for any use.
COLLECTIONS = ("oneills1850", "airdsAirs", "ryansMammoth", "miscFolk")
# The Essen collection: "permission for non-commercial distribution and use of these files in
# music21" (music21/corpus/essenFolksong/license.txt). Only with `with_essen`.
ESSEN = "essenFolksong"
NMD = "nmd"

# Each source's terms, for the model card (`terms`).
TERMS = {
    "oneills1850": "O'Neill's Music of Ireland (1850): out of copyright; ABC shipped in music21 (BSD)",
    "airdsAirs": "Aird's Selection of Scotch, English, Irish and Foreign Airs (1782-1803): out of copyright; ABC shipped in music21 (BSD)",
    "ryansMammoth": "Ryan's Mammoth Collection (1883): out of copyright; ABC shipped in music21 (BSD)",
    "miscFolk": "American fife tunes and Northumbrian Minstrelsy (1882), transcribed by Jack Campin: shipped in music21 (BSD); no other terms stated",
    ESSEN: "Essen Folksong Collection: non-commercial use only (music21/corpus/essenFolksong/license.txt)",
    NMD: nmd.CREDIT,
}

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
    labelled: Counter = field(default_factory=Counter)  # R: lines written in, by where the rhythm was read
    train_sources: list[str] = field(default_factory=list)  # the collection of each training tune

    def vocabulary(self) -> str:
        """All characters of the training text, sorted: the model's alphabet (style lines' too)."""
        chars = set(TUNE_END)
        for tune in self.train:
            chars.update(tune)
        for name in set(self.train_sources):
            chars.update(style.line(style.tag_of(name)))
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
        if self.labelled:
            lines.append("  rhythm written into R: from " + ", ".join(f"{w} {n}" for w, n in self.labelled.items()))
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


class Source(NamedTuple):
    """ABC files to read under one name; `view` rewrites each normalised tune (the NMD's chords
    out) and `split` gives a raw tune's fixed part ('train', 'validation', 'test') where the
    source has one of its own."""

    name: str
    files: list[Path]
    view: Callable[[str], str] | None = None
    split: Callable[[str], str] | None = None


def corpus_sources(extra: list[Path] = (), include_music21: bool = True,
                   also: tuple[str, ...] = (), with_essen: bool = False,
                   with_nmd: bool = False) -> list[Source]:
    """The sources to read: music21's folk collections (Essen too with `with_essen`, and the
    folders `also` names where this music21 has them), the NMD with `with_nmd`, then `extra`."""
    sources: list[Source] = []
    if include_music21:
        root = music21_corpus_dir()
        names = ((ESSEN,) if with_essen else ()) + COLLECTIONS
        sources += [Source(name, abc_files(root / name)) for name in names]
        sources += [Source(name, abc_files(root / name)) for name in also if (root / name).exists()]
    if with_nmd:
        sources.append(Source(NMD, nmd.files(), view=model_view, split=nmd.split_of))
    sources += [Source(f"user:{path}", abc_files(Path(path))) for path in extra]
    return sources


class Read(NamedTuple):
    """One raw tune of a source as the corpus takes it."""

    tune: str  # the training form: normalised, the source's view, the rhythm in its R: line
    plain: str  # the same before the rhythm label: what de-duplication and the split hash
    rhythm: str | None  # its rhythm (bot.rhythm_labels.rhythm_of), None when nothing names one
    rhythm_from: str  # where that was read: "R:", "title", "NMD file"; "" for none
    part: str | None  # the source's own split of it ('train', 'validation', 'test'), or None

    @property
    def labelled_from(self) -> str:
        """Where the rhythm written into its R: line was read ("title", "NMD file"); "" when none was."""
        return self.rhythm_from if self.rhythm_from != "R:" else ""


def read_tune_of(source: Source, path: Path, raw: str) -> Read:
    """A raw tune of `source` (from its file `path`) in its training form; AbcError for a tune
    the model should not learn from. The one way every user of the corpus reads a tune."""
    plain = normalise(raw)
    if source.view is not None:
        plain = source.view(plain)
    rhythm, where = rhythm_of(raw, path.name if source.name == NMD else "")
    tune = labelled(plain, rhythm) if rhythm and where != "R:" else plain
    return Read(tune, plain, rhythm, where, source.split(raw) if source.split is not None else None)


def raw_reads(sources: list[Source]) -> Iterator[tuple[Source, str, Read | None]]:
    """Every raw tune of `sources` with its reading (`read_tune_of`), None where the corpus drops it."""
    for source in sources:
        for path in source.files:
            for raw in read_abc_file(path):
                try:
                    yield source, raw, read_tune_of(source, path, raw)
                except AbcError:
                    yield source, raw, None


def collect(sources: list[Source], held_out: Callable[[str], bool] = is_held_out,
            keep: Callable[[str], bool] | None = None) -> Corpus:
    """The normalised, de-duplicated tunes of `sources` that `keep` accepts, split by `held_out`
    (or by a source's own split: its validation part is held out, its test part left out).

    The split and de-duplication read a tune before its rhythm label (`read_tune_of`), so the
    label never moves a tune between train and held-out, nor keeps two copies of one tune."""
    seen: set[str] = set()
    corpus = Corpus(train=[], held_out=[])
    for source in sources:
        source = Source(*source)
        name = source.name
        kept = 0
        for path in source.files:
            for raw in read_abc_file(path):
                try:
                    read = read_tune_of(source, path, raw)
                except AbcError as err:
                    corpus.dropped[str(err).split(":")[0]] += 1
                    continue
                if read.part == "test":
                    corpus.dropped[f"{name} test split (never trained or tuned on)"] += 1
                    continue
                if read.plain in seen:
                    corpus.dropped["duplicate"] += 1
                    continue
                seen.add(read.plain)
                if keep is not None and not keep(read.tune):
                    corpus.dropped["not kept"] += 1
                    continue
                kept += 1
                if read.labelled_from:
                    corpus.labelled[read.labelled_from] += 1
                out = (read.part == "validation") if read.part is not None else held_out(read.plain)
                (corpus.held_out if out else corpus.train).append(read.tune)
                if not out:
                    corpus.train_sources.append(name)
        corpus.counts[name] = kept
    return corpus


def load_corpus(extra: list[Path] = (), include_music21: bool = True, with_essen: bool = False,
                with_nmd: bool = True) -> Corpus:
    """Read, normalise, de-duplicate and split the default corpus (music21's free collections
    and the NMD's melodies) plus any `extra` ABC; Essen only with `with_essen`."""
    return collect(corpus_sources(extra, include_music21, with_essen=with_essen,
                                  with_nmd=with_nmd and include_music21))


def terms(counts: dict[str, int]) -> dict:
    """The model card's terms: each source's count and terms, and what they make the weights."""
    sources = {name: {"tunes": count, "terms": TERMS.get(name, "given by the user who trained it")}
               for name, count in counts.items()}
    if counts.get(ESSEN):
        weights = "non-commercial use only (trained on the Essen collection)"
    elif any(name.startswith("user:") for name in counts):
        weights = "free for any use as far as the bundled data goes; the user's own ABC decides the rest"
    else:
        weights = "free for any use (MIT, as the code); credit the NMD as its compilers ask"
    return {"sources": sources, "weights": weights, "credit": nmd.CREDIT}


def join_tunes(tunes: list[str]) -> str:
    """Tunes as one text stream, each followed by a blank line (the model's end of tune)."""
    return "".join(t + "\n" for t in tunes)
