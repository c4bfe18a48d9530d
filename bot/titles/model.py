"""The title model: a word trigram over the corpus's titles, a letter 5-gram that spells the
names it has seen once or never, and a light pull towards the titles of the asked-for rhythm.

Why this shape: most words of a tradition's titles are a small stock ("The", "Humours", "of",
"Miss", "'s", "Fancy", "Lass", "Road", "Boys") that a word model strings together the way the
books do, while the places and people ("Ballyloughlin", "McLeod") are open-ended: a word model
alone can only copy the ones it saw, a letter model alone mangles the stock phrases. So a word
seen only once becomes `<name>` in training, and a `<name>` drawn at sampling time is spelled
anew, letter by letter. The whole model is counts in one JSON file, loaded in milliseconds,
with no dependency beyond the standard library.
"""

from __future__ import annotations

import json
import math
import random
import re
from dataclasses import asdict, dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from bot.titles.ngram import BOS, EOS, Ngram
from bot.titles.text import (OFFENSIVE, RHYTHM_WORDS, is_offensive, is_plain, key, key_hash, names_rhythm,
                             title_case, title_tokens, uses_words, words_of, _stem)

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent.parent / "checkpoints" / "titles.json"
FORMAT = "abc-bot title model v1"
NAME = "<name>"  # the word token standing for a word the model spells letter by letter
LETTERS = "abcdefghijklmnopqrstuvwxyz'-"  # a spelled name's alphabet (after BOS, EOS)

# Words a title never ends on: it would read as cut short ("The Boys of", "Miss").
ENDLESS = frozenset("a an the of in on at to for from by with and or but nor as my your our his her "
                    "their its is are was be that this i we you he she it o' o quick "
                    "miss mrs mr sir st capt col dr honble mc mac de la le du".split())

# Rhythm -> the group of titles that pulls its names (few titles per rhythm: related dances share).
GROUPS = {
    "reel": "reel", "fling": "reel", "strathspey": "strathspey",
    "jig": "jig", "slip jig": "jig", "slide": "jig",
    "hornpipe": "hornpipe", "barndance": "hornpipe", "set dance": "hornpipe",
    "march": "march", "air": "air",
    "waltz": "couple dance", "polka": "couple dance", "mazurka": "couple dance",
    "minuet": "couple dance", "schottische": "couple dance",
}


class TitleCheckpointError(ValueError):
    """Raised for a title checkpoint that is missing or does not describe itself; names the path."""


@dataclass(frozen=True)
class TitleConfig:
    """The title model's shape and sampling limits."""

    order: int = 3  # word n-gram order: 3 strings "The Humours of" -> a place; 4 copies whole titles
    discount: float = 0.75  # absolute discount of the word counts (Kneser-Ney's usual value)
    rare: int = 1  # a word seen this often or less in training is a <name>, spelled by letters
    name_order: int = 5  # letter n-gram order of the name speller: long enough for "Bally-"
    name_discount: float = 0.75  # absolute discount of the letter counts
    name_copy: float = 0.5  # share of <name>s that reuse a word seen once in training (a real place)
    max_name_letters: int = 12  # a spelled name longer than this is spelled again
    sample_discount: float = 0.4  # the sampler's back-off (below `discount`: fewer jumps mid-title)
    best_of: int = 4  # fitting draws scored per title; the most title-like (`score_chars`) is kept
    score_chars: int = 8  # a draw scores bits / (chars + this): per char alone favours long titles,
    #                       per title short ones; 8 keeps the mean length at training's (~17 chars)
    rhythm_weight: float = 0.3  # share of each word drawn from the asked-for rhythm's titles
    max_words: int = 8  # a title longer than this is drawn again
    tries: int = 300  # titles drawn before giving up on the model's own (then: a name-only title)

    @classmethod
    def from_dict(cls, data: dict) -> "TitleConfig":
        """The config a card holds; an unknown key is an error."""
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise TitleCheckpointError(f"unknown title-model config keys: {sorted(unknown)}")
        return cls(**data)


def group_of(rhythm: str | None) -> str | None:
    """The title group of a rhythm name ("slip jig" -> "jig"), None when it has none."""
    if not rhythm:
        return None
    from bot.notation.abc import normalise_rhythm  # no torch: the notation package is plain text

    return GROUPS.get(normalise_rhythm(rhythm) or rhythm.strip().lower())


class TitleModel:
    """Word n-grams (all titles, and one per rhythm group), a name speller, and the hashes of
    the corpus's titles that a generated title must not repeat."""

    def __init__(self, config: TitleConfig, vocab: list[str], words: Ngram,
                 groups: dict[str, Ngram], names: Ngram, name_list: list[str], known: set[str],
                 card: dict | None = None):
        assert vocab[BOS] == "<s>" and vocab[EOS] == "</s>" and vocab[2] == NAME, vocab[:3]
        words = words.sampling_with(config.sample_discount)
        groups = {g: m.sampling_with(config.sample_discount) for g, m in groups.items()}
        self.config, self.vocab, self.words, self.groups, self.names = config, vocab, words, groups, names
        self.name_list = name_list  # the words a <name> stood for in training, sorted
        self._name_set = set(name_list)
        self.known = known
        self.card = card or {}
        self.index = {w: i for i, w in enumerate(vocab)}
        # token (as `title_tokens` splits and stems a word) -> ids of vocabulary words holding it,
        # so a prompt's words are masked at each draw instead of whole titles being thrown away.
        self._holding: dict[str, set[int]] = {}
        for i, word in enumerate(vocab[3:], start=3):
            for token in title_tokens(word):
                self._holding.setdefault(token, set()).add(i)
        self._always_masked = {BOS, *self._ids_holding(RHYTHM_WORDS | OFFENSIVE)}

    # ---- training ---------------------------------------------------------------------------

    @classmethod
    def fit(cls, titles: list[tuple[str, str]], config: TitleConfig, known: Iterable[str] = (),
            card: dict | None = None) -> "TitleModel":
        """Count (title, rhythm) pairs; `known` titles (training's, held-out's) are never repeated."""
        freq: dict[str, int] = {}
        for title, _ in titles:
            for w in words_of(title):
                freq[w] = freq.get(w, 0) + 1
        kept = sorted((w for w, n in freq.items() if n > config.rare), key=lambda w: (-freq[w], w))
        vocab = ["<s>", "</s>", NAME] + kept
        index = {w: i for i, w in enumerate(vocab)}
        seqs = [[index.get(w, 2) for w in words_of(t)] for t, _ in titles]
        words = Ngram.fit(seqs, config.order, len(vocab), config.discount)
        groups = {}
        for group in sorted(set(GROUPS.values())):
            mine = [s for s, (_, r) in zip(seqs, titles) if GROUPS.get(r) == group]
            if mine:
                groups[group] = Ngram.fit(mine, config.order, len(vocab), config.discount)
        rare = [w for w, n in sorted(freq.items()) if n <= config.rare and _spell(w)]
        names = Ngram.fit([_spell(w) for w in rare], config.name_order, len(LETTERS) + 2, config.name_discount)
        return cls(config, vocab, words, groups, names, rare, {key_hash(t) for t in known}, card)

    def with_config(self, **changes) -> "TitleModel":
        """The same counts under a config with `changes` that need no refit (sampling, weights)."""
        return TitleModel(replace(self.config, **changes), self.vocab, self.words, self.groups, self.names,
                          self.name_list, self.known, self.card)

    # ---- scoring ----------------------------------------------------------------------------

    def _word_prob(self, history: list[int], token: int, group: str | None) -> float:
        p = self.words.prob(history, token)
        if group in self.groups and self.config.rhythm_weight > 0:
            w = self.config.rhythm_weight
            p = (1 - w) * p + w * self.groups[group].prob(history, token)
        return p

    def bits(self, title: str, rhythm: str | None = None) -> float:
        """-log2 P(title) under the model (its words, the spelling of each <name>, the end)."""
        group = group_of(rhythm)
        history: list[int] = []
        nats = 0.0
        for w in words_of(title):
            token = self.index.get(w, 2)
            nats -= math.log(self._word_prob(history, token, group))
            if token == 2:
                nats -= math.log(self._name_prob(w))
            history.append(token)
        nats -= math.log(self._word_prob(history, EOS, group))
        return nats / math.log(2)

    def _name_prob(self, word: str) -> float:
        """P(spelling | <name>): a reused training name, or one spelled letter by letter."""
        copy = self.config.name_copy * (word in self._name_set) / max(len(self.name_list), 1)
        spelled = _spell(word)
        letters = math.exp(self.names.logprob(spelled)) if spelled else 0.0
        return max(copy + (1 - self.config.name_copy) * letters, 1e-12)

    def bits_per_char(self, titles: list[tuple[str, str]], use_rhythm: bool = True) -> float:
        """Mean bits per character (the end counted as one) over (title, rhythm) pairs."""
        total = sum(self.bits(t, r if use_rhythm else None) for t, r in titles)
        return total / sum(len(t) + 1 for t, _ in titles)

    # ---- sampling ---------------------------------------------------------------------------

    def _ids_holding(self, words: Iterable[str]) -> set[int]:
        """Ids of the vocabulary words holding any of `words` as a whole word, plural or possessive."""
        ids: set[int] = set()
        for word in words:
            for part in re.findall(r"[a-z0-9]+", word.lower()):
                ids |= self._holding.get(part, set()) | self._holding.get(_stem(part), set())
        return ids

    def _spell_name(self, rng: random.Random) -> str | None:
        """A name for a <name>: a training one reused, or a new one spelled; None when it runs long."""
        if self.name_list and rng.random() < self.config.name_copy:
            return self.name_list[rng.randrange(len(self.name_list))]
        letters: list[int] = []
        while len(letters) <= self.config.max_name_letters:
            t = self.names.sample(letters, rng, lambda t: True)
            if t is None:
                return None
            if t == EOS:
                word = "".join(LETTERS[i - 2] for i in letters)
                return word if re.fullmatch(r"[a-z][a-z'-]*[a-z]s?|[a-z]{2,}", word) else None
            letters.append(t)
        return None

    def _draw(self, rng: random.Random, group: str | None, masked: set[int]) -> str | None:
        """One title from the model with the `masked` word ids never drawn; None when it runs long."""
        history: list[int] = []
        out: list[str] = []
        allowed = lambda t: t not in masked  # noqa: E731
        for _ in range(self.config.max_words + 1):
            model = self.words
            if group in self.groups and rng.random() < self.config.rhythm_weight:
                model = self.groups[group]
            token = model.sample(history, rng, allowed)
            if token is None:
                return None
            if token == EOS:
                return title_case(out) if out else None
            if token == 2:
                name = self._spell_name(rng)
                if name is None:
                    return None
                out.append(name)
            else:
                out.append(self.vocab[token])
            history.append(token)
        return None

    def make_title(self, seed: int, rhythm: str | None = None, avoid: Iterable[str] = (),
                   banned_words: Iterable[str] = ()) -> str:
        """A title drawn from `seed` (the same seed and arguments give the same title): plain
        text, at most MAX_CHARS, none of `banned_words` in it, not in `avoid` (any case) and
        not a title of the corpus."""
        banned = [w for w in banned_words if re.search(r"[A-Za-z0-9]", w)]
        avoid_keys = {key(t) for t in avoid}
        masked = self._always_masked | self._ids_holding(banned)
        group = group_of(rhythm)
        rng = random.Random(int(seed))  # int(): a TypeError for None, never a clock-seeded draw

        def fits(title: str | None) -> bool:
            return (title is not None and is_plain(title) and reads_whole(title) and key(title) not in avoid_keys
                    and key_hash(title) not in self.known and not uses_words(title, banned)
                    and not is_offensive(title))

        found: list[str] = []
        for _ in range(self.config.tries):
            title = self._draw(rng, group, masked)
            if fits(title):
                found.append(title)
                if len(found) == self.config.best_of:
                    break
        if found:
            # The most title-like of the draws (first on a tie).
            return min(found, key=lambda t: self.bits(t, rhythm) / (len(t) + self.config.score_chars))
        # Every draw failed (a conversation that has used up the likely titles, or a prompt
        # banning the stock words): names alone, the way many tunes are named after a person.
        for _ in range(100 * self.config.tries):
            first, second = self._spell_name(rng), self._spell_name(rng)
            if first and second:
                title = title_case([first, second + ("'s" if not second.endswith("s") else "")])
                if fits(title):
                    return title
        raise RuntimeError(f"no title fits after {101 * self.config.tries} draws (seed {seed})")

    # ---- the checkpoint ---------------------------------------------------------------------

    def to_json(self) -> dict:
        """The model as its self-describing card: config, vocabulary, counts, known-title hashes."""
        return dict(self.card, format=FORMAT, config=asdict(self.config), vocab=self.vocab,
                    letters=LETTERS, words=self.words.to_json(),
                    groups={g: m.to_json() for g, m in sorted(self.groups.items())},
                    names=self.names.to_json(), name_list=" ".join(self.name_list), known_title_hashes=" ".join(sorted(self.known)))

    @classmethod
    def from_json(cls, data: dict) -> "TitleModel":
        """The model `to_json` wrote."""
        if data.get("format") != FORMAT:
            raise TitleCheckpointError(f"not a title model card (format {data.get('format')!r}, want {FORMAT!r})")
        if data.get("letters") != LETTERS:
            raise TitleCheckpointError(f"name alphabet {data.get('letters')!r} differs from this code's {LETTERS!r}")
        card = {k: v for k, v in data.items()
                if k not in ("format", "config", "vocab", "letters", "words", "groups", "names", "name_list",
                              "known_title_hashes")}
        return cls(TitleConfig.from_dict(data["config"]), list(data["vocab"]), Ngram.from_json(data["words"]),
                   {g: Ngram.from_json(m) for g, m in data["groups"].items()}, Ngram.from_json(data["names"]),
                   data["name_list"].split(), set(data["known_title_hashes"].split()), card)

    def save(self, path: Path | str) -> None:
        """Write the card (through a temporary name, so an interrupted write leaves no torn file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), separators=(",", ":")) + "\n")
        tmp.replace(path)


def reads_whole(title: str) -> bool:
    """Whether a title reads as a whole name: it ends on a word that is not a small one
    ("The Boys of" does not) and holds a word beyond the small ones ("The" alone does not)."""
    words = words_of(title)
    return (bool(words) and words[-1] not in ENDLESS and len(words[-1]) > 1
            and any(w not in ENDLESS for w in words) and not names_rhythm(title))


def _spell(word: str) -> list[int]:
    """A word as letter ids (2.. in LETTERS order); letters outside LETTERS are dropped."""
    return [LETTERS.index(c) + 2 for c in word.lower() if c in LETTERS]


def load(path: Path | str = DEFAULT_CHECKPOINT) -> TitleModel:
    """The title model a card holds; TitleCheckpointError names a missing or unreadable file."""
    path = Path(path)
    if not path.is_file():
        raise TitleCheckpointError(f"{path}: title checkpoint missing (python -m bot.titles --train)")
    try:
        data = json.loads(path.read_text())
        return TitleModel.from_json(data)
    except (ValueError, KeyError, TypeError) as err:
        raise TitleCheckpointError(f"{path}: not a title model card ({err})") from err


@lru_cache(maxsize=2)
def load_cached(path: str = str(DEFAULT_CHECKPOINT)) -> TitleModel:
    """`load`, once per process and path."""
    return load(path)


def make_title(seed: int, rhythm: str | None = None, avoid: Iterable[str] = (),
               banned_words: Iterable[str] = ()) -> str:
    """A title from the shipped model (loaded on first use): see `TitleModel.make_title`."""
    return load_cached().make_title(seed, rhythm, avoid, banned_words)
